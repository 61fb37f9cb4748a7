// tl.sequential: construction (names as PyTorch's state_dict, clear errors for shapes that do not
// fit), the model contract (loss, gradients against central differences in float64, predict,
// evaluate), training with the Solver, checkpoints, freezing and the flat parameter vector.
import { describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { initAndCheckLeaks } from "./helpers.js";

initAndCheckLeaks({ float64: true });

/**
 * A small convnet with every module kind that has kernels today, on (N, 1, 8, 8) images. (Convs
 * before a batch norm have no bias, as in ResNet: the normalization cancels it, so its gradient is
 * zero and a gradient check of it compares rounding noise.)
 */
function smallConvNet(options: Partial<tl.SequentialOptions> = {}): tl.Sequential {
  return tl.sequential(
    [
      tl.nn.conv2d(1, 4, 3, { padding: 1, bias: false }),
      tl.nn.batchNorm2d(4),
      tl.nn.relu(),
      tl.nn.residual(
        [tl.nn.conv2d(4, 6, 3, { stride: 2, padding: 1, bias: false }), tl.nn.batchNorm2d(6), tl.nn.relu(), tl.nn.conv2d(6, 6, 3, { padding: 1, bias: false }), tl.nn.batchNorm2d(6)],
        [tl.nn.conv2d(4, 6, 1, { stride: 2, bias: false }), tl.nn.batchNorm2d(6)],
      ),
      tl.nn.relu(),
      tl.nn.conv2d(6, 6, 3, { padding: 1, groups: 6 }),
      tl.nn.tanh(),
      tl.nn.maxPool2d(2),
      tl.nn.flatten(),
      tl.nn.dropout(0.25),
      tl.nn.linear(6 * 2 * 2, 3),
    ],
    { inputShape: [1, 8, 8], seed: 7, ...options },
  );
}

function labels(n: number, classes: number, salt: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => (i * 7 + salt) % classes);
}

