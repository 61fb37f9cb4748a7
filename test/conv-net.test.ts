import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { wasmMemoryBytes } from "../src/core/runtime.js";
import { expectRelError, labels } from "./helpers.js";

beforeAll(() => tl.init());

/** Non-zero biases and shifts: keeps pre-activations off the ReLU kink at exactly 0. */
function jitter(net: { params: Record<string, tl.Tensor> }, seed: number): void {
  for (const [name, t] of Object.entries(net.params)) {
    if (name.startsWith("b") || name.startsWith("beta")) t.set(tl.tidy(() => tl.randn(t.shape, { seed: seed++, std: 0.1 }).toArray()));
    if (name.startsWith("gamma")) t.set(tl.tidy(() => tl.randn(t.shape, { seed: seed++, std: 0.1, mean: 1 }).toArray()));
  }
}

describe("FullyConnectedNet with batch norm", () => {
  it("has gamma_i, beta_i (ones, zeros) and running statistics as buffers", () => {
    const net = new tl.FullyConnectedNet({ hiddenDims: [5, 6], inputDim: 4, numClasses: 3, normalization: "batchnorm", seed: 1 });
    expect(Object.keys(net.params)).toEqual(["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]);
    expect(Array.from(net.params.gamma2.toArray())).toEqual([1, 1, 1, 1, 1, 1]);
    expect(Object.keys(net.buffers)).toEqual(["runningMean1", "runningVar1", "runningMean2", "runningVar2"]);
    net.dispose();
  });

  for (const [name, extra] of [
    ["batchnorm", {}],
    ["batchnorm + dropout 0.3 + reg 0.05", { dropout: 0.3, reg: 0.05 }],
  ] as const) {
    it(`numeric gradient check of every parameter (${name}), including the biases before BN whose gradient is ~0`, () => {
      const net = new tl.FullyConnectedNet({
        hiddenDims: [10, 12],
        inputDim: 7,
        numClasses: 5,
        normalization: "batchnorm",
        weightScale: 0.5,
        seed: 3,
        ...extra,
      });
      jitter(net, 40);
      const X = tl.randn([6, 7], { seed: 4 });
      const y = labels(6, 5, 5);
      const errors = tl.checkModelGradients(net, X, y, { h: 1e-3 });
      console.log(`${name}: ${JSON.stringify(errors)}`);
      for (const [p, e] of Object.entries(errors)) {
        if (p === "b1" || p === "b2") continue; // true gradient is zero: checked below
        expectRelError(p, e, 2e-2);
      }
      const [, grads] = net.loss(X, y);
      for (const b of ["b1", "b2"]) {
        const worst = Math.max(...Array.from(grads[b].toArray(), Math.abs));
        expect(worst, `${b}: a bias before BN has zero true gradient (got max |db| ${worst})`).toBeLessThan(1e-5);
      }
      X.dispose();
      net.dispose();
    });
  }

  it("train mode updates running statistics; test mode (loss(X)) uses them and leaves them alone", () => {
    const net = new tl.FullyConnectedNet({ hiddenDims: [4], inputDim: 3, numClasses: 2, normalization: "batchnorm", seed: 6 });
    const X = tl.randn([8, 3], { seed: 7 });
    net.loss(X, [0, 1, 0, 1, 0, 1, 0, 1]);
    const mean1 = net.buffers.runningMean1.toArray();
    expect(mean1.some((v) => v !== 0)).toBe(true);
    const s = net.loss(X);
    expect(net.buffers.runningMean1.toArray()).toEqual(mean1);
    s.dispose();
    X.dispose();
    net.dispose();
  });
});

describe("Solver with batch-norm models", () => {
  it("restores the best parameters AND running statistics: accuracy after train() equals the best validation accuracy", () => {
    const X = tl.randn([300, 12], { seed: 81 });
    const v = X.toArray();
    const y = Int32Array.from({ length: 300 }, (_, i) => (v[i * 12] + v[i * 12 + 1] > 0 ? 1 : 0) + (v[i * 12 + 2] > 0 ? 2 : 0));
    const XTrain = X.sliceView(0, [200, 12]);
    const XVal = X.sliceView(200 * 12, [100, 12]);
    const net = new tl.FullyConnectedNet({ hiddenDims: [32, 32], inputDim: 12, numClasses: 4, normalization: "batchnorm", weightScale: "kaiming", seed: 82 });
    const solver = new tl.Solver(
      net,
      { XTrain, yTrain: y.subarray(0, 200), XVal, yVal: y.subarray(200) },
      {
        updateRule: "adam",
        optimConfig: { learningRate: 1e-2 },
        numEpochs: 12,
        batchSize: 20,
        verbose: false,
        seed: 83,
      },
    );
    solver.train();
    expect(solver.bestValAcc).toBeGreaterThan(0.8);
    console.log(`val acc history: ${solver.valAccHistory.join(", ")}`);
    // The test only means something if the last epoch was not the best one.
    expect(solver.valAccHistory.at(-1)).toBeLessThan(solver.bestValAcc);
    // Test mode uses the running statistics: they must be the ones saved with the best parameters.
    expect(solver.checkAccuracy(XVal, y.subarray(200))).toBe(solver.bestValAcc);
    solver.dispose();
    net.dispose();
    [XTrain, XVal, X].forEach((t) => t.dispose());
  });
});

describe("DeepConvNet", () => {
  it("params follow the layout; the last linear takes numFilters[-1] * H/2^pools * W/2^pools inputs", () => {
    const net = new tl.DeepConvNet({
      inputDims: [3, 8, 12],
      numFilters: [4, 6],
      maxPools: [0, 1],
      numClasses: 5,
      batchnorm: true,
      seed: 1,
      weightScale: "kaiming",
    });
    expect(Object.keys(net.params)).toEqual(["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]);
    expect(net.params.W1.shape).toEqual([4, 3, 3, 3]);
    expect(net.params.W2.shape).toEqual([6, 4, 3, 3]);
    expect(net.params.W3.shape).toEqual([6 * 2 * 3, 5]);
    const w = net.params.W2.toArray() as Float32Array;
    const std = Math.sqrt(w.reduce((a, b) => a + b * b, 0) / w.length);
    expect(Math.abs(std / Math.sqrt(2 / 36) - 1)).toBeLessThan(0.2); // 216 samples: loose
    net.dispose();
  });

  const cases: Array<[string, tl.DeepConvNetOptions]> = [
    ["no batchnorm, pools after layers 0 and 2", { numFilters: [3, 4, 3], maxPools: [0, 2] }],
    ["batchnorm, pool after layer 1", { numFilters: [4, 3], maxPools: [1], batchnorm: true }],
    ["batchnorm + L2 reg, no pools", { numFilters: [3], maxPools: [], batchnorm: true, reg: 0.1 }],
  ];
  for (const [name, extra] of cases) {
    it(`numeric gradient check of every parameter: ${name}`, () => {
      const net = new tl.DeepConvNet({ inputDims: [2, 6, 5], numClasses: 4, weightScale: 0.5, seed: 11, ...extra });
      jitter(net, 60);
      const X = tl.randn([3, 2, 6, 5], { seed: 12 });
      const y = labels(3, 4, 13);
      const errors = tl.checkModelGradients(net, X, y, { h: 1e-3 });
      console.log(`${name}: ${JSON.stringify(errors)}`);
      const [, grads] = net.loss(X, y);
      for (const [p, e] of Object.entries(errors)) {
        if (extra.batchnorm && /^b\d$/.test(p) && p !== `b${net.numLayers}`) {
          const worst = Math.max(...Array.from(grads[p].toArray(), Math.abs));
          expect(worst, `${p} before spatial BN: zero true gradient (max |db| ${worst})`).toBeLessThan(1e-5);
          continue;
        }
        expectRelError(`${name}: ${p}`, e, 2e-2);
      }
      X.dispose();
      net.dispose();
    });
  }

  it("overfits 50 images to 100% training accuracy (with batch norm)", () => {
    const X = tl.randn([50, 3, 8, 8], { seed: 21 });
    const y = labels(50, 10, 22);
    const net = new tl.DeepConvNet({
      inputDims: [3, 8, 8],
      numFilters: [8, 8],
      maxPools: [0, 1],
      batchnorm: true,
      numClasses: 10,
      weightScale: "kaiming",
      seed: 23,
    });
    const solver = new tl.Solver(
      net,
      { XTrain: X, yTrain: y, XVal: X, yVal: y },
      {
        updateRule: "adam",
        optimConfig: { learningRate: 5e-3 },
        numEpochs: 50,
        batchSize: 25,
        verbose: false,
        seed: 24,
        numTrainSamples: null,
      },
    );
    solver.train();
    expect(solver.checkAccuracy(X, y)).toBe(1);
    solver.dispose();
    net.dispose();
    X.dispose();
  });

  it("seeded runs are bit-identical and memory is flat after warm-up", () => {
    const X = tl.randn([40, 1, 6, 6], { seed: 31 });
    const y = labels(40, 3, 32);
    const run = () => {
      const net = new tl.DeepConvNet({
        inputDims: [1, 6, 6],
        numFilters: [4, 4],
        maxPools: [1],
        batchnorm: true,
        numClasses: 3,
        weightScale: "kaiming",
        seed: 33,
      });
      const solver = new tl.Solver(
        net,
        { XTrain: X, yTrain: y, XVal: X, yVal: y },
        { updateRule: "adam", batchSize: 10, numEpochs: 2, verbose: false, seed: 34 },
      );
      for (let i = 0; i < 5; i++) solver.step();
      const after5 = wasmMemoryBytes();
      for (let i = 5; i < 100; i++) solver.step();
      expect(wasmMemoryBytes()).toBe(after5);
      const out = { history: [...solver.lossHistory], w: net.params.W1.toArray(), rm: net.buffers.runningMean1.toArray() };
      solver.dispose();
      net.dispose();
      return out;
    };
    const a = run();
    const b = run();
    expect(a.history).toEqual(b.history);
    expect(a.w).toEqual(b.w);
    expect(a.rm).toEqual(b.rm);
    X.dispose();
  });

  it("clear errors for bad options and inputs", () => {
    expect(() => new tl.DeepConvNet({ inputDims: [3, 32] as never })).toThrow(/inputDims must be \[C, H, W\]/);
    expect(() => new tl.DeepConvNet({ numFilters: [4], maxPools: [1] })).toThrow(/maxPools\[0\] must be in \[0, 0\]/);
    expect(() => new tl.DeepConvNet({ inputDims: [1, 1, 1], numFilters: [2], maxPools: [0] })).toThrow(/too small for a 2x2 pool/);
    expect(() => new tl.DeepConvNet({ batchnorm: "yes" as never })).toThrow(/batchnorm must be a boolean/);
    expect(() => new tl.DeepConvNet({ filters: [3] } as never)).toThrow(/unknown option "filters"/);
    const net = new tl.DeepConvNet({ inputDims: [1, 4, 4], numFilters: [2], maxPools: [0], numClasses: 2, seed: 1 });
    const X = tl.zeros([2, 1, 4, 5]);
    expect(() => net.loss(X)).toThrow(/X must have shape \(N, 1, 4, 4\)/);
    X.dispose();
    net.dispose();
  });
});
