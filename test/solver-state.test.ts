// Issue 13 (without float64): model.predict, learning-rate schedules, a Solver that owns its state,
// shared model option names, the public index, and validation done once at the boundary.
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import * as tlData from "../src/data/index.js";
import * as tlExperiments from "../src/experiments/index.js";
import * as internal from "../src/internal.js";
import { labelsAreChecked, labelsToWasm, withCheckedLabels } from "../src/core/labels.js";
import { maxPoolCacheIsTrusted } from "../src/layers/maxpool.js";
import { labels } from "./helpers.js";

beforeAll(() => tl.init({ float64: true }));

/** Runs body and expects it to free every tensor it made. */
function noLeak(body: () => void): void {
  const before = tl.memory().liveTensors;
  body();
  expect(tl.memory().liveTensors, "live tensors after the test (a leak)").toBe(before);
}

/** Argmax of each row written by hand on the host, first maximum on ties (the reference predict() must match). */
function argmaxRows(scores: ArrayLike<number>, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let j = 1; j < cols; j++) if (scores[i * cols + j] > scores[i * cols + best]) best = j;
    out[i] = best;
  }
  return out;
}

/** Seeded data where the class depends on the first features. */
function makeData(n: number, D: number, seed: number): { X: tl.Tensor; y: Int32Array } {
  const X = tl.keep(tl.randn([n, D], { seed }));
  const x = X.toArray();
  const noise = labels(n, 2, seed + 1);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = ((x[i * D] > 0 ? 1 : 0) * 2 + (x[i * D + 1] > 0 ? 1 : 0) + noise[i]) % 4;
  return { X, y };
}

