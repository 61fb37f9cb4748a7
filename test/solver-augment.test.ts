// The Solver's augment option and byte-set training data: byte batches equal the float path's
// bit for bit, augmented runs reproduce, memory stays flat, mixup's soft labels reach the loss.
import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import * as tlData from "../src/data/index.js";
import { byteSource } from "../src/data/batches.js";
import { allocBytes, freeBytes, i32, wasmMemoryBytes } from "../src/core/runtime.js";

beforeAll(() => tl.init());

/** Seeded byte images (N, 3, 6, 5) whose class shows in the mean of channel 0. */
function bytes(n: number, seed: number): tl.ImageDataset {
  const per = 3 * 6 * 5;
  const noise = tl.rand([n * per], { seed });
  const u = noise.toArray();
  noise.dispose();
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % 4);
  const images = Uint8Array.from(u, (v, k) => Math.floor(v * 200) + (k % per < 30 ? 15 * labels[Math.floor(k / per)] : 0));
  return tlData.makeDataset(images, labels, [3, 6, 5], { numClasses: 4 });
}

function net(): tl.DeepConvNet {
  return new tl.DeepConvNet({ inputDims: [3, 6, 5], numFilters: [4, 4], maxPools: [0], batchnorm: true, numClasses: 4, weightScale: "kaiming", seed: 3 });
}

const options = (augment: tl.Augmentation[] = []): tl.SolverOptions => ({
  updateRule: "adam",
  optimConfig: { learningRate: 3e-3 },
  batchSize: 16,
  numEpochs: 2,
  numTrainSamples: 40,
  numValSamples: 30,
  verbose: false,
  seed: 12,
  augment,
});

const ALL: tl.Augmentation[] = [{ type: "randomFlip" }, { type: "randomCrop", padding: 1 }, { type: "cutout", size: 2 }, { type: "mixup", alpha: 0.4 }];

function run(data: tl.SolverData, augment: tl.Augmentation[] = [], extra: tl.SolverOptions = {}) {
  const model = net();
  const solver = new tl.Solver(model, data, { ...options(augment), ...extra });
  solver.train();
  const out = { loss: solver.lossHistory, val: solver.valAccHistory, train: solver.trainAccHistory, params: tl.saveCheckpoint({ model }) };
  solver.dispose();
  model.dispose();
  return out;
}

