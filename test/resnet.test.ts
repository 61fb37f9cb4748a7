// tl.models.resnet: a Sequential of tl.nn modules with ResNet's layout. Its modules are checked
// one by one against PyTorch (nn-modules.test.ts); here: the layout and names, gradients through
// the whole network, options and their errors, and a checkpoint round trip.
import { describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { initAndCheckLeaks } from "./helpers.js";

initAndCheckLeaks({ float64: true });

describe("tl.models.resnet", () => {
  it("stem, stages of basic blocks (stride 2 where a stage starts, projection shortcuts where the shape changes), global pooling head; PyTorch's state_dict names", () => {
    const net = tl.models.resnet({ inputShape: [1, 28, 28], widths: [8, 16], blocks: [1, 2], numClasses: 10, seed: 1 });
    expect(net.modules.map((m) => m.type)).toEqual([
      "Conv2d",
      "BatchNorm2d",
      "ReLU",
      "Residual",
      "ReLU",
      "Residual",
      "ReLU",
      "Residual",
      "ReLU",
      "AdaptiveAvgPool2d",
      "Flatten",
      "Linear",
    ]);
    const names = net.parameterNames;
    expect(names.slice(0, 3)).toEqual(["0.weight", "1.weight", "1.bias"]);
    // Stage 1's block keeps 28x28 and 8 channels: an identity shortcut. Stage 2 starts with stride 2 and a projection.
    expect(names.some((n) => n.startsWith("3.shortcut"))).toBe(false);
    expect(names).toContain("5.shortcut.0.weight");
    expect(names.some((n) => n.startsWith("7.shortcut"))).toBe(false);
    expect(names.slice(-2)).toEqual(["11.weight", "11.bias"]);
    const X = tl.randn([2, 1, 28, 28], { seed: 2 });
    const scores = net.loss(X);
    expect(scores.shape).toEqual([2, 10]);
    expect(net.summary()).toMatch(/Residual/);
    for (const t of [X, scores]) t.dispose();
    net.dispose();
  });

  it("float64: every parameter's gradient matches central differences", () => {
    const net = tl.models.resnet({ inputShape: [2, 6, 6], widths: [3, 4], numClasses: 3, seed: 3, dtype: "float64", downsampleFirst: true });
    const X = tl.randn([4, 2, 6, 6], { seed: 4, dtype: "float64" });
    const errors = tl.checkModelGradients(net, X, Int32Array.of(0, 1, 2, 1), { h: 1e-5 });
    expect(Object.keys(errors)).toEqual(net.parameterNames);
    for (const [name, e] of Object.entries(errors)) expect(e, name).toBeLessThan(1e-6);
    X.dispose();
    net.dispose();
  });

  it("trains (the loss falls on a small problem) and comes back from a checkpoint with the same scores", () => {
    const net = tl.models.resnet({ inputShape: [1, 8, 8], widths: [4, 8], numClasses: 2, seed: 5, labelSmoothing: 0.1 });
    // Two classes: a bright left half or a bright right half, plus noise.
    const n = 64;
    const values = new Float32Array(n * 64);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 2;
      for (let p = 0; p < 64; p++) values[i * 64 + p] = (p % 8 < 4 === (y[i] === 0) ? 1 : 0) + 0.3 * Math.sin(i * 7.1 + p * 1.3);
    }
    const X = tl.tensor(values, [n, 1, 8, 8]);
    const solver = new tl.Solver(
      net,
      { XTrain: X, yTrain: y, XVal: X, yVal: y },
      {
        updateRule: "adamw",
        optimConfig: { learningRate: 1e-2 },
        batchSize: 16,
        numEpochs: 6,
        seed: 1,
        verbose: false,
      },
    );
    solver.train();
    const first = solver.lossHistory.slice(0, 4).reduce((a, b) => a + b) / 4;
    const last = solver.lossHistory.slice(-4).reduce((a, b) => a + b) / 4;
    expect(last).toBeLessThan(first * 0.7);
    expect(solver.bestValAcc).toBeGreaterThan(0.9);
    const bytes = tl.saveCheckpoint({ model: net, solver });
    const loaded = tl.loadCheckpoint(bytes);
    const a = net.loss(X);
    const b = loaded.model.loss(X);
    expect(Array.from(b.toArray())).toEqual(Array.from(a.toArray()));
    for (const t of [a, b, X]) t.dispose();
    loaded.model.dispose();
    solver.dispose();
    net.dispose();
  });

  it("zeroInitResidual: each block's last batch norm starts with gamma 0, so the block starts as its shortcut and its body's convs get no gradient until gamma moves", () => {
    const options = { inputShape: [1, 8, 8] as [number, number, number], widths: [4, 6], numClasses: 3, seed: 7 };
    const plain = tl.models.resnet(options);
    const zero = tl.models.resnet({ ...options, zeroInitResidual: true });
    const last = ["3.body.4.weight", "5.body.4.weight"];
    expect(zero.parameterNames).toEqual(plain.parameterNames);
    for (const name of zero.parameterNames) {
      const expected = last.includes(name) ? new Array(zero.params[name].size).fill(0) : Array.from(plain.params[name].toArray());
      expect(Array.from(zero.params[name].toArray()), name).toEqual(expected);
    }
    const X = tl.randn([4, 1, 8, 8], { seed: 8 });
    const [, grads] = zero.loss(X, Int32Array.of(0, 1, 2, 0));
    for (const name of last)
      expect(
        Array.from(grads[name].toArray()).some((g) => g !== 0),
        name,
      ).toBe(true);
    for (const name of ["3.body.3.weight", "3.body.0.weight", "5.body.0.weight"])
      expect(
        Array.from(grads[name].toArray()).every((g) => g === 0),
        name,
      ).toBe(true);
    expect(Array.from(grads["5.shortcut.0.weight"].toArray()).some((g) => g !== 0)).toBe(true);
    expect(() => tl.models.resnet({ ...options, zeroInitResidual: 1 as never })).toThrow(
      /models\.resnet: options\.zeroInitResidual must be true or false \(got 1\)/,
    );
    X.dispose();
    plain.dispose();
    zero.dispose();
  });

  it("refuses bad options with errors that name them", () => {
    expect(() => tl.models.resnet({} as never)).toThrow(/models\.resnet: options\.inputShape must be one image's shape \[C, H, W\]/);
    expect(() => tl.models.resnet({ inputShape: [1, 28, 28], widths: [] })).toThrow(/options\.widths must be a non-empty array/);
    expect(() => tl.models.resnet({ inputShape: [1, 28, 28], widths: [8, 0] })).toThrow(/options\.widths\[1\]/);
    expect(() => tl.models.resnet({ inputShape: [1, 28, 28], blocks: [1, 2] })).toThrow(/options\.blocks must be a block count or one per stage \(3 numbers/);
    expect(() => tl.models.resnet({ inputShape: [1, 28, 28], depth: 18 } as never)).toThrow(/depth/);
  });
});