describe("construction", () => {
  it("names parameters and buffers as PyTorch's state_dict does, in its order", () => {
    const net = smallConvNet();
    expect(net.parameterNames).toEqual([
      "0.weight", "1.weight", "1.bias",
      "3.body.0.weight", "3.body.1.weight", "3.body.1.bias", "3.body.3.weight", "3.body.4.weight", "3.body.4.bias",
      "3.shortcut.0.weight", "3.shortcut.1.weight", "3.shortcut.1.bias",
      "5.weight", "5.bias", "10.weight", "10.bias",
    ]);
    expect(Object.keys(net.params)).toEqual(net.parameterNames);
    expect(Object.keys(net.buffers)).toEqual([
      "1.running_mean", "1.running_var", "3.body.1.running_mean", "3.body.1.running_var", "3.body.4.running_mean", "3.body.4.running_var",
      "3.shortcut.1.running_mean", "3.shortcut.1.running_var",
    ]);
    expect(net.params["5.weight"].shape).toEqual([6, 1, 3, 3]); // depthwise: (out, in / groups, k, k)
    expect(net.params["10.weight"].shape).toEqual([3, 24]); // PyTorch's (out_features, in_features)
    expect(Array.from(net.buffers["1.running_var"].toArray())).toEqual([1, 1, 1, 1]);
    expect(net.config.numClasses).toBe(3);
    // PyTorch's default init: |w| <= 1/sqrt(fanIn), and not all equal.
    const w = net.params["0.weight"].toArray();
    expect(Math.max(...Array.from(w, Math.abs))).toBeLessThanOrEqual(1 / 3);
    expect(new Set(w).size).toBe(w.length);
    net.dispose();
  });

  it("the same seed gives the same parameters; another seed others", () => {
    const [a, b, c] = [smallConvNet(), smallConvNet(), smallConvNet({ seed: 8 })];
    expect(Array.from(a.getParameters())).toEqual(Array.from(b.getParameters()));
    expect(Array.from(a.getParameters())).not.toEqual(Array.from(c.getParameters()));
    for (const n of [a, b, c]) n.dispose();
  });

  it("a module whose input does not fit is named with its index, what it expects and what it got; the modules stay usable", () => {
    const conv = tl.nn.conv2d(1, 4, 3);
    const head = tl.nn.linear(100, 10);
    expect(() => tl.sequential([conv, tl.nn.flatten(), head], { inputShape: [1, 8, 8] })).toThrow(
      /^Sequential: module 2: Linear\(in_features=100, out_features=10, bias=true, init=pytorch\) expects \(N, 100\) inputs \(flatten images first: tl.nn.flatten\(\)\) \(got \[144\]\)$/,
    );
    expect(() => tl.sequential([tl.nn.conv2d(3, 4, 3)], { inputShape: [1, 8, 8] })).toThrow(/module 0: Conv2d\(.*\) expects \(N, 3, H, W\) inputs \(got \[1, 8, 8\]\)/);
    expect(() => tl.sequential([tl.nn.residual([tl.nn.conv2d(1, 2, 3, { padding: 1 })])], { inputShape: [1, 8, 8] })).toThrow(
      /module 0: Residual: the body outputs \[2, 8, 8\] but the shortcut passes the input \[1, 8, 8\]: give a shortcut/,
    );
    expect(() => tl.sequential([tl.nn.residual([tl.nn.conv2d(1, 1, 3, { padding: 1 }), tl.nn.linear(5, 5)])], { inputShape: [1, 8, 8] })).toThrow(
      /^Sequential: module 0\.body\.1: Linear/,
    );
    expect(() => tl.sequential([conv, tl.nn.relu()], { inputShape: [1, 8, 8] })).toThrow(/the last module must give class scores \(N, numClasses\) but gives \(N, 4, 6, 6\)/);
    // After the failures the same module objects build a model.
    const net = tl.sequential([conv, tl.nn.flatten(), tl.nn.linear(144, 10)], { inputShape: [1, 8, 8], seed: 1 });
    expect(() => tl.sequential([conv, tl.nn.flatten(), tl.nn.linear(144, 10)], { inputShape: [1, 8, 8] })).toThrow(/module 0 \(Conv2d\) already belongs to another model/);
    net.dispose();
    tl.sequential([conv, tl.nn.flatten(), tl.nn.linear(144, 10)], { inputShape: [1, 8, 8] }).dispose(); // disposed: free again
  });

  it("refuses bad options and module arguments with errors that name them", () => {
    expect(() => tl.sequential([tl.nn.flatten()], {} as tl.SequentialOptions)).toThrow(/options.inputShape must be the shape of one input/);
    expect(() => tl.sequential([] as tl.nn.Module[], { inputShape: [4] })).toThrow(/modules must be a non-empty array/);
    expect(() => tl.sequential([{} as tl.nn.Module], { inputShape: [4] })).toThrow(/modules\[0\] must be a module \(tl.nn.linear\(...\), ...\) or a module spec/);
    expect(() => tl.sequential([{ type: "Conv3d", args: {} } as unknown as tl.nn.Module], { inputShape: [4] })).toThrow(/modules\[0\]: unknown module type "Conv3d" \(known: Linear, Conv2d/);
    expect(() => tl.nn.conv2d(4, 6, 3, { groups: 4 })).toThrow(/inChannels \(4\) and outChannels \(6\) must both divide by options.groups \(4\)/);
    expect(() => tl.nn.linear(0, 3)).toThrow(/nn.linear: inFeatures/);
    expect(() => tl.nn.dropout(1)).toThrow(/nn.dropout: p/);
    expect(() => tl.nn.conv2d(1, 1, 3, { padding: -1 })).toThrow(/options.padding/);
    expect(() => tl.nn.batchNorm2d(3, { momentum: 2 })).toThrow(/options.momentum/);
  });
});

describe("the model contract", () => {
  it("float64: every parameter's gradient matches central differences (batch norm, residual, groups, dropout, L2)", () => {
    const net = smallConvNet({ dtype: "float64", reg: 0.01 });
    const X = tl.randn([5, 1, 8, 8], { seed: 3, dtype: "float64" });
    const errors = tl.checkModelGradients(net, X, labels(5, 3, 1), { h: 1e-5 });
    expect(Object.keys(errors)).toEqual(net.parameterNames);
    for (const [name, e] of Object.entries(errors)) expect(e, name).toBeLessThan(1e-7);
    X.dispose();
    net.dispose();
  });

  it("loss(X) gives scores the caller owns, in test mode (running statistics, no dropout); predict is their argmax", () => {
    const net = smallConvNet();
    const X = tl.randn([7, 1, 8, 8], { seed: 4 });
    const a = net.loss(X);
    const b = net.loss(X);
    expect(a.shape).toEqual([7, 3]);
    expect(Array.from(a.toArray())).toEqual(Array.from(b.toArray())); // no dropout, no statistics change
    const scores = a.toArray();
    const argmax = Array.from({ length: 7 }, (_, i) => [0, 1, 2].reduce((best, j) => (scores[i * 3 + j] > scores[i * 3 + best] ? j : best), 0));
    expect(Array.from(net.predict(X, { batchSize: 3 }))).toEqual(argmax);
    for (const t of [a, b, X]) t.dispose();
    net.dispose();
  });

  it("evaluate gives the test-mode loss, the accuracy and the accuracy per class", () => {
    const net = smallConvNet();
    const X = tl.randn([10, 1, 8, 8], { seed: 5 });
    const y = labels(10, 3, 0);
    const result = net.evaluate(X, y, { batchSize: 4 });
    const predicted = net.predict(X);
    const correct = predicted.filter((p, i) => p === y[i]).length;
    expect(result.accuracy).toBe(correct / 10);
    const scores = net.loss(X);
    const [loss, dscores] = tl.softmaxLoss(scores, y);
    dscores.dispose();
    expect(result.loss).toBeCloseTo(loss, 6);
    expect(result.perClass).toHaveLength(3);
    for (let c = 0; c < 3; c++) {
      const rows = [...y.keys()].filter((i) => y[i] === c);
      expect(result.perClass[c]).toBe(rows.filter((i) => predicted[i] === c).length / rows.length);
    }
    scores.dispose();
    X.dispose();
    net.dispose();
  });
});