describe("training from bytes", () => {
  it("a byte batch is the float path's batch bit for bit (staged bytes, converted and normalized in wasm)", () => {
    const ds = bytes(50, 1);
    const norm = tlData.computeNormalization(ds);
    const X = tlData.toTensor(ds, { normalization: norm });
    const source = byteSource("test", "ds", ds, norm);
    const idx = [49, 0, 7, 7, 23];
    const ptr = allocBytes(idx.length * 4);
    i32().set(idx, ptr >>> 2);
    const out = tl.zeros([idx.length, 3, 6, 5]);
    source.gather("test", out, ptr, idx.length);
    const want = tlData.toTensor(ds, { indices: idx, normalization: norm });
    expect(new Uint32Array(out.toArray().buffer)).toEqual(new Uint32Array(want.toArray().buffer));
    // And a contiguous range (accuracy checks) as well.
    const scratch = tl.keep(tl.zeros([10, 3, 6, 5]));
    const rows = source.rows(40, 10, () => scratch);
    expect(new Uint32Array(rows.toArray().buffer)).toEqual(new Uint32Array(X.toArray().slice(40 * 90).buffer));
    for (const t of [X, out, want, scratch]) t.dispose();
    freeBytes(ptr);
    source.dispose();
  });

  it("a Solver over byte sets trains exactly as over toSolverData's float tensors (losses, accuracies, parameters), with and without augmentation", () => {
    const train = bytes(120, 2),
      val = bytes(40, 3);
    const normalization = tlData.computeNormalization(train);
    const floats = tlData.toSolverData(train, val, normalization);
    // Sampled accuracy checks, and checks over every row (a byte set's converted batch by batch).
    for (const [augment, extra] of [
      [[], {}],
      [ALL, {}],
      [ALL, { numTrainSamples: null, numValSamples: null }],
    ] as const) {
      const a = run(floats, [...augment], extra);
      const b = run({ train, val, normalization }, [...augment], extra);
      expect(b.loss).toEqual(a.loss);
      expect(b.val).toEqual(a.val);
      expect(b.train).toEqual(a.train);
      expect(b.params).toEqual(a.params);
    }
    floats.XTrain.dispose();
    floats.XVal.dispose();
  });

  it("dispose() gives back every byte the source took (table, staging), and bad byte data is refused", () => {
    const train = bytes(60, 4),
      val = bytes(20, 5);
    const before = tl.memory();
    const model = net();
    const s = new tl.Solver(model, { train, val }, options());
    s.step();
    s.dispose();
    model.dispose();
    expect(tl.memory()).toEqual(before);
    const model2 = net();
    expect(() => new tl.Solver(model2, { train, val: bytes(5, 1) as unknown as tl.ImageDataset, normalization: { mean: [0], std: [1] } }, options())).toThrow(
      /Solver: normalization.mean must be an array of 3 numbers/,
    );
    const other = tlData.makeDataset(new Uint8Array(2 * 3 * 5 * 6), new Int32Array(2), [3, 5, 6], { numClasses: 4 });
    expect(() => new tl.Solver(model2, { train, val: other }, options())).toThrow(/data.val images are \[3, 5, 6\] but data.train images are \[3, 6, 5\]/);
    model2.dispose();
  });
});