describe("model.predict", () => {
  it("FullyConnectedNet: the argmax of test-mode scores, the same for every batch size (including 1 and > N)", () => {
    noLeak(() => {
      const net = new tl.FullyConnectedNet({
        hiddenDims: [16],
        inputDim: 12,
        numClasses: 5,
        dropout: 0.3,
        normalization: "batchnorm",
        weightScale: "kaiming",
        seed: 3,
      });
      const X = tl.randn([37, 12], { seed: 4 });
      const scores = net.loss(X);
      const expected = argmaxRows(scores.toArray(), 37, 5);
      for (const batchSize of [1, 5, 36, 37, 100, undefined]) {
        const pred = net.predict(X, batchSize === undefined ? undefined : { batchSize });
        expect(pred).toBeInstanceOf(Int32Array);
        expect(Array.from(pred), `batchSize ${batchSize}`).toEqual(Array.from(expected));
      }
      scores.dispose();
      X.dispose();
      net.dispose();
    });
  });

  it("DeepConvNet: the same as the scores' argmax, and images of (N, C, H, W)", () => {
    noLeak(() => {
      const net = new tl.DeepConvNet({
        inputDims: [2, 6, 6],
        numFilters: [4, 3],
        maxPools: [0],
        normalization: "batchnorm",
        numClasses: 4,
        weightScale: "kaiming",
        seed: 5,
      });
      const X = tl.randn([23, 2, 6, 6], { seed: 6 });
      const scores = net.loss(X);
      const expected = argmaxRows(scores.toArray(), 23, 4);
      expect(Array.from(net.predict(X, { batchSize: 7 }))).toEqual(Array.from(expected));
      expect(Array.from(net.predict(X))).toEqual(Array.from(expected));
      scores.dispose();
      X.dispose();
      net.dispose();
    });
  });

  it('tta "flip": the argmax of scores(x) + scores(mirror of x), the sum and the mirror checked on the host', () => {
    noLeak(() => {
      const [N, C, H, W, K] = [23, 2, 6, 7, 4]; // W odd: the middle column stays
      const net = new tl.DeepConvNet({
        inputDims: [C, H, W],
        numFilters: [4, 3],
        maxPools: [0],
        normalization: "batchnorm",
        numClasses: K,
        weightScale: "kaiming",
        seed: 5,
      });
      const X = tl.randn([N, C, H, W], { seed: 6 });
      const x = X.toArray();
      const mirrored = new Float32Array(x.length);
      for (let r = 0; r < N * C * H; r++) for (let j = 0; j < W; j++) mirrored[r * W + j] = x[r * W + W - 1 - j];
      const M = tl.tensor(mirrored, [N, C, H, W]);
      const a = net.loss(X);
      const b = net.loss(M);
      const sa = a.toArray();
      const sb = b.toArray();
      const sum = sa.map((v, i) => Math.fround(v + sb[i]));
      const expected = argmaxRows(sum, N, K);
      expect(Array.from(expected)).not.toEqual(Array.from(argmaxRows(sa, N, K))); // the flip changes some answers
      for (const batchSize of [1, 7, 100]) {
        expect(Array.from(net.predict(X, { batchSize, tta: "flip" })), `batchSize ${batchSize}`).toEqual(Array.from(expected));
      }
      expect(Array.from(net.predict(X, { tta: "none" }))).toEqual(Array.from(argmaxRows(sa, N, K)));
      // Images only (float32 or float64: test/float64.test.ts); a bad value names the option.
      const fc = new tl.FullyConnectedNet({ hiddenDims: [4], inputDim: 6, numClasses: 3, seed: 9 });
      const rows = tl.randn([5, 6], { seed: 10 });
      expect(() => fc.predict(rows, { tta: "flip" })).toThrow(
        /FullyConnectedNet\.predict: options\.tta "flip" mirrors images: X must be an \(N, C, H, W\) tensor \(got shape \[5, 6\]\)/,
      );
      expect(() => net.predict(X, { tta: "crop" as never })).toThrow(/DeepConvNet\.predict: options\.tta must be one of/);
      expect(net.predict(X).length).toBe(N);
      for (const t of [X, M, a, b, rows]) t.dispose();
      net.dispose();
      fc.dispose();
    });
  });

  it("ties go to the first maximum (all-equal scores: class 0; a tie between 1 and 3: class 1)", () => {
    const net = new tl.FullyConnectedNet({ hiddenDims: [], inputDim: 3, numClasses: 4, seed: 1 });
    net.params.W1.set(new Float32Array(12)); // zero weights: scores are the biases
    net.params.b1.set([0, 0, 0, 0]);
    const X = tl.randn([4, 3], { seed: 2 });
    expect(Array.from(net.predict(X))).toEqual([0, 0, 0, 0]);
    net.params.b1.set([-1, 2, 0, 2]);
    expect(Array.from(net.predict(X, { batchSize: 3 }))).toEqual([1, 1, 1, 1]);
    X.dispose();
    net.dispose();
  });

  it("reuses its buffers: memory is flat over repeated predictions of a large X", () => {
    const net = new tl.FullyConnectedNet({ hiddenDims: [32], inputDim: 10, numClasses: 3, seed: 7 });
    const X = tl.randn([5000, 10], { seed: 8 });
    net.predict(X, { batchSize: 250 });
    const before = tl.memory();
    for (let i = 0; i < 5; i++) net.predict(X, { batchSize: 250 });
    expect(tl.memory()).toEqual(before);
    X.dispose();
    net.dispose();
  });

  it("refuses bad X and batchSize with errors that name predict and the argument, and stays usable", () => {
    noLeak(() => {
      const net = new tl.FullyConnectedNet({ hiddenDims: [4], inputDim: 6, numClasses: 3, seed: 9 });
      const conv = new tl.DeepConvNet({ inputDims: [1, 4, 4], numFilters: [2], maxPools: [0], numClasses: 3, seed: 9 });
      const X = tl.randn([5, 6], { seed: 10 });
      const wrong = tl.randn([5, 7], { seed: 10 });
      expect(() => net.predict(wrong)).toThrow(/FullyConnectedNet\.predict: X has 7 features per row/);
      expect(() => net.predict("x" as never)).toThrow(TypeError);
      expect(() => net.predict(X, { batchSize: 0 })).toThrow(/FullyConnectedNet\.predict: options\.batchSize must be >= 1/);
      expect(() => net.predict(X, { batchSize: 2.5 })).toThrow(/options\.batchSize must be an integer/);
      expect(() => net.predict(X, { batch: 2 } as never)).toThrow(/FullyConnectedNet\.predict.*batch/);
      expect(() => conv.predict(X)).toThrow(/DeepConvNet\.predict: X must have 4 dim/);
      const disposed = tl.randn([2, 6]);
      disposed.dispose();
      expect(() => net.predict(disposed)).toThrow(/disposed/);
      expect(net.predict(X).length).toBe(5);
      for (const t of [X, wrong]) t.dispose();
      net.dispose();
      conv.dispose();
    });
  });
});

describe("Solver.checkAccuracy uses predict", () => {
  it("equals the fraction of predict() that matches, for a built-in model and for a model without predict", () => {
    noLeak(() => {
      const { X, y } = makeData(120, 8, 1);
      const net = new tl.FullyConnectedNet({ hiddenDims: [10], inputDim: 8, numClasses: 4, seed: 2 });
      const solver = new tl.Solver(net, { XTrain: X, yTrain: y, XVal: X, yVal: y }, { verbose: false, seed: 3 });
      const pred = net.predict(X);
      const expected = pred.filter((p, i) => p === y[i]).length / 120;
      expect(solver.checkAccuracy(X, y)).toBe(expected);
      expect(solver.checkAccuracy(X, y, null, 7)).toBe(expected);
      // A custom model with loss only: scored through loss(X), each result disposed.
      const plain = {
        params: net.params,
        loss: ((Xb: tl.Tensor, yb?: tl.Labels) => (yb === undefined ? net.loss(Xb) : net.loss(Xb, yb))) as tl.TrainableModel["loss"],
      };
      const s2 = new tl.Solver(plain, { XTrain: X, yTrain: y, XVal: X, yVal: y }, { verbose: false, seed: 3 });
      expect(s2.checkAccuracy(X, y, null, 13)).toBe(expected);
      for (const s of [solver, s2]) s.dispose();
      net.dispose();
      X.dispose();
    });
  });
});

