// SolverOptions.emaDecay: a moving average of the parameters and buffers, folded in after every
// step in wasm. Checked against the average computed on the host from the raw parameters of every
// step (to the bit, float32 rounding replayed with Math.fround), against a run without it (the
// same steps), and through state(), checkpoints and resume (bit-identical continuation).
import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { labels } from "./helpers.js";

beforeAll(() => tl.init({ float64: true }));

/** Runs body and expects it to free every tensor it made. */
function noLeak(body: () => void): void {
  const before = tl.memory().liveTensors;
  body();
  expect(tl.memory().liveTensors, "live tensors after the test (a leak)").toBe(before);
}

/** Seeded rows whose class depends on the first features, plus label noise. */
function makeData(n: number, D: number, seed: number, dtype: tl.DType = "float32") {
  const X = tl.keep(tl.randn([n, D], { seed, dtype }));
  const x = X.toArray();
  const noise = labels(n, 2, seed + 1);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = ((x[i * D] > 0 ? 1 : 0) * 2 + (x[i * D + 1] > 0 ? 1 : 0) + noise[i]) % 4;
  return { X, y };
}

/** A net with batch norm, so buffers (running statistics) are averaged too. */
function net(dtype: tl.DType = "float32") {
  return tl.sequential([tl.nn.linear(6, 12), tl.nn.batchNorm1d(12), tl.nn.relu(), tl.nn.linear(12, 4)], { inputShape: [6], seed: 3, dtype });
}

/** Every parameter and buffer of the model, in one fixed order, as plain numbers. */
function snapshot(model: { params: Record<string, tl.Tensor>; buffers?: Record<string, tl.Tensor> }): number[][] {
  return [...Object.values(model.params), ...Object.values(model.buffers ?? {})].map((t) => Array.from(t.toArray()));
}

