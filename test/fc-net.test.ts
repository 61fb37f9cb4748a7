import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { wasmMemoryBytes } from "../src/core/runtime.js";
import { expectRelError, labels } from "./helpers.js";

beforeAll(() => tl.init());

/** A separable toy problem: class = argmax of a fixed random projection of the input. */
function toyData(n: number, d: number, classes: number, seed: number): { X: tl.Tensor; y: Int32Array } {
  const X = tl.randn([n, d], { seed });
  const P = tl.randn([d, classes], { seed: seed + 1 });
  const [scores] = tl.Linear.forward(X, P, tl.zeros([classes]));
  const s = scores.toArray();
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (s[i * classes + j] > s[i * classes + best]) best = j;
    y[i] = best;
  }
  P.dispose();
  scores.dispose();
  return { X, y };
}

describe("FullyConnectedNet", () => {
  it("params W1..WL, b1..bL with the right shapes; biases start at zero; weights ~ N(0, weightScale²)", () => {
    const net = new tl.FullyConnectedNet({ hiddenDims: [300, 200], inputDim: 400, numClasses: 10, weightScale: 0.05, seed: 1 });
    expect(Object.keys(net.params)).toEqual(["W1", "b1", "W2", "b2", "W3", "b3"]);
    expect(net.params.W1.shape).toEqual([400, 300]);
    expect(net.params.W3.shape).toEqual([200, 10]);
    expect(net.params.b2.toArray().every((v) => v === 0)).toBe(true);
    const w = net.params.W1.toArray() as Float32Array;
    const std = Math.sqrt(w.reduce((a, b) => a + b * b, 0) / w.length);
    expect(Math.abs(std / 0.05 - 1)).toBeLessThan(0.01);
    expect(() => {
      (net.params as Record<string, tl.Tensor>).W1 = tl.zeros([1]);
    }).toThrow(TypeError);
    net.dispose();
  });

  it("the same seed gives the same weights; different seeds differ", () => {
    const a = new tl.FullyConnectedNet({ hiddenDims: [8], inputDim: 5, numClasses: 3, seed: 7 });
    const b = new tl.FullyConnectedNet({ hiddenDims: [8], inputDim: 5, numClasses: 3, seed: 7 });
    const c = new tl.FullyConnectedNet({ hiddenDims: [8], inputDim: 5, numClasses: 3, seed: 8 });
    expect(a.params.W1.toArray()).toEqual(b.params.W1.toArray());
    expect(a.params.W1.toArray()).not.toEqual(c.params.W1.toArray());
    [a, b, c].forEach((n) => n.dispose());
  });

  it("initial loss is about ln(C) with small weights", () => {
    const net = new tl.FullyConnectedNet({ hiddenDims: [50, 50], inputDim: 20, numClasses: 10, weightScale: 1e-3, seed: 2 });
    const X = tl.randn([200, 20], { seed: 3 });
    const [loss] = net.loss(X, labels(200, 10, 4));
    expect(Math.abs(loss - Math.log(10))).toBeLessThan(1e-3);
    X.dispose();
    net.dispose();
  });

  // float32 central differences: the loss carries ~1e-7 relative rounding, so with h = 1e-3 the
  // numeric gradient has ~1e-4 absolute noise; errors are measured against the gradient's scale
  // (scaledError). A wrong gradient scores near 1; kinks of ReLU crossed by the step stay ~1e-3.
  const cases: Array<[string, Partial<tl.FullyConnectedNetOptions>, number]> = [
    ["no reg, no dropout", {}, 1e-2],
    ["L2 reg 3.14", { reg: 3.14 }, 1e-2],
    ["L1 reg 0.7", { reg: 0.7, regularization: "l1" }, 1e-2],
    ["dropout 0.25 (mask repeated by restoring rngState)", { dropout: 0.25 }, 1e-2],
    ["dropout 0.5 and reg 0.1", { dropout: 0.5, reg: 0.1 }, 1e-2],
  ];
  for (const [name, extra, limit] of cases) {
    it(`numeric gradient check of every parameter: ${name}`, () => {
      const net = new tl.FullyConnectedNet({ hiddenDims: [20, 30], inputDim: 15, numClasses: 10, weightScale: 0.5, seed: 11, ...extra });
      // Non-zero biases: a row whose units are all dropped would otherwise put the next layer's
      // pre-activations exactly at b = 0, the ReLU kink, where no difference quotient agrees.
      for (const b of ["b1", "b2", "b3"]) net.params[b].set(tl.tidy(() => tl.randn(net.params[b].shape, { seed: 99, std: 0.1 }).toArray()));
      const X = tl.randn([4, 15], { seed: 12 });
      const y = labels(4, 10, 13);
      const errors = tl.checkModelGradients(net, X, y, { h: 1e-3 });
      console.log(`${name}: ${JSON.stringify(errors)}`);
      expect(Object.keys(errors)).toEqual(["W1", "b1", "W2", "b2", "W3", "b3"]);
      for (const [p, e] of Object.entries(errors)) expectRelError(`${name}: ${p}`, e, limit);
      X.dispose();
      net.dispose();
    });
  }

  it("reg adds reg * sum(W²) over weights only (not biases)", () => {
    const a = new tl.FullyConnectedNet({ hiddenDims: [6], inputDim: 4, numClasses: 3, weightScale: 0.3, seed: 21 });
    const b = new tl.FullyConnectedNet({ hiddenDims: [6], inputDim: 4, numClasses: 3, weightScale: 0.3, seed: 21, reg: 0.5 });
    b.params.b1.set(new Float32Array(6).fill(100)); // biases would dominate if they were penalised
    a.params.b1.set(new Float32Array(6).fill(100));
    const X = tl.randn([3, 4], { seed: 22 });
    const y = [0, 1, 2];
    const [la] = a.loss(X, y);
    const [lb] = b.loss(X, y);
    const sq = (t: tl.Tensor) => Array.from(t.toArray()).reduce((s, v) => s + v * v, 0);
    expect(lb - la).toBeCloseTo(0.5 * (sq(a.params.W1) + sq(a.params.W2)), 3);
    [a, b].forEach((n) => n.dispose());
    X.dispose();
  });

  it("loss(X) returns test-mode scores (no dropout), owned by the caller", () => {
    const net = new tl.FullyConnectedNet({ hiddenDims: [10], inputDim: 6, numClasses: 4, dropout: 0.5, seed: 3 });
    const X = tl.randn([5, 2, 3], { seed: 4 }); // (N, ...) is flattened
    const s1 = net.loss(X);
    const s2 = net.loss(X);
    expect(s1.shape).toEqual([5, 4]);
    expect(s1.toArray()).toEqual(s2.toArray());
    [s1, s2, X].forEach((t) => t.dispose());
    net.dispose();
  });

  it("clear errors for bad options and inputs", () => {
    expect(() => new tl.FullyConnectedNet({ hiddenDims: [0] })).toThrow(/hiddenDims\[0\] must be >= 1/);
    expect(() => new tl.FullyConnectedNet({ hiddenDims: [10], inputDim: 0 })).toThrow(/FullyConnectedNet: inputDim must be >= 1/);
    expect(() => new tl.FullyConnectedNet({ hiddenDims: [10], numClasses: 2.5 })).toThrow(/FullyConnectedNet: numClasses must be an integer/);
    expect(() => new tl.FullyConnectedNet({ hiddenDims: [10], dropout: 1 })).toThrow(/dropout must be in \[0, 1\)/);
    expect(() => new tl.FullyConnectedNet({ hiddenDims: [10], weightScale: "he" as never })).toThrow(/weightScale must be a number .*"xavier" or "kaiming"/);
    expect(() => new tl.FullyConnectedNet({ hiddenDims: [10], hidden: 3 } as never)).toThrow(/unknown option "hidden"/);
    expect(() => new tl.FullyConnectedNet({ hiddenDims: [10], reg: -1 })).toThrow(/reg must be >= 0/);
    const net = new tl.FullyConnectedNet({ hiddenDims: [4], inputDim: 6, numClasses: 3, seed: 1 });
    const X = tl.zeros([2, 5]);
    expect(() => net.loss(X)).toThrow(/X has 5 features per row .* expects inputDim 6/);
    const X6 = tl.zeros([2, 6]);
    expect(() => net.loss(X6, [0, 3])).toThrow(/y\[1\] must be an integer class index in \[0, 3\)/);
    expect(() => net.loss(X6, [0])).toThrow(/one label per row/);
    // Still usable after errors.
    const [loss] = net.loss(X6, [0, 2]);
    expect(Number.isFinite(loss)).toBe(true);
    [X, X6].forEach((t) => t.dispose());
    net.dispose();
  });
});