describe("learning-rate schedules", () => {
  let data: { XTrain: tl.Tensor; yTrain: Int32Array; XVal: tl.Tensor; yVal: Int32Array };
  beforeAll(() => {
    const tr = makeData(100, 8, 11);
    const va = makeData(40, 8, 13);
    data = { XTrain: tr.X, yTrain: tr.y, XVal: va.X, yVal: va.y };
  });
  afterAll(() => {
    data.XTrain.dispose();
    data.XVal.dispose();
  });
  const net = () => new tl.FullyConnectedNet({ hiddenDims: [10], inputDim: 8, numClasses: 4, dropout: 0.1, weightScale: "kaiming", seed: 21 });

  /** The rate each step used: recorded through a custom rule that wraps sgd. */
  function rates(options: tl.SolverOptions): number[] {
    const model = net();
    const seen: number[] = [];
    const rule: tl.UpdateRule = (w, dw, config) => {
      if (w === model.params.W1) seen.push(config!.learningRate!);
      return tl.sgd(w, dw, config);
    };
    const solver = new tl.Solver(model, data, { batchSize: 20, numEpochs: 4, verbose: false, seed: 5, ...options, updateRule: rule });
    solver.train();
    solver.dispose();
    model.dispose();
    return seen;
  }

  it("cosine with linear warm-up: the course formula at every iteration (5 per epoch, 1 warm-up epoch)", () => {
    const base = 0.1;
    const min = 0.01;
    const got = rates({ optimConfig: { learningRate: base }, lrSchedule: { type: "cosine", warmupEpochs: 1, minLearningRate: min } });
    expect(got.length).toBe(20);
    const W = 5;
    const T = 20;
    for (let t = 0; t < T; t++) {
      const expected = t < W ? (base * (t + 1)) / W : min + ((base - min) * (1 + Math.cos((Math.PI * (t - W)) / (T - W)))) / 2;
      expect(Math.abs(got[t] - expected), `iteration ${t}: ${got[t]} vs ${expected}`).toBeLessThan(1e-15);
    }
    expect(got[W]).toBe(base); // the peak right after warm-up
    expect(got[W - 1]).toBe(base); // warm-up ends at the base rate
  });

  it("cosine without warm-up starts at the base rate (the rule's default when optimConfig has none)", () => {
    const model = net();
    const solver = new tl.Solver(model, data, { updateRule: "adam", lrSchedule: { type: "cosine" }, batchSize: 20, numEpochs: 2, verbose: false, seed: 5 });
    expect(solver.baseLearningRate).toBe(1e-3);
    solver.step();
    expect(solver.optimConfigs.all.learningRate).toBe(1e-3);
    solver.dispose();
    model.dispose();
  });

  it("a user function gets (epochs done, iterations done) and its value is the step's rate", () => {
    const calls: [number, number][] = [];
    const got = rates({ lrSchedule: (epoch, iteration) => (calls.push([epoch, iteration]), 0.05 / (1 + iteration)) });
    expect(got).toEqual(Array.from({ length: 20 }, (_, t) => 0.05 / (1 + t)));
    expect(calls.slice(0, 6)).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [0, 3],
      [0, 4],
      [1, 5],
    ]);
  });

  it("per-epoch lrDecay is unchanged", () => {
    const got = rates({ optimConfig: { learningRate: 0.1 }, lrDecay: 0.5 });
    expect(got.slice(0, 6)).toEqual([0.1, 0.1, 0.1, 0.1, 0.1, 0.05]);
  });

  it("validates the schedule options up front, and a bad function result at the step that returns it", () => {
    const model = net();
    const make = (o: tl.SolverOptions) => () => new tl.Solver(model, data, { verbose: false, numEpochs: 4, ...o });
    expect(make({ lrSchedule: { type: "linear" } as never })).toThrow(/Solver: options\.lrSchedule\.type must be "cosine"/);
    expect(make({ lrSchedule: "cosine" as never })).toThrow(/options\.lrSchedule must be \{ type: "cosine"/);
    expect(make({ lrSchedule: { type: "cosine", warmup: 1 } as never })).toThrow(/options\.lrSchedule.*warmup/);
    expect(make({ lrSchedule: { type: "cosine", warmupEpochs: -1 } })).toThrow(/warmupEpochs must be >= 0/);
    expect(make({ lrSchedule: { type: "cosine", warmupEpochs: 5 } })).toThrow(/warmupEpochs \(5\) must not exceed numEpochs \(4\)/);
    expect(make({ lrSchedule: { type: "cosine", minLearningRate: 1 } })).toThrow(
      /minLearningRate \(1\) must not exceed the learning rate it anneals from \(0\.01\)/,
    );
    expect(make({ lrSchedule: { type: "cosine" }, lrDecay: 0.9 })).toThrow(/lrDecay and options\.lrSchedule do not combine/);
    expect(make({ lrSchedule: { type: "cosine" }, updateRule: (w, dw, c) => tl.sgd(w, dw, c) })).toThrow(
      /custom updateRule needs options\.optimConfig\.learningRate/,
    );
    const solver = new tl.Solver(model, data, { verbose: false, lrSchedule: (_e, t) => (t < 1 ? 0.01 : NaN), seed: 1 });
    solver.step();
    expect(() => solver.step()).toThrow(/Solver\.step: options\.lrSchedule\(0, 1\) \(the learning rate\) must be a number/);
    solver.dispose();
    model.dispose();
  });

  const checkpointAt = (solver: tl.Solver, model: tl.CheckpointableModel, out: Uint8Array[]) => (e: tl.ProgressEvent) => {
    if (e.iteration % solver.iterationsPerEpoch === 0) out.push(tl.saveCheckpoint({ model, solver }));
  };

  for (const [label, schedule] of [
    ["cosine with warm-up", { type: "cosine", warmupEpochs: 1.5, minLearningRate: 1e-4 }],
    ["a function", (epoch: number, iteration: number) => 0.01 * 0.9 ** epoch * (iteration % 2 ? 1 : 0.5)],
  ] as [string, tl.LearningRateSchedule][]) {
    it(`resume is bit-identical with ${label}: 4 epochs straight = 2 epochs, save, load, resume to 4 (same checkpoint bytes)`, () => {
      const options: tl.SolverOptions = {
        updateRule: "adam",
        optimConfig: { learningRate: 1e-2 },
        lrSchedule: schedule,
        batchSize: 20,
        numEpochs: 4,
        numTrainSamples: 50,
        verbose: false,
        seed: 9,
      };
      const straightModel = net();
      const straight = new tl.Solver(straightModel, data, options);
      const straightCks: Uint8Array[] = [];
      straight.onProgress = checkpointAt(straight, straightModel, straightCks);
      straight.train();

      // An interrupted run: the checkpoint its epoch-2 end wrote (the cosine's period is numEpochs: the same 4).
      const ck = tl.loadCheckpoint(straightCks[1]);
      expect(ck.solver!.customLrSchedule).toBe(typeof schedule === "function");
      const resumedOptions = { ...ck.solver!.options, numEpochs: 4, verbose: false, ...(typeof schedule === "function" ? { lrSchedule: schedule } : {}) };
      if (typeof schedule !== "function") expect(resumedOptions.lrSchedule).toEqual(schedule);
      const resumed = new tl.Solver(ck.model, data, resumedOptions);
      ck.resume(resumed);
      const resumedCks: Uint8Array[] = [];
      resumed.onProgress = checkpointAt(resumed, ck.model, resumedCks);
      resumed.train();
      expect(resumed.lossHistory).toEqual(straight.lossHistory);
      expect(resumed.accuracyIterations).toEqual(straight.accuracyIterations);
      expect(resumedCks.at(-1)).toEqual(straightCks.at(-1));
      for (const s of [straight, resumed]) s.dispose();
      for (const m of [straightModel, ck.model]) m.dispose();
    });
  }

  it("refuses to resume a cosine run with another schedule (or none), and a function run without the function", () => {
    const options: tl.SolverOptions = {
      updateRule: "sgd",
      lrSchedule: { type: "cosine", warmupEpochs: 1 },
      batchSize: 20,
      numEpochs: 2,
      verbose: false,
      seed: 9,
    };
    const model = net();
    const solver = new tl.Solver(model, data, options);
    solver.step();
    const state = solver.state();
    const other = new tl.Solver(model, data, { ...options, lrSchedule: undefined, numEpochs: 3 });
    expect(() => other.restoreState(state)).toThrow(/lrSchedule null \(saved: \{"type":"cosine","warmupEpochs":1,"minLearningRate":0\}\)/);
    const fnSolver = new tl.Solver(model, data, { ...options, lrSchedule: () => 0.01 });
    const fnState = fnSolver.state();
    expect(fnState.options.lrSchedule).toBe("custom");
    expect(() => other.restoreState(fnState)).toThrow(/saved: "custom": pass the same function/);
    for (const s of [solver, other, fnSolver]) s.dispose();
    model.dispose();
  });
});