describe("Solver augment option", () => {
  it("an augmented run reproduces bit for bit, differs from the plain run, losses finite", () => {
    const train = bytes(120, 6),
      val = bytes(40, 7);
    const normalization = tlData.computeNormalization(train);
    const a = run({ train, val, normalization }, ALL);
    const b = run({ train, val, normalization }, ALL);
    const plain = run({ train, val, normalization });
    expect(b.loss).toEqual(a.loss);
    expect(b.params).toEqual(a.params);
    expect(a.loss).not.toEqual(plain.loss);
    console.log(`augmented run: loss ${a.loss[0].toFixed(3)} -> ${a.loss.at(-1)!.toFixed(3)}, val acc ${a.val.join(", ")}`);
    expect(a.loss.every(Number.isFinite)).toBe(true);
  });

  it("state() carries the augment list (absent when empty); restoreState continues an augmented byte run bit for bit and refuses another list", () => {
    const train = bytes(64, 12),
      val = bytes(20, 13);
    const normalization = tlData.computeNormalization(train);
    const data: tl.SolverData = { train, val, normalization };
    const straightModel = net();
    const straight = new tl.Solver(straightModel, data, { ...options(ALL), numEpochs: 3 });
    straight.train();
    const model = net();
    const first = new tl.Solver(model, data, options(ALL));
    let state: tl.SolverState | null = null;
    let last: Float32Array | Float64Array | null = null;
    let buffers: Record<string, Float32Array | Float64Array> = {};
    first.onProgress = (e) => {
      if (e.iteration === 2 * first.iterationsPerEpoch) {
        state = first.state();
        last = model.paramStore.flat.toArray();
        buffers = Object.fromEntries(Object.entries(model.buffers).map(([k, t]) => [k, t.toArray()]));
      }
    };
    first.train();
    expect(state!.options.augment).toEqual(ALL);
    expect(JSON.parse(JSON.stringify(state!.options)).augment).toEqual(ALL);
    model.paramStore.flat.set(last!);
    for (const [k, t] of Object.entries(model.buffers)) t.set(buffers[k]);
    const other = new tl.Solver(model, data, { ...options(ALL.slice(0, 3)), numEpochs: 3 });
    expect(() => other.restoreState(structuredClone(state!))).toThrow(/would not continue the saved run: augment .*\(saved: .*mixup/);
    expect(other.iteration).toBe(0);
    const none = new tl.Solver(model, data, { ...options(), numEpochs: 3 });
    expect(() => none.restoreState(structuredClone(state!))).toThrow(/augment \[\] \(saved: /);
    expect("augment" in none.state().options).toBe(false); // runs without augmentation store no list
    const resumed = new tl.Solver(model, data, { ...options(ALL), numEpochs: 3 });
    resumed.restoreState(structuredClone(state!));
    resumed.train();
    expect(resumed.lossHistory).toEqual(straight.lossHistory);
    expect(resumed.valAccHistory).toEqual(straight.valAccHistory);
    expect(tl.saveCheckpoint({ model })).toEqual(tl.saveCheckpoint({ model: straightModel }));
    for (const x of [straight, first, other, none, resumed]) x.dispose();
    straightModel.dispose();
    model.dispose();
  });

  it("mixup's soft labels reach the model's loss (a model that only took integer labels would be refused)", () => {
    const train = bytes(40, 8),
      val = bytes(10, 9);
    const seen: string[] = [];
    const model = net();
    const loss = model.loss.bind(model) as (X: tl.Tensor, y?: tl.Targets) => unknown;
    const spy = Object.assign(Object.create(model), {
      loss: (X: tl.Tensor, y?: tl.Targets) => {
        if (y !== undefined) seen.push(y instanceof tl.Tensor ? `soft ${y.shape.join("x")}` : "labels");
        return y === undefined ? loss(X) : loss(X, y);
      },
    });
    const s = new tl.Solver(spy, { train, val }, { ...options([{ type: "mixup", alpha: 0.2 }]), numEpochs: 1 });
    s.step();
    expect(seen).toEqual(["soft 16x4"]);
    s.dispose();
    model.dispose();
  });

  it("memory is flat after the first step (buffers reused) and validation names the option", () => {
    const train = bytes(60, 10),
      val = bytes(20, 11);
    const model = net();
    const s = new tl.Solver(model, { train, val }, options(ALL));
    s.step();
    const tensors = tl.memory();
    const wasm = wasmMemoryBytes();
    for (let i = 0; i < 20; i++) s.step();
    expect(tl.memory()).toEqual(tensors);
    expect(wasmMemoryBytes()).toBe(wasm);
    s.dispose();
    const bad: [unknown, RegExp][] = [
      [{ type: "flip" }, /options.augment\[0\].type must be one of "randomFlip", "randomCrop", "cutout", "mixup" \(got "flip"\)/],
      [{ type: "randomCrop" }, /options.augment\[0\].padding must be an integer/],
      [{ type: "mixup", alpha: -1 }, /options.augment\[0\].alpha must be > 0/],
      [{ type: "cutout", size: 3, p: 1 }, /unknown option "p" in options.augment\[0\]/],
    ];
    for (const [entry, message] of bad) expect(() => new tl.Solver(model, { train, val }, options([entry as tl.Augmentation]))).toThrow(message);
    const flat = { XTrain: tl.keep(tl.zeros([8, 12])), yTrain: new Int32Array(8), XVal: tl.keep(tl.zeros([2, 12])), yVal: new Int32Array(2) };
    const fc = new tl.FullyConnectedNet({ hiddenDims: [4], inputDim: 12, numClasses: 4, seed: 1 });
    expect(() => new tl.Solver(fc, flat, options([{ type: "randomFlip" }]))).toThrow(
      /augment\[0\] \(randomFlip\) needs images \(N, C, H, W\), but the training rows have shape \[12\]/,
    );
    const mixOnly = new tl.Solver(fc, flat, options([{ type: "mixup", alpha: 1 }])); // mixup works on any rows
    mixOnly.step();
    mixOnly.dispose();
    fc.dispose();
    flat.XTrain.dispose();
    flat.XVal.dispose();
    model.dispose();
  });
});