describe("Solver emaDecay", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`${dtype}: the same steps as without it, and the model ends with the average of every step's parameters and buffers, to the bit`, () => {
      noLeak(() => {
        const train = makeData(60, 6, 11, dtype);
        const val = makeData(30, 6, 12, dtype);
        const data = { XTrain: train.X, yTrain: train.y, XVal: val.X, yVal: val.y };
        const options: tl.SolverOptions = {
          updateRule: "sgdNesterov",
          optimConfig: { learningRate: 0.2 },
          batchSize: 10,
          numEpochs: 3,
          verbose: false,
          seed: 5,
        };
        const plain = net(dtype);
        const a = new tl.Solver(plain, data, { ...options, keep: "last" }).train();
        const model = net(dtype);
        const decay = 0.8;
        const steps: number[][][] = [snapshot(model)];
        const b = new tl.Solver(model, data, { ...options, keep: "last", emaDecay: decay, onProgress: () => steps.push(snapshot(model)) });
        b.train();
        expect(b.emaDecay).toBe(decay);
        expect(b.lossHistory).toEqual(a.lossHistory);
        // The raw parameters the run continues from are the plain run's.
        const last = b.lastState();
        const plainNow = snapshot(plain);
        const names = [...Object.keys(model.params), ...Object.keys(model.buffers).map((n) => `buffer:${n}`)];
        names.forEach((name, k) => expect(Array.from(last[name]), name).toEqual(plainNow[k]));
        // The average on the host: TensorFlow's warm-up, then avg += (1 - d) * (w - avg) rounded as the kernel rounds.
        const round = dtype === "float32" ? Math.fround : (v: number) => v;
        const average = steps[0].map((values) => [...values]);
        for (let t = 0; t + 1 < steps.length; t++) {
          const rate = round(1 - Math.min(decay, (1 + t) / (10 + t)));
          average.forEach((values, k) => {
            for (let i = 0; i < values.length; i++) values[i] = round(values[i] + round(rate * round(steps[t + 1][k][i] - values[i])));
          });
        }
        expect(steps.length - 1).toBe(b.iteration);
        expect(snapshot(model)).toEqual(average);
        expect(b.holdsBest).toBe(true); // the model holds the average, not the last step's parameters
        // Accuracy checks scored the average: the last one is the model's accuracy now.
        expect(b.checkAccuracy(val.X, val.y)).toBe(b.valAccHistory.at(-1));
        const state = b.state();
        expect(state.options.emaDecay).toBe(decay);
        expect(state.averageUpdates).toBe(b.iteration);
        expect(a.state().averageUpdates).toBe(0);
        expect(a.state().average).toBeNull();
        for (const s of [a, b]) s.dispose();
        for (const m of [plain, model]) m.dispose();
        for (const x of [train.X, val.X]) x.dispose();
      });
    });
  }

  it('keep "best": the best snapshot is of the average, and train() restores it', () => {
    noLeak(() => {
      const train = makeData(60, 6, 21);
      const val = makeData(30, 6, 22);
      const data = { XTrain: train.X, yTrain: train.y, XVal: val.X, yVal: val.y };
      const model = net();
      const solver = new tl.Solver(model, data, {
        updateRule: "sgdMomentum",
        optimConfig: { learningRate: 0.3 },
        batchSize: 10,
        numEpochs: 5,
        verbose: false,
        seed: 6,
        emaDecay: 0.7,
      }).train();
      expect(solver.bestValAcc).toBe(Math.max(...solver.valAccHistory));
      expect(solver.checkAccuracy(val.X, val.y)).toBe(solver.bestValAcc);
      solver.dispose();
      model.dispose();
      for (const x of [train.X, val.X]) x.dispose();
    });
  });

  it("resumes bit-identically through state() and through a checkpoint, which stores the average as the parameters to use", () => {
    noLeak(() => {
      const train = makeData(60, 6, 31);
      const val = makeData(30, 6, 32);
      const data = { XTrain: train.X, yTrain: train.y, XVal: val.X, yVal: val.y };
      const options: tl.SolverOptions = { updateRule: "adam", batchSize: 10, verbose: false, seed: 7, keep: "last", emaDecay: 0.9 };
      const whole = net();
      const straight = new tl.Solver(whole, data, { ...options, numEpochs: 4 }).train();

      const half = net();
      const first = new tl.Solver(half, data, { ...options, numEpochs: 2 }).train();
      const bytes = tl.saveCheckpoint({ model: half, solver: first });
      const ck = tl.loadCheckpoint(bytes);
      // The parameters to use are the average the model holds; resume.params has the last step's.
      expect(snapshot(ck.model)).toEqual(snapshot(half));
      expect(ck.solver?.options.emaDecay).toBe(0.9);
      const resumed = new tl.Solver(ck.model, data, { ...ck.solver!.options, numEpochs: 4, verbose: false });
      ck.resume(resumed);
      resumed.train();
      expect(resumed.lossHistory).toEqual(straight.lossHistory);
      expect(snapshot(ck.model)).toEqual(snapshot(whole));
      expect(resumed.lastState()).toEqual(straight.lastState());

      // The same through state() / restoreState() into a fresh model holding the last parameters.
      const again = net();
      const last = first.lastState();
      for (const [name, t] of Object.entries(again.params)) t.set(last[name]);
      for (const [name, t] of Object.entries(again.buffers)) t.set(last[`buffer:${name}`]);
      const fromState = new tl.Solver(again, data, { ...options, numEpochs: 4 });
      fromState.restoreState(first.state());
      fromState.train();
      expect(snapshot(again)).toEqual(snapshot(whole));

      // A run must be continued with its own decay, and a state's average must fit its counter.
      const spare = net();
      const other = new tl.Solver(spare, data, { ...options, numEpochs: 4, emaDecay: 0.99 });
      expect(() => other.restoreState(first.state())).toThrow(/emaDecay 0\.99 \(saved: 0\.9\)/);
      const none = new tl.Solver(spare, data, { ...options, numEpochs: 4, emaDecay: null });
      expect(() => none.restoreState(first.state())).toThrow(/emaDecay null \(saved: 0\.9\)/);
      expect(() => other.restoreState({ ...first.state(), options: { ...first.state().options, emaDecay: 0.99 }, average: null })).toThrow(
        /state\.average must be given when state\.averageUpdates is 12/,
      );
      const { emaDecay: _drop, ...withoutDecay } = first.state().options;
      expect(() => none.restoreState({ ...first.state(), options: withoutDecay })).toThrow(
        /state\.averageUpdates is 12 but the run has no moving average \(options\.emaDecay\)/,
      );
      for (const s of [straight, first, resumed, fromState, other, none]) s.dispose();
      for (const m of [whole, half, ck.model, again, spare]) m.dispose();
      for (const x of [train.X, val.X]) x.dispose();
    });
  });

  it("refuses a decay outside (0, 1) with the option's name", () => {
    noLeak(() => {
      const train = makeData(20, 6, 41);
      const model = net();
      const data = { XTrain: train.X, yTrain: train.y, XVal: train.X, yVal: train.y };
      for (const bad of [0, 1, -0.5, 1.5, Number.NaN]) {
        expect(() => new tl.Solver(model, data, { emaDecay: bad, verbose: false }), String(bad)).toThrow(
          /Solver: options\.emaDecay must be in \(0, 1\), e\.g\. 0\.999 \(got /,
        );
      }
      expect(() => new tl.Solver(model, data, { emaDecay: "0.9" as unknown as number, verbose: false })).toThrow(
        /Solver: options\.emaDecay must be a number in \(0, 1\) or null \(got "0\.9"\)/,
      );
      const solver = new tl.Solver(model, data, { emaDecay: null, verbose: false });
      expect(solver.emaDecay).toBeNull();
      solver.dispose();
      model.dispose();
      train.X.dispose();
    });
  });
});