describe("a Solver that owns its state", () => {
  let data: { XTrain: tl.Tensor; yTrain: Int32Array; XVal: tl.Tensor; yVal: Int32Array };
  beforeAll(() => {
    const tr = makeData(60, 6, 31);
    data = { XTrain: tr.X, yTrain: tr.y, XVal: tr.X, yVal: tr.y };
  });
  afterAll(() => data.XTrain.dispose());
  const net = () => new tl.FullyConnectedNet({ hiddenDims: [8], inputDim: 6, numClasses: 4, seed: 2 });

  it("histories are read-only; accuracyIterations names the iteration of every check", () => {
    const model = net();
    const solver = new tl.Solver(model, data, { updateRule: "adam", batchSize: 20, numEpochs: 3, verbose: false, seed: 1 });
    solver.train();
    expect(solver.lossHistory.length).toBe(9);
    expect(solver.accuracyIterations).toEqual([1, 3, 6, 9]);
    expect(solver.valAccHistory.length).toBe(4);
    expect(() => (solver.lossHistory as number[]).push(1)).toThrow(/Solver\.lossHistory is read-only/);
    expect(() => ((solver.valAccHistory as number[])[0] = 1)).toThrow(/read-only/);
    expect(() => ((solver as unknown as { epoch: number }).epoch = 0)).toThrow(TypeError);
    expect(() => ((solver as unknown as { optimConfigs: object }).optimConfigs = {})).toThrow(TypeError);
    expect([...solver.lossHistory].length).toBe(9);
    expect(JSON.parse(JSON.stringify(solver.trainAccHistory))).toEqual([...solver.trainAccHistory]);
    expect(solver.updateRuleName).toBe("adam");
    expect(solver.learningRate).toBe(1e-3);
    solver.dispose();
    model.dispose();
  });

  it("state() then restoreState() into a fresh Solver continues bit-identically (no checkpoint in between)", () => {
    noLeak(() => {
      const options: tl.SolverOptions = {
        updateRule: "rmsprop",
        optimConfig: { learningRate: 1e-2 },
        lrDecay: 0.8,
        batchSize: 20,
        numEpochs: 2,
        verbose: false,
        seed: 4,
      };
      const a = net();
      const straight = new tl.Solver(a, data, { ...options, numEpochs: 4 });
      straight.train();
      const b = net();
      const first = new tl.Solver(b, data, options);
      let state: tl.SolverState | null = null;
      let last: Float32Array | Float64Array | null = null;
      first.onProgress = (e) => {
        if (e.iteration === 6) {
          state = first.state();
          last = b.paramStore.flat.toArray();
        }
      };
      first.train();
      b.paramStore.flat.set(last!); // the model's last parameters are the model's to restore
      b.rngState = 0;
      const resumed = new tl.Solver(b, data, { ...options, numEpochs: 4 });
      resumed.restoreState(structuredClone(state!));
      expect(resumed.epoch).toBe(2);
      resumed.train();
      expect(resumed.lossHistory).toEqual(straight.lossHistory);
      expect(b.paramStore.flat.toArray()).toEqual(a.paramStore.flat.toArray());
      for (const s of [straight, first, resumed]) s.dispose();
      for (const m of [a, b]) m.dispose();
    });
  });

  it('keep "last": the same run as keep "best", ending with the last parameters (saved as the ones to use), no best copies kept', () => {
    noLeak(() => {
      // Evaluated on different rows than it trains on, so the best check is not the last one.
      const val = makeData(40, 6, 77);
      const split = { XTrain: data.XTrain, yTrain: data.yTrain, XVal: val.X, yVal: val.y };
      const options: tl.SolverOptions = { updateRule: "sgdMomentum", optimConfig: { learningRate: 0.3 }, batchSize: 10, numEpochs: 6, verbose: false, seed: 6 };
      const a = net();
      const best = new tl.Solver(a, split, options);
      best.train();
      const b = net();
      const last = new tl.Solver(b, split, { ...options, keep: "last" });
      last.train();
      expect(last.keep).toBe("last");
      expect(best.keep).toBe("best");
      expect(last.lossHistory).toEqual(best.lossHistory);
      expect(last.valAccHistory).toEqual(best.valAccHistory);
      expect(last.bestValAcc).toBe(best.bestValAcc);
      // The check that picks "best" is not the last one here, so the two runs end apart.
      expect(best.valAccHistory.at(-1)).toBeLessThan(best.bestValAcc);
      expect(last.holdsBest).toBe(false);
      const lastOfBest = best.lastState();
      const mine = Object.fromEntries(Object.entries(b.params).map(([k, t]) => [k, Array.from(t.toArray())]));
      for (const [k, v] of Object.entries(mine)) expect(Array.from(lastOfBest[k]), k).toEqual(v);
      expect(a.params.W1.toArray()).not.toEqual(b.params.W1.toArray());
      expect(last.state().best).toBeNull();
      expect(last.state().options.keep).toBe("last");
      expect(best.state().options.keep).toBeUndefined();
      expect(() => last.restoreBest()).toThrow(/Solver\.restoreBest: .*options\.keep is "last"/);
      // A checkpoint stores the last parameters as the ones to use, and resumes with keep "last".
      const ck = tl.loadCheckpoint(tl.saveCheckpoint({ model: b, solver: last }));
      expect(ck.solver?.hasBest).toBe(false);
      expect(ck.solver?.options.keep).toBe("last");
      expect(ck.model.params.W1.toArray()).toEqual(b.params.W1.toArray());
      const more = new tl.Solver(ck.model, split, { ...options, keep: "last", numEpochs: 7 });
      ck.resume(more);
      more.train();
      expect(more.lossHistory.length).toBe(last.lossHistory.length + 6);
      const other = new tl.Solver(ck.model, split, { ...options, numEpochs: 8 });
      expect(() => other.restoreState(last.state())).toThrow(/keep best \(saved: last\)/);
      expect(() => new tl.Solver(ck.model, split, { ...options, keep: "first" as "last" })).toThrow(
        /Solver: options\.keep must be one of "best", "last" \(got "first"\)/,
      );
      for (const s of [best, last, more, other]) s.dispose();
      for (const m of [a, b, ck.model]) m.dispose();
      val.X.dispose();
    });
  });

  it("restoreState refuses a state that does not fit, and changes nothing when it refuses", () => {
    noLeak(() => {
      const model = net();
      const solver = new tl.Solver(model, data, { updateRule: "adam", batchSize: 20, numEpochs: 1, verbose: false, seed: 1 });
      solver.train();
      const state = solver.state();
      const fresh = () => new tl.Solver(model, data, { updateRule: "adam", batchSize: 20, numEpochs: 2, verbose: false, seed: 1 });
      const s = fresh();
      expect(() => s.restoreState({ ...state, lossHistory: [1] })).toThrow(/state\.lossHistory has 1 entries but state\.iteration is 3/);
      expect(() => s.restoreState({ ...state, accuracyIterations: [1] })).toThrow(/one entry per accuracy check/);
      expect(() => s.restoreState({ ...state, optimConfigs: { all: { numbers: {}, tensors: { m: { shape: [2], data: new Float32Array(2) } } } } })).toThrow(
        /tensors\.m must hold \d+ float32 values/,
      );
      expect(() => s.restoreState({ ...state, optimConfigs: { W1: { numbers: {}, tensors: {} } } })).toThrow(/unknown option "W1"|has keys/);
      expect(() => s.restoreState({ ...state, options: { ...state.options, seed: 2 } })).toThrow(/seed 1 \(saved: 2\)/);
      expect(s.iteration).toBe(0);
      expect(s.lossHistory.length).toBe(0);
      s.restoreState(state);
      expect(s.iteration).toBe(3);
      expect(() => s.restoreState(state)).toThrow(/already trained 3 iterations/);
      for (const x of [solver, s]) x.dispose();
      model.dispose();
    });
  });

  it("owns a copy of state tensors given in optimConfig, checked once against what they update", () => {
    noLeak(() => {
      const model = net();
      const size = model.paramStore.flat.size;
      const m = tl.keep(tl.zeros([size]));
      const solver = new tl.Solver(model, data, { updateRule: "adam", optimConfig: { m }, verbose: false, seed: 1 });
      m.dispose(); // the Solver's copy lives on
      solver.step();
      expect(solver.optimConfigs.all.m).not.toBe(m);
      solver.dispose();
      const wrong = tl.zeros([3]);
      expect(() => new tl.Solver(model, data, { updateRule: "adam", optimConfig: { m: wrong }, verbose: false })).toThrow(
        /Solver: options\.optimConfig\.m must have shape \[\d+\] \(the shape of the parameters it updates\)/,
      );
      expect(() => new tl.Solver(model, data, { updateRule: "adam", optimConfig: { m: model.paramStore.flat }, verbose: false })).toThrow(
        /must be its own tensor/,
      );
      wrong.dispose();
      model.dispose();
    });
  });

  it("copies the labels at construction: editing the caller's arrays later cannot reach the loop", () => {
    const model = net();
    const y = data.yTrain.slice();
    const solver = new tl.Solver(model, { ...data, yTrain: y, yVal: y }, { batchSize: 20, numEpochs: 1, verbose: false, seed: 1 });
    y.fill(99); // out of range for 4 classes: were they used, the loss kernel would read past the scores
    expect(() => solver.train()).not.toThrow();
    expect(solver.lossHistory.every(Number.isFinite)).toBe(true);
    solver.dispose();
    model.dispose();
  });
});

