// tensorlane/onnx: exported models run in ONNX Runtime (onnxruntime-web, wasm backend, in Node)
// and give model.loss(X)'s scores and argmax, for FC and conv nets with and without batch norm
// (trained a few steps, so the running statistics are far from their initial zeros), with
// dropout, and at two batch sizes through one exported model. A small decoder reads the bytes
// back to check the graph's structure (opset, names, dynamic batch, operators).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import * as ort from "onnxruntime-web";
import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { exportOnnx, importOnnx, onnxMetadata, OPSET } from "../src/onnx/index.js";
import { initAndCheckLeaks, labels } from "./helpers.js";

initAndCheckLeaks({ float64: true });
beforeAll(() => {
  ort.env.wasm.numThreads = 1; // the machine is shared; one thread is also the deterministic choice
});

const TOLERANCE = 1e-4; // max |onnx - tensorlane| relative to the largest |score|

type Model = tl.FullyConnectedNet | tl.DeepConvNet | tl.Sequential;

/** Seeded inputs of shape (n, ...row) and labels that depend on them (so training moves). */
function makeData(n: number, row: number[], classes: number, seed: number): { X: tl.Tensor; y: Int32Array } {
  const X = tl.keep(tl.randn([n, ...row], { seed }));
  const x = X.toArray();
  const D = x.length / n;
  const noise = labels(n, 2, seed + 1);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = ((x[i * D] > 0 ? 1 : 0) * 2 + (x[i * D + D - 1] > 0 ? 1 : 0) + noise[i]) % classes;
  return { X, y };
}

/** A few Adam steps in train mode: parameters move and batch norm's running statistics fill in. */
function trainBriefly(model: Model, row: number[], classes: number): void {
  const train = makeData(60, row, classes, 11);
  const val = makeData(20, row, classes, 12);
  const solver = new tl.Solver(
    model,
    { XTrain: train.X, yTrain: train.y, XVal: val.X, yVal: val.y },
    {
      updateRule: "adam",
      optimConfig: { learningRate: 5e-3 },
      batchSize: 10,
      numEpochs: 2,
      seed: 3,
      verbose: false,
    },
  );
  solver.train();
  solver.dispose();
  for (const t of [train.X, val.X]) t.dispose();
}

async function runOnnx(bytes: Uint8Array, X: tl.Tensor): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    expect(session.inputNames).toEqual(["x"]);
    expect(session.outputNames).toEqual(["scores"]);
    const out = await session.run({ x: new ort.Tensor("float32", X.toArray(), [...X.shape]) });
    expect(out.scores.dims).toEqual([X.shape[0], (out.scores.dims as number[])[1]]);
    return out.scores.data as Float32Array;
  } finally {
    await session.release();
  }
}

function argmaxRows(scores: ArrayLike<number>, C: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < scores.length / C; i++) {
    let best = 0;
    for (let j = 1; j < C; j++) if (scores[i * C + j] > scores[i * C + best]) best = j;
    out.push(best);
  }
  return out;
}

/** ONNX Runtime's scores for X against model.loss(X): relative error and argmax. Returns the error. */
async function expectSameScores(what: string, model: Model, bytes: Uint8Array, X: tl.Tensor): Promise<number> {
  const ref = model.loss(X);
  const expected = ref.toArray();
  const C = ref.shape[1];
  ref.dispose();
  const actual = await runOnnx(bytes, X);
  expect(actual.length, `${what}: score count`).toBe(expected.length);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  }
  const rel = worst / scale;
  console.log(`${what}: max |onnx - tensorlane| ${worst.toExponential(2)}, relative ${rel.toExponential(2)} (N=${X.shape[0]}, C=${C})`);
  expect(scale, `${what}: the scores are not all zero`).toBeGreaterThan(0);
  expect(rel, `${what}: relative error ${rel.toExponential(2)} exceeds ${TOLERANCE}`).toBeLessThan(TOLERANCE);
  expect(argmaxRows(actual, C), `${what}: argmax per row`).toEqual(argmaxRows(expected, C));
  return rel;
}

/** Checks batch norm's running statistics moved away from their initial zeros. */
function expectTrainedStatistics(model: Model): void {
  expect(model.bnParams.length).toBeGreaterThan(0);
  for (const state of model.bnParams) {
    const mean = state.runningMean.toArray();
    const variance = state.runningVar.toArray();
    expect(
      mean.some((v) => Math.abs(v) > 1e-3),
      "running mean moved",
    ).toBe(true);
    expect(
      variance.every((v) => v > 1e-3),
      "running variance positive everywhere",
    ).toBe(true);
    expect(
      variance.some((v) => Math.abs(v - 1) > 1e-2),
      "running variance is not the identity",
    ).toBe(true);
  }
}

