// Model-level checkpoints: round trip, bit-identical resume, and bad files rejected with errors
// that say what is wrong.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { crc32, sealCheckpoint } from "../src/internal.js";
import { loadCheckpointFile, saveCheckpointFile } from "../src/node/index.js";
import { labels } from "./helpers.js";

beforeAll(() => tl.init());
const dir = mkdtempSync(join(tmpdir(), "tensorlane-checkpoint-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const D = 12;
const C = 4;

/** Seeded data where the class depends on the features (so accuracy moves). */
function makeData(n: number, seed: number): { X: tl.Tensor; y: Int32Array } {
  const X = tl.keep(tl.randn([n, D], { seed }));
  const x = X.toArray();
  const noise = labels(n, 2, seed + 1);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = ((x[i * D] > 0 ? 1 : 0) * 2 + (x[i * D + 1] > 0 ? 1 : 0) + noise[i]) % C;
  return { X, y };
}

function newNet(): tl.FullyConnectedNet {
  return new tl.FullyConnectedNet({ hiddenDims: [16, 8], inputDim: D, numClasses: C, dropout: 0.2, reg: 1e-3, weightScale: "kaiming", seed: 5 });
}

function dataset() {
  const train = makeData(200, 11);
  const val = makeData(60, 23);
  return { XTrain: train.X, yTrain: train.y, XVal: val.X, yVal: val.y };
}

/** The same data as 3x2x2 images (D = 12), for the conv net. */
function imageDataset() {
  const d = dataset();
  return { ...d, XTrain: tl.keep(d.XTrain.reshape([200, 3, 2, 2])), XVal: tl.keep(d.XVal.reshape([60, 3, 2, 2])) };
}

function newConvNet(): tl.DeepConvNet {
  return new tl.DeepConvNet({
    inputDims: [3, 2, 2],
    numFilters: [6, 5],
    maxPools: [1],
    batchnorm: true,
    numClasses: C,
    weightScale: "kaiming",
    reg: 1e-3,
    seed: 8,
  });
}

/** A composed model on the same 3x2x2 images: batch norm, a residual block, a grouped conv, dropout. */
function newSequential(): tl.Sequential {
  return tl.sequential(
    [
      tl.nn.conv2d(3, 4, 3, { padding: 1, bias: false }),
      tl.nn.batchNorm2d(4),
      tl.nn.relu(),
      tl.nn.residual([tl.nn.conv2d(4, 4, 3, { padding: 1, bias: false }), tl.nn.batchNorm2d(4)]),
      tl.nn.relu(),
      tl.nn.conv2d(4, 4, 1, { groups: 2 }),
      tl.nn.flatten(),
      tl.nn.dropout(0.2),
      tl.nn.linear(16, C),
    ],
    { inputShape: [3, 2, 2], seed: 8, reg: 1e-3 },
  );
}

function newBatchnormNet(): tl.FullyConnectedNet {
  return new tl.FullyConnectedNet({
    hiddenDims: [16, 8],
    inputDim: D,
    numClasses: C,
    normalization: "batchnorm",
    dropout: 0.1,
    weightScale: "kaiming",
    seed: 6,
  });
}

const solverOptions = (numEpochs: number, updateRule: tl.SolverOptions["updateRule"] = "adam"): tl.SolverOptions => ({
  updateRule,
  optimConfig: { learningRate: 5e-3 },
  lrDecay: 0.9,
  batchSize: 25,
  numEpochs,
  numTrainSamples: 50,
  verbose: false,
  seed: 99,
});

/** Trains; returns the checkpoint taken at every epoch end (from onProgress) and the solver. */
function train(model: tl.CheckpointableModel, data: tl.SolverData, options: tl.SolverOptions, resumeFrom?: tl.LoadedCheckpoint) {
  const solver = new tl.Solver(model, data, options);
  resumeFrom?.resume(solver);
  const checkpoints: Uint8Array[] = [];
  solver.onProgress = (e) => {
    if (e.iteration % solver.iterationsPerEpoch === 0) checkpoints.push(tl.saveCheckpoint({ model, solver, meta: { note: "test" } }));
  };
  solver.train();
  return { solver, checkpoints };
}

describe("checkpoint round trip", () => {
  it("a FullyConnectedNet saved without a solver loads with the same config, params and scores", () => {
    const net = newNet();
    const X = tl.randn([5, D], { seed: 3 });
    const scores = net.loss(X);
    const bytes = tl.saveCheckpoint({ model: net, meta: { normalization: { mean: [0.5], std: [0.25] } } });
    const ck = tl.loadCheckpoint(bytes);
    expect(ck.kind).toBe("FullyConnectedNet");
    expect(ck.solver).toBeNull();
    expect(ck.version).toBe(tl.VERSION);
    expect(ck.meta).toEqual({ normalization: { mean: [0.5], std: [0.25] } });
    expect((ck.model as tl.FullyConnectedNet).config).toEqual(net.config);
    for (const [name, t] of Object.entries(net.params)) expect(ck.model.params[name].toArray(), name).toEqual(t.toArray());
    const again = ck.model.loss(X);
    expect(again.toArray()).toEqual(scores.toArray());
    for (const t of [X, scores, again]) t.dispose();
    net.dispose();
    ck.model.dispose();
  });

  it("a DeepConvNet with batch norm round-trips with its running statistics (test-mode scores equal)", () => {
    const data = imageDataset();
    const { solver } = train(newConvNet(), data, solverOptions(1)); // moves the running statistics off their initial values
    const net = solver.model as tl.DeepConvNet;
    const scores = net.loss(data.XVal);
    const ck = tl.loadCheckpoint(tl.saveCheckpoint({ model: net }));
    expect(ck.kind).toBe("DeepConvNet");
    expect((ck.model as tl.DeepConvNet).config).toEqual(net.config);
    expect(Object.keys(ck.model.buffers!)).toEqual(Object.keys(net.buffers));
    for (const [name, t] of Object.entries(net.buffers)) expect(ck.model.buffers![name].toArray(), name).toEqual(t.toArray());
    const again = ck.model.loss(data.XVal);
    expect(again.toArray()).toEqual(scores.toArray());
    for (const t of [scores, again, data.XTrain, data.XVal]) t.dispose();
    for (const m of [net, ck.model]) m.dispose();
    solver.dispose();
  });

  it("is a safetensors file whose tensors are the params by name (what PyTorch's safetensors reads)", () => {
    const net = newNet();
    const { tensors, metadata } = tl.decodeSafetensors(tl.saveCheckpoint({ model: net }));
    expect(Object.keys(tensors).sort()).toEqual(["W1", "W2", "W3", "b1", "b2", "b3"]);
    expect(tensors.W1.shape).toEqual([D, 16]);
    expect(tensors.W1.data).toEqual(net.params.W1.toArray());
    expect(metadata.format).toBe("tensorlane-checkpoint");
    expect(JSON.parse(metadata.model).config.hiddenDims).toEqual([16, 8]);
    net.dispose();
  });

  it("saveCheckpointFile / loadCheckpointFile go through disk", async () => {
    const net = newNet();
    const path = join(dir, "net.safetensors");
    await saveCheckpointFile(path, { model: net });
    expect(readFileSync(path)).toEqual(Buffer.from(tl.saveCheckpoint({ model: net })));
    const ck = await loadCheckpointFile(path);
    expect(ck.model.params.W2.toArray()).toEqual(net.params.W2.toArray());
    net.dispose();
    ck.model.dispose();
    await expect(loadCheckpointFile(join(dir, "missing.safetensors"))).rejects.toThrow(/checkpoint not found/);
  });
});

describe("resume", () => {
  for (const [label, rule] of [
    ["adam on the flat region", "adam"],
    ["a custom rule (per-parameter velocity state)", ((w, dw, c) => tl.sgdMomentum(w, dw, c)) as tl.UpdateRule],
  ] as const) {
    it(`3 epochs straight = 1 epoch, save, load, resume 2 epochs, bit for bit: ${label}`, () => {
      const data = dataset();
      const straight = train(newNet(), data, solverOptions(3, rule));
      const first = train(newNet(), data, solverOptions(1, rule));
      const ck = tl.loadCheckpoint(first.checkpoints[0]);
      expect(ck.solver?.iteration).toBe(8);
      expect(ck.solver?.options.updateRule).toBe(typeof rule === "string" ? rule : undefined);
      expect(ck.solver?.customUpdateRule).toBe(typeof rule !== "string");
      const resumed = train(ck.model as tl.FullyConnectedNet, data, { ...solverOptions(3, rule), ...ck.solver!.options, numEpochs: 3, updateRule: rule }, ck);

      expect(resumed.solver.lossHistory).toEqual(straight.solver.lossHistory);
      expect(resumed.solver.valAccHistory).toEqual(straight.solver.valAccHistory);
      expect(resumed.solver.bestValAcc).toBe(straight.solver.bestValAcc);
      // The checkpoints written at the last epoch end (last params, optimizer state, streams, best) are the same bytes.
      expect(resumed.checkpoints.at(-1)).toEqual(straight.checkpoints.at(-1));
      // And the best params restored at the end of train().
      const a = tl.saveCheckpoint({ model: straight.solver.model as tl.FullyConnectedNet });
      const b = tl.saveCheckpoint({ model: resumed.solver.model as tl.FullyConnectedNet });
      expect(b).toEqual(a);
      for (const s of [straight, first, resumed]) {
        s.solver.dispose();
        (s.solver.model as tl.FullyConnectedNet).dispose();
      }
      data.XTrain.dispose();
      data.XVal.dispose();
    });
  }

  for (const [label, make, data] of [
    ["DeepConvNet with batch norm (running statistics in buffers)", newConvNet, imageDataset],
    ["Sequential: batch norm, a residual block, a grouped conv, dropout", newSequential, imageDataset],
    ["Sequential with its first conv and batch norm frozen (the frozen set is saved and restored)", () => newSequential().freeze(/^[01]\./), imageDataset],
    ["FullyConnectedNet with batch norm and dropout", newBatchnormNet, dataset],
  ] as const) {
    it(`3 epochs straight = 1 epoch, save, load, resume 2 epochs, bit for bit: ${label}`, () => {
      const d = data();
      const straight = train(make(), d, solverOptions(3));
      const first = train(make(), d, solverOptions(1));
      const ck = tl.loadCheckpoint(first.checkpoints[0]);
      expect(Object.keys(ck.model.buffers ?? {}).length).toBeGreaterThan(0);
      expect(ck.model.frozen ?? []).toEqual((first.solver.model as tl.CheckpointableModel).frozen ?? []);
      const resumed = train(ck.model, d, { ...solverOptions(3), ...ck.solver!.options, numEpochs: 3, updateRule: "adam" }, ck);
      expect(resumed.solver.lossHistory).toEqual(straight.solver.lossHistory);
      expect(resumed.checkpoints.at(-1)).toEqual(straight.checkpoints.at(-1));
      expect(tl.saveCheckpoint({ model: resumed.solver.model as tl.CheckpointableModel })).toEqual(
        tl.saveCheckpoint({ model: straight.solver.model as tl.CheckpointableModel }),
      );
      for (const s of [straight, first, resumed]) {
        s.solver.dispose();
        (s.solver.model as tl.CheckpointableModel).dispose();
      }
      d.XTrain.dispose();
      d.XVal.dispose();
    });
  }

  it("3 epochs straight = 1 epoch, save, load, resume 2 epochs, bit for bit: DeepConvNet with augment [flip, crop, cutout, mixup]", () => {
    const d = imageDataset();
    const augment: tl.Augmentation[] = [
      { type: "randomFlip", p: 0.5 },
      { type: "randomCrop", padding: 1 },
      { type: "cutout", size: 1 },
      { type: "mixup", alpha: 0.3 },
    ];
    const options = (n: number): tl.SolverOptions => ({ ...solverOptions(n), augment });
    const straight = train(newConvNet(), d, options(3));
    const first = train(newConvNet(), d, options(1));
    const ck = tl.loadCheckpoint(first.checkpoints[0]);
    expect(ck.solver?.options.augment).toEqual(augment);
    const resumed = train(ck.model, d, { ...solverOptions(3), ...ck.solver!.options, numEpochs: 3, updateRule: "adam" }, ck);
    expect(resumed.solver.lossHistory).toEqual(straight.solver.lossHistory);
    expect(resumed.checkpoints.at(-1)).toEqual(straight.checkpoints.at(-1));
    // The augmentation changed the run (so the equality above covers its draws).
    const plain = train(newConvNet(), d, solverOptions(3));
    expect(plain.solver.lossHistory).not.toEqual(straight.solver.lossHistory);
    // A solver with another augment list would not continue the run.
    const ck2 = tl.loadCheckpoint(first.checkpoints[0]);
    const other = new tl.Solver(ck2.model, d, { ...ck2.solver!.options, augment: augment.slice(0, 3), updateRule: "adam", verbose: false });
    expect(() => ck2.resume(other)).toThrow(/augment .* \(saved: .*mixup/);
    // A checkpoint without augmentation writes no augment entry (files as before).
    expect(tl.loadCheckpoint(plain.checkpoints[0]).solver?.options.augment).toBeUndefined();
    for (const s of [straight, first, resumed, plain]) {
      s.solver.dispose();
      (s.solver.model as tl.CheckpointableModel).dispose();
    }
    other.dispose();
    ck2.model.dispose();
    d.XTrain.dispose();
    d.XVal.dispose();
  });

  it("refuses a solver that would not continue the run", () => {
    const data = dataset();
    const first = train(newNet(), data, solverOptions(1));
    const ck = tl.loadCheckpoint(first.checkpoints[0]);
    const other = new tl.Solver(ck.model, data, { ...ck.solver!.options, updateRule: "adam", batchSize: 20, verbose: false });
    expect(() => ck.resume(other)).toThrow(/batchSize 20 \(saved: 25\)/);
    const custom = train(
      newNet(),
      data,
      solverOptions(1, (w, dw, c) => tl.sgd(w, dw, c)),
    );
    const ckCustom = tl.loadCheckpoint(custom.checkpoints[0]);
    const builtin = new tl.Solver(ckCustom.model, data, { ...ckCustom.solver!.options, updateRule: "sgd", verbose: false });
    expect(() => ckCustom.resume(builtin)).toThrow(/updateRule sgd \(saved: a custom function: pass the same one\)/);
    for (const m of [ckCustom.model, custom.solver.model as tl.FullyConnectedNet]) m.dispose();
    const plain = tl.loadCheckpoint(tl.saveCheckpoint({ model: first.solver.model as tl.FullyConnectedNet }));
    const s = new tl.Solver(plain.model, data, { verbose: false });
    expect(() => plain.resume(s)).toThrow(/saved without a Solver/);
    for (const m of [ck.model, plain.model, first.solver.model as tl.FullyConnectedNet]) m.dispose();
    data.XTrain.dispose();
    data.XVal.dispose();
  });
});

describe("saving after train()", () => {
  it("gives the same bytes as the last epoch end's checkpoint: the best params to use, the last ones to resume from", () => {
    for (const [makeNet, data] of [
      [newNet, dataset()],
      [newConvNet, imageDataset()],
    ] as const) {
      const run = train(makeNet(), data, solverOptions(3));
      const model = run.solver.model as tl.CheckpointableModel;
      expect(run.solver.holdsBest).toBe(true);
      const after = tl.saveCheckpoint({ model, solver: run.solver, meta: { note: "test" } });
      expect(after).toEqual(run.checkpoints.at(-1));
      // The saved params are the best ones: they score as the model does after train().
      const X = tl.randn([7, ...data.XTrain.shape.slice(1)], { seed: 4 });
      const forUse = tl.loadCheckpoint(after).model;
      expect(forUse.loss(X).toArray()).toEqual(model.loss(X).toArray());
      forUse.dispose();
      // Resuming it to 5 epochs gives what 5 epochs straight give.
      const ck = tl.loadCheckpoint(after);
      const resumed = train(ck.model, data, { ...ck.solver!.options, numEpochs: 5, verbose: false }, ck);
      const straight = train(makeNet(), data, solverOptions(5));
      expect(resumed.checkpoints.at(-1)).toEqual(straight.checkpoints.at(-1));
      for (const s of [run.solver, resumed.solver, straight.solver]) {
        s.dispose();
        (s.model as tl.CheckpointableModel).dispose();
      }
      data.XTrain.dispose();
      data.XVal.dispose();
    }
  });
});

/** Decodes, lets `edit` change tensors and metadata, re-encodes with fresh checksums (a consistent but wrong file). */
function tamper(bytes: Uint8Array, edit: (tensors: Record<string, tl.SafetensorsTensor>, metadata: Record<string, string>) => void): Uint8Array {
  const { tensors, metadata } = tl.decodeSafetensors(bytes);
  const t = { ...tensors };
  const m = { ...metadata };
  edit(t, m);
  return tl.encodeSafetensors(t, sealCheckpoint(t, m));
}

/** The file as a checkpoint written before the per-part checksums: only the whole data section's crc32. */
function withoutPartChecksums(bytes: Uint8Array): Uint8Array {
  const { tensors, metadata } = tl.decodeSafetensors(bytes);
  const { crc32_tensors: _t, crc32_metadata: _m, ...m } = metadata;
  let crc = 0;
  for (const v of Object.values(tensors)) crc = crc32(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength), crc);
  return tl.encodeSafetensors(tensors, { ...m, crc32: crc.toString(16).padStart(8, "0") });
}

/** One byte of `bytes` changed: the first occurrence of `from` (ASCII, in the header) becomes `to`. */
function replaceInHeader(bytes: Uint8Array, from: string, to: string): Uint8Array {
  expect(to.length).toBe(from.length);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
  const at = text.indexOf(from);
  expect(at, `"${from}" in the header`).toBeGreaterThanOrEqual(0);
  const b = bytes.slice();
  b.set(new TextEncoder().encode(to), 8 + at);
  return b;
}

describe("bad checkpoints", () => {
  let good: Uint8Array;
  beforeAll(() => {
    const data = dataset();
    good = train(newNet(), data, solverOptions(1)).checkpoints[0];
  });

  const cases: [string, () => Uint8Array, RegExp][] = [
    ["truncated", () => good.subarray(0, good.length - 100), /truncated/],
    ["cut inside the header", () => good.subarray(0, 40), /truncated/],
    ["empty", () => new Uint8Array(0), /truncated: 0 bytes/],
    [
      "a flipped bit in the numbers",
      () => {
        const b = good.slice();
        b[b.length - 7] ^= 0x10;
        return b;
      },
      /the tensor data is corrupted: the bytes of tensor "resume\.optim\.all\.v" \(data bytes \d+\.\.\d+\) are damaged/,
    ],
    [
      "a flipped bit in the numbers of a file without per-tensor checksums",
      () => {
        const b = withoutPartChecksums(good);
        b[b.length - 7] ^= 0x10;
        return b;
      },
      /the tensor data is corrupted: the data section \(after the header\) has CRC-32 [0-9a-f]{8}, the file says [0-9a-f]{8}/,
    ],
    // One flipped bit in a digit keeps the header valid JSON: the metadata checksums catch it.
    [
      "a flipped bit in a number in the header's JSON",
      () => replaceInHeader(good, 'batchSize\\":25', 'batchSize\\":24'),
      /the header is damaged: metadata "solver" has CRC-32 [0-9a-f]{8}, the file says [0-9a-f]{8}/,
    ],
    [
      "a flipped bit in a metadata key",
      () => replaceInHeader(good, '"solver":', '"solvdr":'),
      /the header is damaged: metadata "solvdr" is not among the keys its checksums list/,
    ],
    [
      "a flipped bit in a tensor name",
      () => replaceInHeader(good, '"resume.optim.all.m"', '"resume.optim.alm.m"'),
      /the header is damaged: tensor "resume\.optim\.alm\.m" is not among the tensors its checksums list and tensor "resume\.optim\.all\.m" is missing/,
    ],
    [
      "a flipped bit in the checksums' own key",
      () => replaceInHeader(good, '"crc32_metadata"', '"crc32_metadatb"'),
      /the header is damaged: metadata "crc32_metadata" is missing/,
    ],
    [
      "a flipped bit in the header length",
      () => {
        const b = good.slice();
        b[0] ^= 0x01;
        return b;
      },
      /the header \(\d+ bytes after the 8-byte length\) is not valid JSON \(.*\): the header or its length is damaged/,
    ],
    [
      "a flipped high bit in the header length (it then runs past the end of the file)",
      () => {
        const b = good.slice();
        b[3] ^= 0x01;
        return b;
      },
      /truncated, or its header length \(bytes 0-7\) is damaged: it says \d+ bytes of header but only \d+ bytes follow/,
    ],
    [
      "a hostile header length",
      () => {
        const b = good.slice();
        new DataView(b.buffer).setUint32(4, 0xffffffff, true);
        return b;
      },
      /over the 100000000-byte limit/,
    ],
    ["plain safetensors, not a checkpoint", () => tl.encodeSafetensors({ W1: { shape: [1], data: new Float32Array(1) } }), /not a tensorlane checkpoint/],
    ["a missing parameter", () => tamper(good, (t) => delete t.W2), /tensor "W2" \(parameter W2\) is missing/],
    ["a missing resume tensor", () => tamper(good, (t) => delete t["resume.params.b1"]), /tensor "resume.params.b1" \(parameter b1\) is missing/],
    [
      "a parameter with the wrong shape",
      () => tamper(good, (t) => (t.W1 = { shape: [D, 15], data: new Float32Array(D * 15) })),
      /"W1" has shape \[12, 15\] but the model config gives parameter W1 the shape \[12, 16\]/,
    ],
    [
      "optimizer state with the wrong shape",
      () => tamper(good, (t) => (t["resume.optim.all.m"] = { shape: [3], data: new Float32Array(3) })),
      /"resume.optim.all.m" has shape \[3\]/,
    ],
    ["an unexpected tensor", () => tamper(good, (t) => (t.W9 = { shape: [1], data: new Float32Array(1) })), /unexpected tensor "W9"/],
    ["model metadata that is not JSON", () => tamper(good, (_, m) => (m.model = "{kind: FullyConnectedNet")), /metadata "model" is not valid JSON/],
    [
      "an unknown model kind",
      () => tamper(good, (_, m) => (m.model = JSON.stringify({ ...JSON.parse(m.model), kind: "Transformer" }))),
      /model kind "Transformer" is not one this tensorlane knows/,
    ],
    [
      "a config the model rejects",
      () =>
        tamper(good, (_, m) => {
          const model = JSON.parse(m.model);
          model.config.hiddenDims = [16, -8];
          m.model = JSON.stringify(model);
        }),
      /FullyConnectedNet rejected the stored model config \(FullyConnectedNet: hiddenDims\[1\] must be >= 1/,
    ],
    [
      "a config for other shapes",
      () =>
        tamper(good, (_, m) => {
          const model = JSON.parse(m.model);
          model.config.hiddenDims = [16, 9];
          m.model = JSON.stringify(model);
        }),
      /"W2" has shape \[16, 8\] but the model config gives parameter W2 the shape \[16, 9\]/,
    ],
    [
      "an unknown augmentation",
      () =>
        tamper(good, (_, m) => {
          const s = JSON.parse(m.solver);
          s.options.augment = [{ type: "randomFlip" }, { type: "rotate", degrees: 10 }];
          m.solver = JSON.stringify(s);
        }),
      /solver options.augment\[1\].type must be one of "randomFlip", "randomCrop", "cutout", "mixup" \(got "rotate"\)/,
    ],
    [
      "a solver history that disagrees with its iteration",
      () =>
        tamper(good, (_, m) => {
          const s = JSON.parse(m.solver);
          s.lossHistory.pop();
          m.solver = JSON.stringify(s);
        }),
      /lossHistory has 7 entries but iteration is 8/,
    ],
    [
      "a solver field of the wrong type",
      () => tamper(good, (_, m) => (m.solver = JSON.stringify({ ...JSON.parse(m.solver), rngState: "x" }))),
      /solver rngState must be a non-negative integer \(got "x"\)/,
    ],
    ["a newer format version", () => tamper(good, (_, m) => (m.format_version = "2")), /format version "2" is not one this tensorlane/],
  ];
  for (const [label, make, message] of cases) {
    it(`rejects ${label} with a FileFormatError`, () => {
      const before = tl.memory().liveTensors;
      let error: unknown;
      try {
        tl.loadCheckpoint(make(), "bad.safetensors");
      } catch (e) {
        error = e;
      }
      expect(error, "expected an error").toBeInstanceOf(tl.FileFormatError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/bad\.safetensors/);
      expect(tl.memory().liveTensors, "a rejected file leaves no tensors behind").toBe(before);
    });
  }

  it("the good file loads (the cases above fail for their own reason), and so does one without per-part checksums (older files)", () => {
    const ck = tl.loadCheckpoint(good);
    expect(ck.solver?.lossHistory.length).toBe(8);
    ck.model.dispose();
    const legacy = tl.loadCheckpoint(withoutPartChecksums(good));
    expect(legacy.solver?.lossHistory.length).toBe(8);
    legacy.model.dispose();
  });

  it("a flipped bit anywhere in the header or the length is an error, never a silent load", () => {
    const headerLength = new DataView(good.buffer, good.byteOffset).getUint32(0, true);
    const silent: number[] = [];
    for (let i = 0; i < 8 + headerLength; i++) {
      const b = good.slice();
      b[i] ^= 1 << (i % 8);
      try {
        tl.loadCheckpoint(b, "bad.safetensors").model.dispose();
        silent.push(i);
      } catch (error) {
        expect(error, `byte ${i}`).toBeInstanceOf(tl.FileFormatError);
      }
    }
    expect(silent, "bytes whose flipped bit loaded without an error").toEqual([]);
  });
});

describe("checkpoints written by main at 9ecb0cf (before the Solver's state had one schema)", () => {
  // The runs of test/fixtures/checkpoints/make-9ecb0cf.mjs: the checkpoint after epoch 1 of 3.
  const dir = new URL("./fixtures/checkpoints/", import.meta.url);
  function data(n: number, seed: number, shape: number[]) {
    const X = tl.keep(tl.randn([n, ...shape], { seed }));
    const x = X.toArray();
    const D = x.length / n;
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) y[i] = (x[i * D] > 0 ? 1 : 0) + (x[i * D + 1] > 0 ? 1 : 0);
    return { XTrain: X, yTrain: y, XVal: X.sliceView(0, [20, ...shape]), yVal: y.slice(0, 20) };
  }
  const cases: [string, number, number[], Partial<tl.SolverOptions>][] = [
    ["deep-conv-net-9ecb0cf", 3, [2, 4, 4], {}],
    [
      "fully-connected-net-9ecb0cf",
      4,
      [6],
      {
        updateRule: (w, dw, c) => tl.sgdMomentum(w, dw, c),
        lrSchedule: (epoch, iteration) => 0.05 / (1 + epoch + iteration / 8),
      },
    ],
  ];
  for (const [name, seed, shape, functions] of cases) {
    it(`${name}: loads, saves again to the same bytes, and resumes to the run it was part of`, () => {
      const bytes = new Uint8Array(readFileSync(new URL(`${name}.safetensors`, dir)));
      const expected = JSON.parse(readFileSync(new URL(`${name}.expected.json`, dir), "utf8"));
      const d = data(40, seed, shape);
      const ck = tl.loadCheckpoint(bytes);
      expect(ck.solver!.iteration).toBe(4);
      expect(ck.solver!.customUpdateRule).toBe("updateRule" in functions);
      expect(ck.solver!.customLrSchedule).toBe("lrSchedule" in functions);
      const solver = new tl.Solver(ck.model, d, { ...ck.solver!.options, numEpochs: 3, verbose: false, ...functions });
      ck.resume(solver);
      expect(tl.saveCheckpoint({ model: ck.model, solver, meta: { fixture: name } })).toEqual(bytes);
      solver.train();
      expect(solver.lossHistory).toEqual(expected.lossHistory);
      expect(solver.valAccHistory).toEqual(expected.valAccHistory);
      expect(solver.accuracyIterations).toEqual(expected.accuracyIterations);
      expect(solver.bestValAcc).toBe(expected.bestValAcc);
      for (const [param, values] of Object.entries(expected.params as Record<string, number[]>)) {
        expect(Array.from(ck.model.params[param].toArray()), param).toEqual(values);
      }
      solver.dispose();
      ck.model.dispose();
      d.XVal.dispose();
      d.XTrain.dispose();
    });
  }
});