describe("both models take the same option names", () => {
  it("normalization on both; batchnorm: boolean as an alias on both; conflicting values refused", () => {
    const fc1 = new tl.FullyConnectedNet({ hiddenDims: [4], inputDim: 3, numClasses: 2, normalization: "batchnorm", seed: 1 });
    const fc2 = new tl.FullyConnectedNet({ hiddenDims: [4], inputDim: 3, numClasses: 2, batchnorm: true, seed: 1 });
    const cv1 = new tl.DeepConvNet({ inputDims: [1, 4, 4], numFilters: [2], maxPools: [0], numClasses: 2, normalization: "batchnorm", seed: 1 });
    const cv2 = new tl.DeepConvNet({ inputDims: [1, 4, 4], numFilters: [2], maxPools: [0], numClasses: 2, batchnorm: true, seed: 1 });
    expect(fc2.config).toEqual(fc1.config);
    expect(cv2.config).toEqual(cv1.config);
    expect(cv1.config.normalization).toBe("batchnorm");
    expect("batchnorm" in cv1.config).toBe(false);
    expect(Object.keys(cv1.params)).toContain("gamma1");
    expect(Object.keys(fc2.params)).toContain("gamma1");
    expect(() => new tl.DeepConvNet({ normalization: "batchnorm", batchnorm: false })).toThrow(
      /DeepConvNet: normalization "batchnorm" and batchnorm false disagree/,
    );
    expect(() => new tl.FullyConnectedNet({ hiddenDims: [2], batchnorm: "yes" as never })).toThrow(/FullyConnectedNet: batchnorm must be a boolean/);
    expect(() => new tl.DeepConvNet({ normalization: "layernorm" as never })).toThrow(/DeepConvNet: normalization must be "batchnorm" or null/);
    for (const m of [fc1, fc2, cv1, cv2]) m.dispose();
  });

  it("a checkpoint written by 0.1.0 (DeepConvNet { batchnorm: true }, Solver state without schedules) loads and resumes to the run it was part of", () => {
    noLeak(() => {
      const dir = new URL("./fixtures/checkpoints/", import.meta.url);
      const ck = tl.loadCheckpoint(new Uint8Array(readFileSync(new URL("deep-conv-net-0.1.0.safetensors", dir))));
      const expected = JSON.parse(readFileSync(new URL("deep-conv-net-0.1.0.expected.json", dir), "utf8"));
      expect(ck.version).toBe("0.1.0");
      expect((ck.model as tl.DeepConvNet).config.normalization).toBe("batchnorm");
      expect(ck.solver!.accuracyIterations).toEqual([1, 4]);
      // The data the fixture script made (test/fixtures/checkpoints/make-legacy.mjs).
      const make = (n: number, seed: number) => {
        const X = tl.keep(tl.randn([n, 1, 4, 4], { seed }));
        const x = X.toArray();
        const y = new Int32Array(n);
        for (let i = 0; i < n; i++) y[i] = (x[i * 16] > 0 ? 1 : 0) + (x[i * 16 + 1] > 0 ? 1 : 0);
        return { X, y };
      };
      const tr = make(40, 1);
      const va = make(20, 2);
      const solver = new tl.Solver(ck.model, { XTrain: tr.X, yTrain: tr.y, XVal: va.X, yVal: va.y }, { ...ck.solver!.options, numEpochs: 2, verbose: false });
      ck.resume(solver);
      solver.train();
      expect(solver.lossHistory).toEqual(expected.lossHistory);
      expect(solver.valAccHistory).toEqual(expected.valAccHistory);
      for (const [name, values] of Object.entries(expected.params as Record<string, number[]>)) {
        expect(Array.from(ck.model.params[name].toArray()), name).toEqual(values);
      }
      solver.dispose();
      ck.model.dispose();
      tr.X.dispose();
      va.X.dispose();
    });
  });
});

