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
        [
          tl.nn.conv2d(4, 6, 3, { stride: 2, padding: 1, bias: false }),
          tl.nn.batchNorm2d(6),
          tl.nn.relu(),
          tl.nn.conv2d(6, 6, 3, { padding: 1, bias: false }),
          tl.nn.batchNorm2d(6),
        ],
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
      "0.weight",
      "1.weight",
      "1.bias",
      "3.body.0.weight",
      "3.body.1.weight",
      "3.body.1.bias",
      "3.body.3.weight",
      "3.body.4.weight",
      "3.body.4.bias",
      "3.shortcut.0.weight",
      "3.shortcut.1.weight",
      "3.shortcut.1.bias",
      "5.weight",
      "5.bias",
      "10.weight",
      "10.bias",
    ]);
    expect(Object.keys(net.params)).toEqual(net.parameterNames);
    expect(Object.keys(net.buffers)).toEqual([
      "1.running_mean",
      "1.running_var",
      "3.body.1.running_mean",
      "3.body.1.running_var",
      "3.body.4.running_mean",
      "3.body.4.running_var",
      "3.shortcut.1.running_mean",
      "3.shortcut.1.running_var",
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
    expect(() => tl.sequential([tl.nn.conv2d(3, 4, 3)], { inputShape: [1, 8, 8] })).toThrow(
      /module 0: Conv2d\(.*\) expects \(N, 3, H, W\) inputs \(got \[1, 8, 8\]\)/,
    );
    expect(() => tl.sequential([tl.nn.residual([tl.nn.conv2d(1, 2, 3, { padding: 1 })])], { inputShape: [1, 8, 8] })).toThrow(
      /module 0: Residual: the body outputs \[2, 8, 8\] but the shortcut passes the input \[1, 8, 8\]: give a shortcut/,
    );
    expect(() => tl.sequential([tl.nn.residual([tl.nn.conv2d(1, 1, 3, { padding: 1 }), tl.nn.linear(5, 5)])], { inputShape: [1, 8, 8] })).toThrow(
      /^Sequential: module 0\.body\.1: Linear/,
    );
    expect(() => tl.sequential([conv, tl.nn.relu()], { inputShape: [1, 8, 8] })).toThrow(
      /the last module must give class scores \(N, numClasses\) but gives \(N, 4, 6, 6\)/,
    );
    // After the failures the same module objects build a model.
    const net = tl.sequential([conv, tl.nn.flatten(), tl.nn.linear(144, 10)], { inputShape: [1, 8, 8], seed: 1 });
    expect(() => tl.sequential([conv, tl.nn.flatten(), tl.nn.linear(144, 10)], { inputShape: [1, 8, 8] })).toThrow(
      /module 0 \(Conv2d\) already belongs to another model/,
    );
    net.dispose();
    tl.sequential([conv, tl.nn.flatten(), tl.nn.linear(144, 10)], { inputShape: [1, 8, 8] }).dispose(); // disposed: free again
  });

  it("refuses bad options and module arguments with errors that name them", () => {
    expect(() => tl.sequential([tl.nn.flatten()], {} as tl.SequentialOptions)).toThrow(/options.inputShape must be the shape of one input/);
    expect(() => tl.sequential([] as tl.nn.Module[], { inputShape: [4] })).toThrow(/modules must be a non-empty array/);
    expect(() => tl.sequential([{} as tl.nn.Module], { inputShape: [4] })).toThrow(
      /modules\[0\] must be a module \(tl.nn.linear\(...\), ...\) or a module spec/,
    );
    expect(() => tl.sequential([{ type: "Conv3d", args: {} } as unknown as tl.nn.Module], { inputShape: [4] })).toThrow(
      /modules\[0\]: unknown module type "Conv3d" \(known: Linear, Conv2d/,
    );
    expect(() => tl.nn.conv2d(4, 6, 3, { groups: 4 })).toThrow(/inChannels \(4\) and outChannels \(6\) must both divide by options.groups \(4\)/);
    expect(() => tl.nn.linear(0, 3)).toThrow(/nn.linear: inFeatures/);
    expect(() => tl.nn.dropout(1)).toThrow(/nn.dropout: p/);
    expect(() => tl.nn.conv2d(1, 1, 3, { padding: -1 })).toThrow(/options.padding/);
    expect(() => tl.nn.batchNorm2d(3, { momentum: 2 })).toThrow(/options.momentum/);
    expect(() => tl.nn.batchNorm2d(3, { weightInit: Number.NaN })).toThrow(/nn.batchNorm2d: options.weightInit must be a number \(got NaN\)/);
  });

  it("a batch norm's weightInit sets where gamma starts (default 1); the bias and running statistics start as always", () => {
    for (const [weightInit, gamma] of [
      [undefined, 1],
      [0, 0],
      [0.5, 0.5],
    ] as const) {
      const net = tl.sequential([tl.nn.batchNorm1d(3, weightInit === undefined ? {} : { weightInit })], { inputShape: [3] });
      expect(Array.from(net.params["0.weight"].toArray())).toEqual([gamma, gamma, gamma]);
      expect(Array.from(net.params["0.bias"].toArray())).toEqual([0, 0, 0]);
      expect(Array.from(net.buffers["0.running_var"].toArray())).toEqual([1, 1, 1]);
      net.dispose();
    }
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

  it("float64: central differences through the other layer kinds (depthwise conv, GELU both ways, leaky ReLU, sigmoid, padded max and average pooling, global average pooling)", () => {
    const net = tl.sequential(
      [
        tl.nn.conv2d(2, 4, 3, { padding: 1 }),
        tl.nn.gelu(),
        tl.nn.conv2d(4, 4, 3, { stride: 2, padding: 1, groups: 4 }),
        tl.nn.leakyRelu(0.2),
        tl.nn.maxPool2d(3, { stride: 1, padding: 1 }),
        tl.nn.conv2d(4, 4, 3, { padding: 1, groups: 4, bias: false }),
        tl.nn.gelu({ approximate: "tanh" }),
        tl.nn.avgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }),
        tl.nn.sigmoid(),
        tl.nn.conv2d(4, 5, 1),
        tl.nn.globalAvgPool(),
        tl.nn.flatten(),
        tl.nn.linear(5, 3),
      ],
      { inputShape: [2, 9, 9], seed: 5, dtype: "float64" },
    );
    const X = tl.randn([4, 2, 9, 9], { seed: 6, dtype: "float64" });
    // The first layers' gradients are small after a sigmoid and a global mean: h = 1e-4 keeps the
    // differences above rounding (1e-5 and 1e-6 give 10x and 100x larger errors, all rounding).
    const errors = tl.checkModelGradients(net, X, labels(4, 3, 2), { h: 1e-4 });
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

  it("a batch norm refuses to train on one value per channel (as PyTorch), names itself, and the model keeps working", () => {
    const net = tl.sequential([tl.nn.linear(4, 3), tl.nn.batchNorm1d(3), tl.nn.relu(), tl.nn.linear(3, 2)], { inputShape: [4], seed: 1 });
    const X1 = tl.randn([1, 4], { seed: 2 });
    expect(() => net.loss(X1, new Int32Array([1]))).toThrow(/BatchNorm1d "1": training needs more than one value per channel/);
    const scores = net.loss(X1); // test mode uses the running statistics
    expect(scores.shape).toEqual([1, 2]);
    const X2 = tl.randn([2, 4], { seed: 3 });
    expect(Number.isFinite(net.loss(X2, new Int32Array([0, 1]))[0])).toBe(true);
    for (const t of [X1, X2, scores]) t.dispose();
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

describe("freezing", () => {
  function mlp(seed = 3): tl.Sequential {
    return tl.sequential([tl.nn.linear(6, 8), tl.nn.relu(), tl.nn.linear(8, 8), tl.nn.tanh(), tl.nn.linear(8, 3)], { inputShape: [6], seed });
  }

  it("frozen parameters get no gradient; the others get the gradients they get unfrozen; backward stops at the first module that needs one", () => {
    const X = tl.randn([9, 6], { seed: 1 });
    const y = labels(9, 3, 2);
    const free = mlp();
    const [lossFree, gradsFree] = free.loss(X, y);
    const net = mlp().freeze(/^[02]\./);
    expect(net.frozen).toEqual(["0.weight", "0.bias", "2.weight", "2.bias"]);
    let calls = 0;
    const first = net.modules[0];
    const original = first.backward.bind(first);
    first.backward = (dy, pass) => (calls++, original(dy, pass));
    const [loss, grads] = net.loss(X, y);
    expect(loss).toBe(lossFree);
    expect(Object.keys(grads)).toEqual(["4.weight", "4.bias"]);
    for (const name of Object.keys(grads)) expect(Array.from(grads[name].toArray()), name).toEqual(Array.from(gradsFree[name].toArray()));
    expect(calls, "module 0 (frozen, nothing before it) is not even run backward").toBe(0);
    expect(net.modules[4].needsInputGrad).toBe(false);
    net.unfreeze("0.bias");
    expect(Object.keys(net.loss(X, y)[1])).toEqual(["0.bias", "4.weight", "4.bias"]);
    expect(calls).toBe(1);
    expect(() => net.freeze("0.wieght")).toThrow(/Sequential.freeze: "0.wieght" is not a parameter of this model \(parameters: \["0.weight", "0.bias"/);
    expect(() => net.freeze(5 as never)).toThrow(/match must be a parameter name, an array of names, a RegExp or a function/);
    for (const t of [X]) t.dispose();
    free.dispose();
    net.dispose();
  });

  it("the Solver leaves frozen parameters (and a frozen batch norm's running statistics) bit for bit as they were, and trains the rest", () => {
    const net = tl.sequential(
      [tl.nn.conv2d(1, 4, 3, { padding: 1, bias: false }), tl.nn.batchNorm2d(4), tl.nn.relu(), tl.nn.flatten(), tl.nn.linear(4 * 8 * 8, 3)],
      { inputShape: [1, 8, 8], seed: 4 },
    );
    net.freeze((name) => !name.startsWith("4."));
    const before = Object.fromEntries([...Object.entries(net.params), ...Object.entries(net.buffers)].map(([k, t]) => [k, Array.from(t.toArray())]));
    const X = tl.randn([40, 1, 8, 8], { seed: 6 });
    const y = labels(40, 3, 1);
    for (const updateRule of ["adamw", "sgdNesterov"] as const) {
      const solver = new tl.Solver(
        net,
        { XTrain: X, yTrain: y, XVal: X, yVal: y },
        { updateRule, optimConfig: { learningRate: 1e-2, weightDecay: 0.1 }, numEpochs: 2, batchSize: 10, verbose: false, seed: 2 },
      );
      solver.train();
      solver.dispose();
    }
    for (const [name, values] of Object.entries(before)) {
      const now = Array.from((net.params[name] ?? net.buffers[name]).toArray());
      if (name.startsWith("4.")) expect(now, name).not.toEqual(values);
      else expect(now, name).toEqual(values);
    }
    X.dispose();
    net.dispose();
  });

  it('weightDecayParams "weights" spares biases and norms: with a zero learning rate for the step but a weight decay, only rank-2+ parameters shrink', () => {
    const net = mlp(5);
    const X = tl.randn([10, 6], { seed: 2 });
    const y = labels(10, 3, 0);
    const before = net.getParameters();
    // A step of 1e-9 with a weight decay of 1e8 is almost pure decay: w shrinks to 0.9 w where it applies.
    const solver = new tl.Solver(
      net,
      { XTrain: X, yTrain: y, XVal: X, yVal: y },
      {
        updateRule: "sgd",
        optimConfig: { learningRate: 1e-9, weightDecay: 1e8 },
        weightDecayParams: "weights",
        numEpochs: 1,
        batchSize: 10,
        verbose: false,
        seed: 1,
      },
    );
    solver.step();
    const after = net.getParameters();
    let offset = 0;
    for (const name of net.parameterNames) {
      const size = net.params[name].size;
      const a = Array.from(after.subarray(offset, offset + size));
      const b = Array.from(before.subarray(offset, offset + size));
      // (1 - 1e-9 * 1e8) = 0.9: weights shrink by a tenth (and move by a 1e-9 step); biases only take the tiny step.
      if (name.endsWith("weight"))
        expect(
          a.every((v, i) => Math.abs(v - 0.9 * b[i]) < 1e-6),
          name,
        ).toBe(true);
      else
        expect(
          a.every((v, i) => Math.abs(v - b[i]) < 1e-6),
          name,
        ).toBe(true);
      offset += size;
    }
    solver.dispose();
    X.dispose();
    net.dispose();
  });
});

describe("the parameters as one vector, and the summary", () => {
  it("getParameters / setParameters: state_dict order, a copy out, a full load in; wrong sizes are clear errors", () => {
    const a = smallConvNet();
    const b = smallConvNet({ seed: 99 });
    const flat = a.getParameters();
    expect(flat).toBeInstanceOf(Float32Array);
    expect(flat.length).toBe(a.parameterNames.reduce((n, name) => n + a.params[name].size, 0));
    expect(Array.from(flat.subarray(0, a.params["0.weight"].size))).toEqual(Array.from(a.params["0.weight"].toArray()));
    b.setParameters(flat);
    expect(Array.from(b.getParameters())).toEqual(Array.from(flat));
    expect(() => b.setParameters(flat.subarray(1))).toThrow(/setParameters: values must hold \d+ numbers, one per parameter element \(got \d+\)/);
    expect(() => b.setParameters("x" as never)).toThrow(/setParameters: values must be a Float32Array/);
    const c = smallConvNet({ dtype: "float64" });
    expect(c.getParameters()).toBeInstanceOf(Float64Array);
    for (const n of [a, b, c]) n.dispose();
  });

  it("summary(): one row per module (nested ones indented), output shapes, parameter counts, totals, frozen marks", () => {
    const net = smallConvNet();
    net.freeze(/^0\./);
    const text = net.summary();
    expect(text).toContain("Sequential: input (N, 1, 8, 8), float32");
    expect(text).toMatch(
      /\n0 +Conv2d\(in_channels=1, out_channels=4, kernel_size=\(3, 3\), stride=1, padding=1, groups=1, bias=false, init=pytorch\) \(frozen\) +\(N, 4, 8, 8\) +36\n/,
    );
    expect(text).toMatch(/\n3 +Residual\(body \+ shortcut\) +\(N, 6, 4, 4\) *\n3\.body\.0 + {2}Conv2d/);
    expect(text).toMatch(/\n10 +Linear\(in_features=24, out_features=3, bias=true, init=pytorch\) +\(N, 3\) +75\n/);
    const total = net.parameterNames.reduce((n, name) => n + net.params[name].size, 0);
    expect(text).toContain(`parameters: ${total.toLocaleString("en-US")} (trainable ${(total - 36).toLocaleString("en-US")}, frozen 36)`);
    net.dispose();
  });
});

describe("label smoothing", () => {
  it("softmaxLoss(scores, y, { labelSmoothing }) is the cross-entropy against eps/C + (1 - eps)·target, for integer and soft labels", () => {
    const [N, C, eps] = [5, 4, 0.2];
    const scores = tl.randn([N, C], { seed: 9, dtype: "float64", std: 2 });
    const y = labels(N, C, 1);
    const soft = new Float64Array(N * C);
    for (let n = 0; n < N; n++) {
      soft[n * C + y[n]] += 0.75;
      soft[n * C + ((y[n] + 1) % C)] += 0.25;
    }
    const s = Array.from(scores.toArray());
    const expected = (target: (n: number, c: number) => number) => {
      let loss = 0;
      const d = new Array<number>(N * C);
      for (let n = 0; n < N; n++) {
        const row = s.slice(n * C, n * C + C);
        const top = Math.max(...row);
        const lse = Math.log(row.reduce((t, v) => t + Math.exp(v - top), 0));
        for (let c = 0; c < C; c++) {
          const q = eps / C + (1 - eps) * target(n, c);
          loss -= (q * (row[c] - top - lse)) / N;
          d[n * C + c] = (Math.exp(row[c] - top - lse) - q) / N;
        }
      }
      return { loss, d };
    };
    for (const [what, targets, target] of [
      ["integer labels", y, (n: number, c: number) => (c === y[n] ? 1 : 0)],
      ["soft labels", tl.tensor(soft, [N, C], { dtype: "float64" }), (n: number, c: number) => soft[n * C + c]],
    ] as const) {
      const [loss, d] = tl.softmaxLoss(scores, targets, { labelSmoothing: eps });
      const want = expected(target);
      expect(Math.abs(loss - want.loss), `${what} loss`).toBeLessThan(1e-12);
      expect(Math.max(...Array.from(d.toArray(), (v, i) => Math.abs(v - want.d[i]))), `${what} dscores`).toBeLessThan(1e-14);
      d.dispose();
      if (targets instanceof tl.Tensor) targets.dispose();
    }
    expect(() => tl.softmaxLoss(scores, y, { labelSmoothing: 1.5 })).toThrow(/softmaxLoss: options.labelSmoothing must be in \[0, 1\] \(got 1.5\)/);
    scores.dispose();
  });

  it("a Sequential with labelSmoothing trains against smoothed targets: its gradients match central differences", () => {
    const net = tl.sequential([tl.nn.linear(5, 6), tl.nn.tanh(), tl.nn.linear(6, 3)], { inputShape: [5], seed: 2, dtype: "float64", labelSmoothing: 0.1 });
    const X = tl.randn([7, 5], { seed: 4, dtype: "float64" });
    const errors = tl.checkModelGradients(net, X, labels(7, 3, 0), { h: 1e-4 });
    for (const [name, e] of Object.entries(errors)) expect(e, name).toBeLessThan(1e-7);
    expect(net.config.labelSmoothing).toBe(0.1);
    X.dispose();
    net.dispose();
  });
});