// ---------------------------------------------------------------------------------------------
// A reader for the few ONNX fields the structure checks need (independent of the writer).

type Fields = Map<number, (number | Uint8Array)[]>;

function readFields(bytes: Uint8Array): Fields {
  const fields: Fields = new Map();
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[at++];
      value += (b & 0x7f) * scale;
      scale *= 128;
      if (b < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    let value: number | Uint8Array;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const n = varint();
      value = bytes.subarray(at, at + n);
      at += n;
    } else if (wire === 5) {
      value = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getFloat32(0, true);
      at += 4;
    } else throw new Error(`unexpected wire type ${wire}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

const text = (b: number | Uint8Array | undefined) => new TextDecoder().decode(b as Uint8Array);
const sub = (f: Fields, n: number) => (f.get(n) ?? []).map((b) => readFields(b as Uint8Array));

interface Structure {
  irVersion: number;
  opsets: number[];
  ops: string[];
  initializers: string[];
  input: { name: string; dims: (number | string)[] };
  output: { name: string; dims: (number | string)[] };
  metadata: Record<string, string>;
}

function structure(bytes: Uint8Array): Structure {
  const model = readFields(bytes);
  const graph = sub(model, 7)[0];
  const valueInfo = (vi: Fields) => {
    const shape = sub(sub(sub(vi, 2)[0], 1)[0], 2)[0];
    const dims = sub(shape, 1).map((d) => (d.has(1) ? (d.get(1)![0] as number) : text(d.get(2)![0])));
    return { name: text(vi.get(1)![0]), dims };
  };
  return {
    irVersion: model.get(1)![0] as number,
    opsets: sub(model, 8).map((o) => o.get(2)![0] as number),
    ops: sub(graph, 1).map((n) => text(n.get(4)![0])),
    initializers: sub(graph, 5).map((t) => text(t.get(8)![0])),
    input: valueInfo(sub(graph, 11)[0]),
    output: valueInfo(sub(graph, 12)[0]),
    metadata: Object.fromEntries(sub(model, 14).map((p) => [text(p.get(1)![0]), text(p.get(2)![0])])),
  };
}

// ---------------------------------------------------------------------------------------------

describe("exportOnnx: FullyConnectedNet in ONNX Runtime", () => {
  const D = 20;
  const C = 5;

  it("without batch norm: same scores and argmax; graph Gemm/Relu, opset 13, dynamic batch", async () => {
    const model = new tl.FullyConnectedNet({ hiddenDims: [16, 12], inputDim: D, numClasses: C, weightScale: "kaiming", seed: 1 });
    trainBriefly(model, [D], C);
    const bytes = exportOnnx(model);
    const s = structure(bytes);
    expect(s.opsets).toEqual([OPSET]);
    expect(OPSET).toBeGreaterThanOrEqual(13);
    expect(s.irVersion).toBe(7);
    expect(s.ops).toEqual(["Gemm", "Relu", "Gemm", "Relu", "Gemm"]);
    expect(s.initializers).toEqual(["W1", "b1", "W2", "b2", "W3", "b3"]);
    expect(s.input).toEqual({ name: "x", dims: ["N", D] });
    expect(s.output).toEqual({ name: "scores", dims: ["N", C] });
    const { X } = makeData(9, [D], C, 21);
    await expectSameScores("fc", model, bytes, X);
    X.dispose();
    model.dispose();
  });

  it("with batch norm (trained running statistics) and dropout: BatchNormalization, no Dropout", async () => {
    const model = new tl.FullyConnectedNet({
      hiddenDims: [16, 12],
      inputDim: D,
      numClasses: C,
      normalization: "batchnorm",
      dropout: 0.3,
      weightScale: "kaiming",
      seed: 2,
    });
    trainBriefly(model, [D], C);
    expectTrainedStatistics(model);
    const bytes = exportOnnx(model);
    const s = structure(bytes);
    expect(s.ops).toEqual(["Gemm", "BatchNormalization", "Relu", "Gemm", "BatchNormalization", "Relu", "Gemm"]);
    expect(s.initializers).toContain("runningVar2");
    const { X } = makeData(9, [D], C, 22);
    await expectSameScores("fc batchnorm dropout", model, bytes, X);
    X.dispose();
    model.dispose();
  });

  it("with dropout alone", async () => {
    const model = new tl.FullyConnectedNet({ hiddenDims: [10], inputDim: D, numClasses: C, dropout: 0.5, weightScale: "kaiming", seed: 3 });
    trainBriefly(model, [D], C);
    const bytes = exportOnnx(model);
    expect(structure(bytes).ops).toEqual(["Gemm", "Relu", "Gemm"]);
    const { X } = makeData(6, [D], C, 23);
    await expectSameScores("fc dropout", model, bytes, X);
    X.dispose();
    model.dispose();
  });
});

describe("exportOnnx: DeepConvNet in ONNX Runtime", () => {
  const C = 4;

  it("without batch norm: Conv/Relu/MaxPool/Flatten/Gemm, same scores and argmax", async () => {
    const model = new tl.DeepConvNet({ inputDims: [3, 8, 8], numFilters: [4, 6], maxPools: [0, 1], numClasses: C, weightScale: "kaiming", seed: 4 });
    trainBriefly(model, [3, 8, 8], C);
    const bytes = exportOnnx(model);
    const s = structure(bytes);
    expect(s.ops).toEqual(["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm"]);
    expect(s.input).toEqual({ name: "x", dims: ["N", 3, 8, 8] });
    expect(s.output).toEqual({ name: "scores", dims: ["N", C] });
    const { X } = makeData(5, [3, 8, 8], C, 24);
    await expectSameScores("conv", model, bytes, X);
    X.dispose();
    model.dispose();
  });

  it("with batch norm (trained), an unpooled layer and odd sizes (7x7 pools down to 3x3, floor mode)", async () => {
    const model = new tl.DeepConvNet({
      inputDims: [2, 7, 7],
      numFilters: [5, 3, 4],
      maxPools: [0, 2],
      batchnorm: true,
      numClasses: C,
      weightScale: "kaiming",
      seed: 5,
    });
    trainBriefly(model, [2, 7, 7], C);
    expectTrainedStatistics(model);
    const bytes = exportOnnx(model);
    const s = structure(bytes);
    expect(s.ops.filter((op) => op === "BatchNormalization")).toHaveLength(3);
    expect(s.ops.filter((op) => op === "MaxPool")).toHaveLength(2);
    const { X } = makeData(5, [2, 7, 7], C, 25);
    await expectSameScores("conv batchnorm", model, bytes, X);
    X.dispose();
    model.dispose();
  });
});

describe("exportOnnx: one exported model, two batch sizes", () => {
  it("N = 1 and N = 13 through the same bytes (the batch dimension is dynamic)", async () => {
    const model = new tl.DeepConvNet({ inputDims: [1, 6, 6], numFilters: [3], maxPools: [0], batchnorm: true, numClasses: 3, weightScale: "kaiming", seed: 6 });
    trainBriefly(model, [1, 6, 6], 3);
    const bytes = exportOnnx(model);
    for (const n of [1, 13]) {
      const { X } = makeData(n, [1, 6, 6], 3, 30 + n);
      await expectSameScores(`conv N=${n}`, model, bytes, X);
      X.dispose();
    }
    const fc = new tl.FullyConnectedNet({ hiddenDims: [8], inputDim: 6, numClasses: 3, normalization: "batchnorm", weightScale: "kaiming", seed: 7 });
    trainBriefly(fc, [6], 3);
    const fcBytes = exportOnnx(fc);
    for (const n of [2, 17]) {
      const { X } = makeData(n, [6], 3, 40 + n);
      await expectSameScores(`fc N=${n}`, fc, fcBytes, X);
      X.dispose();
    }
    model.dispose();
    fc.dispose();
  });
});

describe("exportOnnx: a tl.sequential of every module kind in ONNX Runtime", () => {
  it("conv (stride, groups, no bias), batch norms (trained), residual blocks, every activation and pool: same scores; importOnnx reads it back bit for bit", async () => {
    const { conv2d, batchNorm2d, batchNorm1d, relu, leakyRelu, sigmoid, tanh, gelu, maxPool2d, avgPool2d, globalAvgPool, residual, flatten, dropout, linear } =
      tl.nn;
    const model = tl.sequential(
      [
        conv2d(1, 6, 3, { padding: 1 }),
        batchNorm2d(6),
        relu(),
        maxPool2d(3, { stride: 2, padding: 1 }),
        residual(
          [conv2d(6, 8, 3, { stride: 2, padding: 1, bias: false }), batchNorm2d(8), relu(), conv2d(8, 8, 3, { padding: 1, bias: false }), batchNorm2d(8)],
          [conv2d(6, 8, 1, { stride: 2, bias: false }), batchNorm2d(8)],
        ),
        leakyRelu(0.1),
        residual([conv2d(8, 8, 3, { padding: 1, groups: 8 }), batchNorm2d(8), gelu({ approximate: "tanh" })]),
        avgPool2d(3, { stride: 1, padding: 1, countIncludePad: false }),
        sigmoid(),
        avgPool2d(2, { padding: 1 }),
        conv2d(8, 8, 1),
        gelu(),
        globalAvgPool(),
        flatten(),
        dropout(0.2),
        linear(8, 12),
        batchNorm1d(12),
        tanh(),
        linear(12, 5),
      ],
      { inputShape: [1, 15, 15], seed: 4 },
    );
    const data = makeData(40, [1, 15, 15], 5, 21);
    const solver = new tl.Solver(
      model,
      { XTrain: data.X, yTrain: data.y, XVal: data.X, yVal: data.y },
      {
        updateRule: "adam",
        optimConfig: { learningRate: 5e-3 },
        batchSize: 10,
        numEpochs: 1,
        seed: 3,
        verbose: false,
      },
    );
    solver.train();
    solver.dispose();
    const bytes = exportOnnx(model);
    const s = structure(bytes);
    expect(s.ops).toContain("BatchNormalization");
    expect(new Set(s.ops)).toEqual(
      new Set([
        "Conv",
        "BatchNormalization",
        "Relu",
        "MaxPool",
        "Add",
        "LeakyRelu",
        "Mul",
        "Tanh",
        "AveragePool",
        "Sigmoid",
        "Div",
        "Erf",
        "GlobalAveragePool",
        "Flatten",
        "Gemm",
      ]),
    );
    expect(s.initializers.slice(0, 4)).toEqual(["0.weight", "0.bias", "1.weight", "1.bias"]);
    const X = tl.keep(tl.randn([7, 1, 15, 15], { seed: 8 }));
    await expectSameScores("every module kind", model, bytes, X);
    const back = importOnnx(bytes);
    expect(back.parameterNames).toEqual(model.parameterNames);
    expect(Object.keys(back.buffers)).toEqual(Object.keys(model.buffers));
    expect(Array.from(back.getParameters())).toEqual(Array.from(model.getParameters()));
    const a = model.loss(X);
    const b = back.loss(X);
    expect(Array.from(b.toArray())).toEqual(Array.from(a.toArray()));
    for (const t of [a, b, X, data.X]) t.dispose();
    back.dispose();
    model.dispose();
  });
});

describe("exportOnnx: what it writes and what it refuses", () => {
  it("stores the exact trained numbers (W1 bit for bit) and the caller's metadata", () => {
    const model = new tl.FullyConnectedNet({ hiddenDims: [3], inputDim: 4, numClasses: 2, seed: 8 });
    const bytes = exportOnnx(model, { metadata: { normalization: '{"mean":[0.5],"std":[0.25]}' } });
    const graph = sub(readFields(bytes), 7)[0];
    const w1 = sub(graph, 5).find((t) => text(t.get(8)![0]) === "W1")!;
    const raw = w1.get(4)![0] as Uint8Array; // packed float_data
    const floats = new Float32Array(raw.slice().buffer);
    expect(Array.from(floats)).toEqual(Array.from(model.params.W1.toArray()));
    expect(structure(bytes).metadata).toEqual({ normalization: '{"mean":[0.5],"std":[0.25]}' });
    // onnxMetadata reads them back (what the CLI's --from uses for the inputs' scaling).
    expect(onnxMetadata(bytes)).toEqual({ normalization: '{"mean":[0.5],"std":[0.25]}' });
    expect(() => onnxMetadata("x" as never)).toThrow(/onnxMetadata: bytes must be the ONNX file's bytes/);
    expect(() => onnxMetadata(bytes.subarray(0, 20))).toThrow(tl.FileFormatError);
    model.dispose();
  });

  it("refuses what is not a FullyConnectedNet, DeepConvNet or Sequential, naming what it got", () => {
    expect(() => exportOnnx({} as never)).toThrow(/exportOnnx: model must be a FullyConnectedNet, a DeepConvNet or a Sequential \(got an object\)/);
    expect(() => exportOnnx(null as never)).toThrow(/\(got null\)/);
    expect(() => exportOnnx(new tl.internal.Workspace("w") as never)).toThrow(/\(got a Workspace\)/);
    expect(() => exportOnnx(tl.FullyConnectedNet as never)).toThrow(/\(got a function\)/);
    class FullyConnectedNet {} // what a model from a second copy of the library looks like
    expect(() => exportOnnx(new FullyConnectedNet() as never)).toThrow(
      /\(got a FullyConnectedNet from another copy of tensorlane: import exportOnnx from the build that made the model\)/,
    );
  });

  it("refuses a disposed model and bad options with a TypeError that says what to do", () => {
    const model = new tl.FullyConnectedNet({ hiddenDims: [3], inputDim: 4, numClasses: 2, normalization: "batchnorm", seed: 9 });
    expect(() => exportOnnx(model, { metadata: { a: 1 as never } })).toThrow(/exportOnnx: options\.metadata\.a must be a string \(got a number\)/);
    expect(() => exportOnnx(model, { meta: {} } as never)).toThrow(/exportOnnx: unknown option "meta" \(known: metadata\)/);
    model.dispose();
    expect(() => exportOnnx(model)).toThrow(TypeError);
    expect(() => exportOnnx(model)).toThrow(/exportOnnx: the model was disposed \(its W1 is freed\); export it before calling dispose\(\)/);
    const conv = new tl.DeepConvNet({ inputDims: [1, 4, 4], numFilters: [2], maxPools: [0], batchnorm: true, numClasses: 2, seed: 9 });
    conv.dispose();
    expect(() => exportOnnx(conv)).toThrow(/the model was disposed/);
  });

  it("refuses a float64 model (either kind) with a TypeError naming its dtype, and writes nothing", () => {
    const fc = new tl.FullyConnectedNet({ hiddenDims: [3], inputDim: 4, numClasses: 2, seed: 10, dtype: "float64" });
    const conv = new tl.DeepConvNet({ inputDims: [1, 4, 4], numFilters: [2], maxPools: [0], numClasses: 2, seed: 10, dtype: "float64" });
    for (const model of [fc, conv]) {
      expect(() => exportOnnx(model)).toThrow(TypeError);
      expect(() => exportOnnx(model)).toThrow(/exportOnnx: the model is float64; ONNX export writes float32 models only/);
    }
    fc.dispose();
    conv.dispose();
    // The same nets in float32 export (the refusal is about the dtype alone).
    const fc32 = new tl.FullyConnectedNet({ hiddenDims: [3], inputDim: 4, numClasses: 2, seed: 10 });
    expect(exportOnnx(fc32).length).toBeGreaterThan(0);
    fc32.dispose();
  });
});

describe("the built entry dist/onnx.js (needs `npm run build`; npm test does it)", () => {
  const root = resolve(import.meta.dirname, "..");
  const file = join(root, "dist", "onnx.js");

  it("is small, platform-neutral, and shares the core: it imports only ./tensorlane.js", () => {
    const code = readFileSync(file, "utf8");
    const gzip = gzipSync(code, { level: 9 }).length;
    console.log(`dist/onnx.js: ${code.length} bytes minified, ${gzip} gzip`);
    // The export side (hand-written protobuf writer) is about 5 KB gzip (protobufjs alone is ~15 KB);
    // importOnnx (reader, graph conversion, its error messages) about 14 KB more. An app that
    // imports only exportOnnx leaves the importer out (the entry has no side effects).
    expect(gzip, "exportOnnx ~5 KB + importOnnx ~14 KB gzip").toBeLessThan(20_000);
    const imports = [...code.matchAll(/\bfrom\s*["']([^"']+)["']/g)].map((m) => m[1]);
    expect(imports).toEqual(["./tensorlane.js"]);
    for (const forbidden of [/["']node:/, /\brequire\s*\(/, /\bfetch\s*\(/, /\beval\s*\(/, /(?<![\w$.])import\s*\(/]) expect(code).not.toMatch(forbidden);
  });

  it("Node imports tensorlane and tensorlane/onnx by package name and exports the same bytes as the source", () => {
    const app = mkdtempSync(join(tmpdir(), "tensorlane-onnx-consumer-"));
    try {
      mkdirSync(join(app, "node_modules"));
      symlinkSync(root, join(app, "node_modules", "tensorlane"), "dir");
      writeFileSync(
        join(app, "main.mjs"),
        [
          'import { init, DeepConvNet } from "tensorlane";',
          'import { exportOnnx } from "tensorlane/onnx";',
          "await init();",
          "const model = new DeepConvNet({ inputDims: [1, 6, 6], numFilters: [3], maxPools: [0], batchnorm: true, numClasses: 3, seed: 12 });",
          'process.stdout.write(Buffer.from(exportOnnx(model)).toString("base64"));',
        ].join("\n"),
      );
      const run = spawnSync(process.execPath, ["main.mjs"], { cwd: app, encoding: "utf8", timeout: 30_000 });
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      const model = new tl.DeepConvNet({ inputDims: [1, 6, 6], numFilters: [3], maxPools: [0], batchnorm: true, numClasses: 3, seed: 12 });
      expect(run.stdout).toBe(Buffer.from(exportOnnx(model)).toString("base64"));
      model.dispose();
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });
});