describe("module layering", () => {
  it("models know nothing of the loop that trains them: nothing in src/models imports src/training, and the Solver imports no model class", () => {
    const src = new URL("../src/", import.meta.url);
    const imports = (file: string) => [...readFileSync(new URL(file, src), "utf8").matchAll(/^(?:import|export)[^;]*?from "([^"]+)"/gms)].map((m) => m[1]);
    for (const file of readdirSync(new URL("models/", src))) {
      expect(
        imports(`models/${file}`).filter((i) => /solver|training/.test(i)),
        file,
      ).toEqual([]);
    }
    const solverImports = imports("training/solver.ts");
    expect(solverImports).toContain("../models/contract.js");
    expect(imports("models/kinds.ts")).toContain("./contract.js");
    expect(solverImports.filter((i) => /kinds|fully-connected|deep-conv|models\/model\.js/.test(i))).toEqual([]);
  });
  // That data readers and file formats know nothing of the Solver: test/layering.test.ts (rule no-solver).
});

describe("the public index", () => {
  it("exports what users call, not the internal helpers (they live in src/internal.ts)", () => {
    for (const name of [
      "ParamStore",
      "Workspace",
      "crc32",
      "checkDataset",
      "MODEL_KINDS",
      "modelKindOf",
      "checkpointParts",
      "encodeSafetensorsParts",
      "MAX_SAFETENSORS_HEADER_BYTES",
      "deriveSeed",
    ]) {
      expect(name in tl, name).toBe(false);
      expect(name in internal, name).toBe(true);
      expect(name in tl.internal, `internal.${name}`).toBe(true); // the one namespace the Node entry and CLI import them from
    }
    for (const name of [
      "FullyConnectedNet",
      "DeepConvNet",
      "Solver",
      "saveCheckpoint",
      "loadCheckpoint",
      "MAX_TENSOR_SIZE",
      "MAX_ALLOCATION_BYTES",
      "setSeed",
    ]) {
      expect(name in tl, name).toBe(true);
    }
  });

  it("helpers live in subpath entries: data sets and readers in tensorlane/data, the init experiment in tensorlane/experiments", () => {
    for (const name of [
      "makeDataset",
      "splitTrainVal",
      "computeNormalization",
      "toSolverData",
      "parseIdx",
      "parseCifar10",
      "gunzip",
      "FASHION_MNIST_CLASSES",
      "MAX_GUNZIP_BYTES",
    ]) {
      expect(name in tl, name).toBe(false);
      expect(name in tlData, name).toBe(true);
    }
    expect("runInitExperiment" in tl).toBe(false);
    expect(Object.keys(tlExperiments).sort()).toEqual(["INIT_SCHEMES", "runInitExperiment"]);
  });
});