describe("Solver", () => {
  let toy: { X: tl.Tensor; y: Int32Array };
  beforeAll(() => {
    toy = toyData(600, 20, 4, 100);
  });
  afterAll(() => toy.X.dispose());

  it("overfits 50 samples to 100% training accuracy (the course's sanity check)", () => {
    const X = tl.randn([50, 30], { seed: 31 });
    const y = labels(50, 10, 32);
    const net = new tl.FullyConnectedNet({ hiddenDims: [100, 100], inputDim: 30, numClasses: 10, weightScale: 0.05, seed: 33 });
    const solver = new tl.Solver(
      net,
      { XTrain: X, yTrain: y, XVal: X, yVal: y },
      {
        updateRule: "adam",
        optimConfig: { learningRate: 5e-3 },
        numEpochs: 40,
        batchSize: 25,
        verbose: false,
        seed: 34,
        numTrainSamples: null,
      },
    );
    solver.train();
    expect(solver.checkAccuracy(X, y)).toBe(1);
    expect(solver.lossHistory.at(-1)!).toBeLessThan(0.05);
    solver.dispose();
    net.dispose();
    X.dispose();
  });

  it("trains a separable problem to high validation accuracy with every update rule", () => {
    const { X, y } = toy;
    const XTrain = X.sliceView(0, [500, 20]);
    const XVal = X.sliceView(500 * 20, [100, 20]);
    const rules: Array<[tl.UpdateRuleName, number]> = [
      ["sgd", 0.5],
      ["sgdMomentum", 0.05],
      ["adagrad", 0.05],
      ["rmsprop", 3e-3],
      ["adam", 5e-3],
    ];
    for (const [rule, lr] of rules) {
      const net = new tl.FullyConnectedNet({ hiddenDims: [64], inputDim: 20, numClasses: 4, weightScale: "kaiming", seed: 41 });
      const solver = new tl.Solver(
        net,
        { XTrain, yTrain: y.subarray(0, 500), XVal, yVal: y.subarray(500) },
        {
          updateRule: rule,
          optimConfig: { learningRate: lr },
          numEpochs: 15,
          batchSize: 50,
          verbose: false,
          seed: 42,
        },
      );
      solver.train();
      expect(solver.bestValAcc, `${rule}: best val acc ${solver.bestValAcc}`).toBeGreaterThan(0.85);
      expect(solver.checkAccuracy(XVal, y.subarray(500))).toBe(solver.bestValAcc); // best params restored
      solver.dispose();
      net.dispose();
    }
    XTrain.dispose();
    XVal.dispose();
  });

  it("a seeded run repeated gives a bit-identical loss history (dropout on, lrDecay, flat and per-parameter paths agree)", () => {
    const { X, y } = toy;
    const run = (rule: tl.UpdateRuleName | tl.UpdateRule) => {
      const net = new tl.FullyConnectedNet({ hiddenDims: [32, 32], inputDim: 20, numClasses: 4, dropout: 0.2, weightScale: 0.1, seed: 51 });
      const solver = new tl.Solver(
        net,
        { XTrain: X, yTrain: y, XVal: X, yVal: y },
        {
          updateRule: rule,
          optimConfig: { learningRate: 2e-3 },
          lrDecay: 0.9,
          numEpochs: 3,
          batchSize: 64,
          verbose: false,
          seed: 52,
        },
      );
      solver.train();
      const history = [...solver.lossHistory];
      const w = net.params.W1.toArray() as Float32Array;
      solver.dispose();
      net.dispose();
      return { history, w };
    };
    const a = run("adam");
    const b = run("adam");
    expect(a.history.length).toBe(27);
    expect(a.history).toEqual(b.history);
    expect(a.w).toEqual(b.w);
    const perParam = run((w, dw, c) => tl.adam(w, dw, c));
    expect(perParam.history).toEqual(a.history);
  });

  it("a non-finite loss stops training with a message naming the step and the learning rate", () => {
    const { X, y } = toy;
    const net = new tl.FullyConnectedNet({ hiddenDims: [32], inputDim: 20, numClasses: 4, weightScale: 1, seed: 61 });
    const solver = new tl.Solver(
      net,
      { XTrain: X, yTrain: y, XVal: X, yVal: y },
      {
        updateRule: "sgd",
        optimConfig: { learningRate: 1e12 },
        numEpochs: 2,
        batchSize: 50,
        verbose: false,
        seed: 62,
      },
    );
    expect(() => solver.train()).toThrow(/loss became (NaN|Infinity) at iteration \d+ .* learning rate \(1000000000000\) is probably too large/);
    solver.dispose();
    net.dispose();
  });

  it("memory is flat: wasm memory after step 10 equals memory after step 1,000", () => {
    const { X, y } = toy;
    const net = new tl.FullyConnectedNet({ hiddenDims: [64, 64], inputDim: 20, numClasses: 4, dropout: 0.3, seed: 71 });
    const solver = new tl.Solver(net, { XTrain: X, yTrain: y, XVal: X, yVal: y }, { updateRule: "adam", batchSize: 32, verbose: false, seed: 72 });
    for (let i = 0; i < 10; i++) solver.step();
    const after10 = { wasm: wasmMemoryBytes(), ...tl.memory() };
    for (let i = 10; i < 1000; i++) solver.step();
    const after1000 = { wasm: wasmMemoryBytes(), ...tl.memory() };
    console.log(`memory after step 10: ${JSON.stringify(after10)}; after step 1000: ${JSON.stringify(after1000)}`);
    expect(after1000).toEqual(after10);
    solver.dispose();
    net.dispose();
  });

  it("clear errors for bad data and options", () => {
    const { X, y } = toy;
    const net = new tl.FullyConnectedNet({ hiddenDims: [8], inputDim: 20, numClasses: 4, seed: 1 });
    const data = { XTrain: X, yTrain: y, XVal: X, yVal: y };
    expect(() => new tl.Solver(net, { ...data, yTrain: y.subarray(1) })).toThrow(/one label per row: 600/);
    expect(() => new tl.Solver(net, { ...data, yVal: Int32Array.from(y, () => 4) })).toThrow(/data.yVal.*\[0, 4\)/);
    expect(() => new tl.Solver(net, { XTrain: X, yTrain: y } as never)).toThrow(/data.XVal is required/);
    expect(() => new tl.Solver(net, data, { updateRule: "lion" as never })).toThrow(
      /updateRule must be one of "sgd", "sgdMomentum", "sgdNesterov", "adagrad", "rmsprop", "adam", "adamw"/,
    );
    expect(() => new tl.Solver(net, data, { batchSize: 0 })).toThrow(/batchSize must be >= 1/);
    expect(() => new tl.Solver(net, data, { epochs: 3 } as never)).toThrow(/unknown option "epochs"/);
    net.dispose();
  });
});