describe("validation once at the boundary", () => {
  it("MaxPool.backward trusts only caches its forward made, unchanged; a copy or a swapped field is scanned (and a bad index refused)", () => {
    const x = tl.randn([2, 2, 4, 4], { seed: 1 });
    const [out, cache] = tl.MaxPool.forward(x, { poolHeight: 2, poolWidth: 2, stride: 2 });
    expect(maxPoolCacheIsTrusted(cache)).toBe(true);
    const copy = { ...cache };
    expect(maxPoolCacheIsTrusted(copy)).toBe(false);
    const dout = tl.ones(out.shape);
    const a = tl.MaxPool.backward(dout, cache);
    const b = tl.MaxPool.backward(dout, copy);
    expect(b.toArray()).toEqual(a.toArray());
    const forged = tl.full(out.shape, 16); // position 16 is outside a 4x4 plane
    expect(() => tl.MaxPool.backward(dout, { ...cache, argmax: forged })).toThrow(/cache\.argmax\[0\] is 16/);
    const swapped = cache.argmax;
    cache.argmax = forged; // the forward-made object, with a field replaced: no longer trusted
    expect(maxPoolCacheIsTrusted(cache)).toBe(false);
    expect(() => tl.MaxPool.backward(dout, cache)).toThrow(/cache\.argmax\[0\] is 16/);
    cache.argmax = swapped;
    cache.poolParam.stride = 1;
    expect(maxPoolCacheIsTrusted(cache)).toBe(false);
    for (const t of [x, out, swapped, dout, a, b, forged]) t.dispose();
  });

  it("labels marked as checked skip labelsToWasm's scan only while marked, and only against a class count at least as large", () => {
    const y = new Int32Array([0, 1, 5]); // 5 is out of range for 3 classes: the scan would refuse it
    expect(() => labelsToWasm("f", y, 3, 3)).toThrow(/f: y\[2\] must be an integer class index in \[0, 3\)/);
    expect(() => withCheckedLabels(y, 3, () => labelsToWasm("f", y, 3, 3))).not.toThrow(); // trusted: no scan
    expect(() => withCheckedLabels(y, 6, () => labelsToWasm("f", y, 3, 3))).toThrow(/y\[2\]/); // checked against more classes
    expect(() => withCheckedLabels(y, 3, () => labelsToWasm("f", y, 2, 3))).toThrow(/one label per row: 2/); // wrong count
    expect(labelsAreChecked(y, 3)).toBe(false); // the mark ends with the call
  });

  it("the Solver's steps hand model.loss labels it checked once (the model skips its scan), and foreign labels are still checked", () => {
    const net = new tl.FullyConnectedNet({ hiddenDims: [4], inputDim: 3, numClasses: 2, seed: 1 });
    const X = tl.randn([6, 3], { seed: 2 });
    expect(() => net.loss(X, new Int32Array([0, 1, 2, 0, 1, 0]))).toThrow(/FullyConnectedNet\.loss: y\[2\] must be an integer class index in \[0, 2\)/);
    const solver = new tl.Solver(net, { XTrain: X, yTrain: [0, 1, 1, 0, 1, 0], XVal: X, yVal: [0, 1, 1, 0, 1, 0] }, { batchSize: 3, verbose: false, seed: 1 });
    expect(Number.isFinite(solver.step())).toBe(true);
    // A model that reports whether the labels it is handed are marked as checked (against its 2 classes).
    const seen: boolean[] = [];
    const spy: tl.TrainableModel = {
      params: net.params,
      config: { numClasses: 2 },
      loss: ((Xb: tl.Tensor, yb?: tl.Labels) => {
        if (yb === undefined) return net.loss(Xb);
        seen.push(labelsAreChecked(yb, 2));
        return net.loss(Xb, yb);
      }) as tl.TrainableModel["loss"],
    };
    const s2 = new tl.Solver(
      spy,
      { XTrain: X, yTrain: [0, 1, 1, 0, 1, 0], XVal: X, yVal: [0, 1, 1, 0, 1, 0] },
      { updateRule: "sgd", batchSize: 3, verbose: false, seed: 1 },
    );
    s2.step();
    s2.step();
    expect(seen).toEqual([true, true]);
    s2.dispose();
    expect(() => new tl.Solver(net, { XTrain: X, yTrain: [0, 1, 2, 0, 1, 0], XVal: X, yVal: [0, 1, 1, 0, 1, 0] }, { verbose: false })).toThrow(
      /Solver \(data\.yTrain\): y\[2\] must be an integer class index in \[0, 2\)/,
    );
    solver.dispose();
    net.dispose();
    X.dispose();
  });

  it("toSolverData still refuses a bad data set or normalization, naming toSolverData", () => {
    const ds = tlData.makeDataset(new Uint8Array(2 * 4), new Int32Array([0, 1]), [1, 2, 2], { numClasses: 2 });
    expect(() => tlData.toSolverData(ds, { ...ds, labels: new Int32Array(3) })).toThrow(/toSolverData: val has 3 labels but/);
    expect(() => tlData.toSolverData(ds, ds, { mean: [0.5], std: [0] })).toThrow(/toSolverData: normalization/);
    const d = tlData.toSolverData(ds, ds, { mean: [0.5], std: [0.25] });
    expect(d.XTrain.shape).toEqual([2, 1, 2, 2]);
    expect(d.XTrain.toArray()[0]).toBe(Math.fround(-2));
    d.XTrain.dispose();
    d.XVal.dispose();
  });
});
