// importOnnx on what torch.onnx.export really writes (test/fixtures/torch/onnx/, opsets 11 to 17,
// every file of that folder): PyTorch's scores within 1e-4 of the largest and the same argmax in
// float32; in float64, gradients that match central differences; parameters named as the ONNX
// initializers; exportOnnx(importOnnx(bytes)) running in onnxruntime-web with the same scores;
// numClasses replacing the head; and every way a file can be refused (unsupported ops with their
// node, broken and hostile files), with nothing leaked.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-web";
import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { decodeSafetensors } from "../src/io/safetensors.js";
import { exportOnnx, importOnnx, OnnxUnsupportedError } from "../src/onnx/index.js";
import { initAndCheckLeaks, labels } from "./helpers.js";
import { mlpModel, numbers, onnxModel } from "./helpers/onnx-builder.js";
import { TORCH_FIXTURES } from "./helpers/torch-fixtures.js";

initAndCheckLeaks({ float64: true });
beforeAll(() => {
  ort.env.wasm.numThreads = 1;
});

const ONNX = join(TORCH_FIXTURES, "onnx");
const FILES = readdirSync(ONNX)
  .filter((f) => f.endsWith(".onnx"))
  .map((f) => f.slice(0, -5))
  .sort();
const GRAPHS = JSON.parse(readFileSync(join(ONNX, "graphs.json"), "utf8")) as { name: string; initializers: Record<string, number[]> }[];
const TOLERANCE = 1e-4;

function bytesOf(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(ONNX, `${name}.onnx`)));
}

function expected(name: string): { x: tl.Tensor; scores: Float32Array; shape: number[] } {
  const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(join(ONNX, `${name}.expected.safetensors`))));
  return { x: tl.tensor(tensors.x.data as Float32Array, [...tensors.x.shape]), scores: tensors.scores.data as Float32Array, shape: [...tensors.scores.shape] };
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

/** max |a - b| / max |b|. */
function relative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return worst / scale;
}

describe("importOnnx: every fixture of test/fixtures/torch/onnx", () => {
  it("covers the 17 files the README lists", () => {
    expect(FILES).toHaveLength(17);
  });

  it.each(FILES)("%s: PyTorch's scores within 1e-4 in float32, same argmax, parameters named as the initializers", (name) => {
    const model = importOnnx(bytesOf(name));
    const { x, scores, shape } = expected(name);
    const out = model.loss(x);
    const got = out.toArray();
    const rel = relative(got, scores);
    console.log(`${name}: max relative score error ${rel.toExponential(2)} (float32)`);
    expect(out.shape).toEqual(shape);
    expect(rel).toBeLessThan(TOLERANCE);
    expect(argmaxRows(got, shape[1])).toEqual(argmaxRows(scores, shape[1]));
    expect(Array.from(model.predict(x))).toEqual(argmaxRows(scores, shape[1]));
    // Every initializer of the file is a parameter or buffer of the model, under its own name and shape.
    const graph = GRAPHS.find((g) => g.name === name)!;
    const named: Record<string, readonly number[]> = {};
    for (const [n, t] of Object.entries({ ...model.params, ...model.buffers })) named[n] = t.shape;
    for (const [init, dims] of Object.entries(graph.initializers)) {
      expect(named[init], `${init} is a parameter or buffer`).toBeDefined();
      // MatMul's B (in, out) becomes Linear's (out, in) under the same name.
      expect(named[init]).toEqual(name === "matmul_add" && dims.length === 2 ? [dims[1], dims[0]] : dims);
    }
    expect(Object.keys(named).sort()).toEqual(Object.keys(graph.initializers).sort());
    out.dispose();
    x.dispose();
    model.dispose();
  });

  it.each(FILES)("%s: float64 gradients match central differences (up to 64 elements of every parameter)", (name) => {
    const model = importOnnx(bytesOf(name), { dtype: "float64", seed: 1 });
    const { x } = expected(name);
    const X = tl.tensor(x.toArray(), [...x.shape], { dtype: "float64" });
    const y = labels(x.shape[0], model.config.numClasses, 5);
    const [, grads] = model.loss(X, y);
    const analytic = Object.fromEntries(Object.entries(grads).map(([n, g]) => [n, g.toArray()]));
    expect(Object.keys(analytic)).toEqual([...model.parameterNames]);
    // A gradient that is zero by construction (a batch norm bias before another batch norm: the
    // second one removes any shift) is rounding noise on both sides, about 4e-10 for a loss near 2
    // and a step of 1e-6: errors are relative to the larger gradient of the two, but at least
    // 1e-3. The step is 1e-6 because some ReLU inputs of resnet_small are within 1e-5 of the kink.
    const h = 1e-6;
    let worst = 0;
    for (const p of model.parameterNames) {
      const w = model.params[p];
      const base = w.toArray();
      const step = Math.max(1, Math.floor(w.size / 64));
      const a: number[] = [];
      const num: number[] = [];
      for (let i = (w.size * 7919) % step; i < w.size; i += step) {
        const probe = base.slice();
        probe[i] = base[i] + h;
        w.set(probe);
        const plus = model.loss(X, y)[0];
        probe[i] = base[i] - h;
        w.set(probe);
        const minus = model.loss(X, y)[0];
        w.set(base);
        num.push((plus - minus) / (2 * h));
        a.push(analytic[p][i]);
      }
      const e = Math.max(...a.map((v, i) => Math.abs(v - num[i]))) / Math.max(1e-3, ...a.map(Math.abs), ...num.map(Math.abs));
      worst = Math.max(worst, e);
      expect(e, p).toBeLessThan(1e-6);
    }
    console.log(`${name}: worst gradient error ${worst.toExponential(2)} over ${model.parameterNames.length} parameters (float64)`);
    for (const t of [x, X]) t.dispose();
    model.dispose();
  });

  it.each(FILES)("%s: exportOnnx(importOnnx(bytes)) gives the original scores in onnxruntime-web", async (name) => {
    const model = importOnnx(bytesOf(name));
    const bytes = exportOnnx(model);
    const { x, scores, shape } = expected(name);
    const session = await ort.InferenceSession.create(bytes);
    try {
      const out = await session.run({ x: new ort.Tensor("float32", x.toArray() as Float32Array, [...x.shape]) });
      const got = out.scores.data as Float32Array;
      const rel = relative(got, scores);
      console.log(`${name}: exported again, onnxruntime-web within ${rel.toExponential(2)} of PyTorch`);
      expect(out.scores.dims).toEqual(shape);
      expect(rel).toBeLessThan(TOLERANCE);
      expect(argmaxRows(got, shape[1])).toEqual(argmaxRows(scores, shape[1]));
    } finally {
      await session.release();
    }
    // Imported again: the same names and the same numbers, bit for bit.
    const again = importOnnx(bytes);
    expect(again.parameterNames).toEqual(model.parameterNames);
    expect(Array.from(again.getParameters())).toEqual(Array.from(model.getParameters()));
    for (const [n, t] of Object.entries(model.buffers)) expect(Array.from(again.buffers[n].toArray()), n).toEqual(Array.from(t.toArray()));
    again.dispose();
    x.dispose();
    model.dispose();
  });
});

describe("importOnnx: what the model says about itself", () => {
  it("summary() names the dropped final Softmax / LogSoftmax; loss(X) gives the logits", () => {
    for (const [name, op] of [
      ["softmax_head", "Softmax"],
      ["logsoftmax_head", "LogSoftmax"],
    ] as const) {
      const model = importOnnx(bytesOf(name));
      expect(model.summary()).toMatch(new RegExp(`note: the final ${op} \\(node 3 \\(${op} "/3/${op}"\\)\\) was dropped`));
      expect(model.config.notes?.[0]).toMatch(/^imported from ONNX \(pytorch 1\.13\.0, opset 1[13], IR [67]\)$/);
      model.dispose();
    }
  });

  it("the fused conv+BN files import as convs with biases named onnx::Conv_NN; unfused BN keeps its running statistics", () => {
    const fused = importOnnx(bytesOf("cnn_fused"));
    expect(fused.parameterNames.slice(0, 2)).toEqual(["onnx::Conv_30", "onnx::Conv_31"]);
    expect(fused.modules[0].describe()).toMatch(/^Conv2d\(in_channels=1, out_channels=6, kernel_size=\(3, 3\), stride=1, padding=1, groups=1, bias=true/);
    fused.dispose();
    const unfused = importOnnx(bytesOf("cnn_bn_unfused"));
    expect(Object.keys(unfused.buffers)).toEqual(["2.running_mean", "2.running_var", "6.running_mean", "6.running_var"]);
    expect(unfused.modules.map((m) => m.type)).toEqual(["Conv2d", "ReLU", "BatchNorm2d", "MaxPool2d", "Flatten", "Linear", "BatchNorm1d", "ReLU", "Linear"]);
    expect(unfused.modules[2].args).toMatchObject({ eps: 1e-5, momentum: 0.1 });
    unfused.dispose();
  });

  it("resnet_small: residual blocks with identity and 1x1 stride-2 shortcuts, in PyTorch's order", () => {
    const model = importOnnx(bytesOf("resnet_small"));
    const types = model.modules.map((m) => m.type);
    expect(types.filter((t) => t === "Residual")).toHaveLength(3);
    const blocks = model.modules.filter((m) => m.type === "Residual").map((m) => m.describe());
    expect(blocks).toEqual(["Residual(body + identity)", "Residual(body + shortcut)", "Residual(body + shortcut)"]);
    model.dispose();
  });

  it("numClasses replaces the last Linear with a seeded PyTorch-initialized one under the same names; the rest is the file's", () => {
    const base = importOnnx(bytesOf("mlp_tanh"));
    const a = importOnnx(bytesOf("mlp_tanh"), { numClasses: 7, seed: 3 });
    const b = importOnnx(bytesOf("mlp_tanh"), { numClasses: 7, seed: 3 });
    const c = importOnnx(bytesOf("mlp_tanh"), { numClasses: 7, seed: 4 });
    expect(a.parameterNames).toEqual(base.parameterNames);
    expect(a.params["4.weight"].shape).toEqual([7, 16]);
    expect(a.params["4.bias"].shape).toEqual([7]);
    expect(a.config.numClasses).toBe(7);
    for (const n of ["0.weight", "0.bias", "2.weight", "2.bias"]) expect(Array.from(a.params[n].toArray()), n).toEqual(Array.from(base.params[n].toArray()));
    expect(Array.from(a.params["4.weight"].toArray())).toEqual(Array.from(b.params["4.weight"].toArray()));
    expect(Array.from(a.params["4.weight"].toArray())).not.toEqual(Array.from(c.params["4.weight"].toArray()));
    const bound = 1 / Math.sqrt(16);
    for (const v of [...a.params["4.weight"].toArray(), ...a.params["4.bias"].toArray()]) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    expect(a.summary()).toMatch(/note: numClasses: the last Linear\(16, 5\) was replaced by a new Linear\(16, 7\)/);
    for (const m of [base, a, b, c]) m.dispose();
    expect(() => importOnnx(bytesOf("mlp_tanh"), { numClasses: 0 })).toThrow(/importOnnx: options\.numClasses must be >= 1 \(got 0\)/);
  });

  it("a checkpoint of an imported model rebuilds it with the ONNX names and the notes", () => {
    const model = importOnnx(bytesOf("reshape_view_17"), { seed: 2 });
    const ck = tl.loadCheckpoint(tl.saveCheckpoint({ model }));
    const back = ck.model as tl.Sequential;
    expect(back.parameterNames).toEqual(model.parameterNames);
    expect(back.config.names).toEqual(model.config.names);
    expect(back.config.notes).toEqual(model.config.notes);
    expect(Array.from(back.getParameters())).toEqual(Array.from(model.getParameters()));
    back.dispose();
    model.dispose();
  });

  it("freeze by ONNX name: the frozen parameters get no gradient", () => {
    const model = importOnnx(bytesOf("cnn_bn_unfused"));
    model.freeze(/^[0-6]\./);
    expect(model.frozen).toEqual(["0.weight", "0.bias", "2.weight", "2.bias", "5.weight", "5.bias", "6.weight", "6.bias"]);
    const { x } = expected("cnn_bn_unfused");
    const [, grads] = model.loss(x, [1, 2, 3]);
    expect(Object.keys(grads)).toEqual(["8.weight", "8.bias"]);
    x.dispose();
    model.dispose();
  });
});

describe("importOnnx: files it refuses", () => {
  /** The error importOnnx throws for bytes (it must throw). */
  function refusal(bytes: Uint8Array, options?: tl.DType): Error {
    try {
      importOnnx(bytes, options === undefined ? {} : { dtype: options }).dispose();
    } catch (error) {
      return error as Error;
    }
    throw new Error("importOnnx accepted the file");
  }

  it("an op outside the list: an OnnxUnsupportedError naming the op, the node's name and index, and the supported list", () => {
    const bytes = mlpModel(4, 5, 3, {
      nodes: [{ op: "Sin", inputs: ["scores"], outputs: ["out"], name: "/head/Sin" }],
      outputs: [{ name: "out", dims: ["N", 3] }],
    });
    const e = refusal(bytes) as OnnxUnsupportedError;
    expect(e).toBeInstanceOf(OnnxUnsupportedError);
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toMatch(
      /^importOnnx: node 3 \(Sin "\/head\/Sin"\) is not an op importOnnx reads; it reads Gemm, MatMul \(\+ Add bias\), Conv, BatchNormalization, .*Softmax or LogSoftmax$/,
    );
    expect([e.opType, e.nodeName, e.nodeIndex]).toEqual(["Sin", "/head/Sin", 3]);
    // Another domain's op is named with its domain.
    const ms = mlpModel(4, 5, 3, {
      nodes: [{ op: "Gelu", domain: "com.microsoft", inputs: ["scores"], outputs: ["out"] }],
      outputs: [{ name: "out", dims: ["N", 3] }],
    });
    expect(refusal(ms).message).toMatch(/node 3 \(Gelu "\/Gelu_3"\) is in the domain "com\.microsoft"/);
  });

  it("graphs it cannot represent: two outputs, a dynamic image size, a Softmax mid-graph, a fixed-batch Reshape, weights shared by two layers", () => {
    const two = mlpModel(4, 5, 3, {
      outputs: [
        { name: "scores", dims: ["N", 3] },
        { name: "r", dims: ["N", 5] },
      ],
    });
    expect(refusal(two).message).toBe('importOnnx: the graph has 2 outputs ("scores", "r"); importOnnx takes a model with one output, the class scores');
    const dynamic = onnxModel({
      nodes: [
        { op: "Relu", inputs: ["x"], outputs: ["r"] },
        { op: "Flatten", inputs: ["r"], outputs: ["scores"] },
      ],
      inputs: [{ name: "x", dims: ["N", 1, "H", 4] }],
      outputs: [{ name: "scores" }],
    });
    expect(refusal(dynamic).message).toMatch(/dimension 2 of the input "x" is the symbol "H"; importOnnx needs every size but the batch's fixed/);
    const midSoftmax = onnxModel({
      nodes: [
        { op: "Gemm", inputs: ["x", "w", "b"], outputs: ["h"], attrs: { transB: 1 } },
        { op: "Softmax", inputs: ["h"], outputs: ["p"], attrs: { axis: 1 } },
        { op: "Gemm", inputs: ["p", "w2", "b2"], outputs: ["scores"], attrs: { transB: 1 } },
      ],
      initializers: [
        { name: "w", dims: [3, 4], values: numbers(12, 1) },
        { name: "b", dims: [3], values: numbers(3, 2) },
        { name: "w2", dims: [2, 3], values: numbers(6, 3) },
        { name: "b2", dims: [2], values: numbers(2, 4) },
      ],
      inputs: [{ name: "x", dims: ["N", 4] }],
      outputs: [{ name: "scores", dims: ["N", 2] }],
    });
    expect(refusal(midSoftmax).message).toMatch(
      /node 1 \(Softmax "\/Softmax_1"\) is not the last node; importOnnx reads Softmax only as the model's final node/,
    );
    const fixedBatch = onnxModel({
      nodes: [
        { op: "Constant", inputs: [], outputs: ["shape"], attrs: { value: { tensor: { name: "s", dims: [2], type: 7, values: [3, 16] } } } },
        { op: "Reshape", inputs: ["x", "shape"], outputs: ["flat"] },
        { op: "Gemm", inputs: ["flat", "w", "b"], outputs: ["scores"], attrs: { transB: 1 } },
      ],
      initializers: [
        { name: "w", dims: [2, 16], values: numbers(32, 1) },
        { name: "b", dims: [2], values: numbers(2, 2) },
      ],
      inputs: [{ name: "x", dims: ["N", 1, 4, 4] }],
      outputs: [{ name: "scores", dims: ["N", 2] }],
    });
    expect(refusal(fixedBatch).message).toMatch(
      /node 1 \(Reshape "\/Reshape_1"\) reshapes to a fixed batch of 3; importOnnx reads Reshape to \(N, features\) only/,
    );
    const shared = onnxModel({
      nodes: [
        { op: "Gemm", inputs: ["x", "w", "b"], outputs: ["h"], attrs: { transB: 1 } },
        { op: "Gemm", inputs: ["h", "w", "b"], outputs: ["scores"], attrs: { transB: 1 } },
      ],
      initializers: [
        { name: "w", dims: [4, 4], values: numbers(16, 1) },
        { name: "b", dims: [4], values: numbers(4, 2) },
      ],
      inputs: [{ name: "x", dims: ["N", 4] }],
      outputs: [{ name: "scores", dims: ["N", 4] }],
    });
    expect(refusal(shared).message).toMatch(/node 1 \(Gemm "\/Gemm_1"\) uses "w", which another layer uses too/);
    // An Add of two tensors that do not branch from one.
    const notResidual = onnxModel({
      nodes: [
        { op: "Gemm", inputs: ["x", "w", "b"], outputs: ["h"], attrs: { transB: 1 } },
        { op: "Relu", inputs: ["h"], outputs: ["r"] },
        { op: "Add", inputs: ["r", "x"], outputs: ["scores"] },
      ],
      initializers: [
        { name: "w", dims: [4, 4], values: numbers(16, 1) },
        { name: "b", dims: [4], values: numbers(4, 2) },
      ],
      inputs: [{ name: "x", dims: ["N", 4] }],
      outputs: [{ name: "scores", dims: ["N", 4] }],
    });
    const ok = importOnnx(notResidual); // x + relu(gemm(x)) IS a residual block (identity shortcut)
    expect(ok.modules.map((m) => m.describe())).toEqual(["Residual(body + identity)"]);
    ok.dispose();
  });

  it("broken files: a FileFormatError that says what is wrong (truncated, random bytes, a cycle, external data, a 2 GB claim)", () => {
    const good = bytesOf("mlp_tanh");
    for (const cut of [0, 1, 10, good.length >> 1, good.length - 1]) {
      const e = refusal(good.subarray(0, cut));
      expect(e, `cut at ${cut}: ${e.message}`).toBeInstanceOf(tl.FileFormatError);
      expect(e.message).toMatch(/^importOnnx: /);
    }
    const random = Uint8Array.from(numbers(4096, 7), (v) => Math.floor((v + 0.5) * 256));
    expect(refusal(random)).toBeInstanceOf(tl.FileFormatError);
    // A cycle: the first node reads what the second produces.
    const cycle = onnxModel({
      nodes: [
        { op: "Relu", inputs: ["b"], outputs: ["a"] },
        { op: "Relu", inputs: ["a"], outputs: ["b"] },
      ],
      inputs: [{ name: "x", dims: ["N", 4] }],
      outputs: [{ name: "b", dims: ["N", 4] }],
    });
    expect(refusal(cycle).message).toBe(
      'importOnnx: node 0 (Relu "/Relu_0") reads "b", which no earlier node, initializer or graph input produces (the graph has a cycle, or its nodes are not in topological order)',
    );
    const external = mlpModel(4, 5, 3, { initializers: [] });
    const ext = onnxModel({
      nodes: [{ op: "Gemm", inputs: ["x", "w"], outputs: ["scores"], attrs: { transB: 1 } }],
      initializers: [{ name: "w", dims: [3, 4], external: "weights.bin" }],
      inputs: [{ name: "x", dims: ["N", 4] }],
      outputs: [{ name: "scores", dims: ["N", 3] }],
    });
    void external;
    expect(refusal(ext).message).toMatch(/^importOnnx: initializer "w" is stored outside the file \(external data "weights\.bin"\)/);
    // 2^31 floats claimed by the dims, 12 bytes there.
    const huge = onnxModel({
      nodes: [{ op: "Gemm", inputs: ["x", "w"], outputs: ["scores"], attrs: { transB: 1 } }],
      initializers: [{ name: "w", dims: [2 ** 29, 4], values: [1, 2, 3] }],
      inputs: [{ name: "x", dims: ["N", 4] }],
      outputs: [{ name: "scores", dims: ["N", 2 ** 29] }],
    });
    expect(refusal(huge).message).toBe('importOnnx: tensor "w": its dims [536870912, 4] need 2147483648 values but the file holds 3');
    // A raw_data length field that claims 2 GB.
    const claim = onnxModel({
      nodes: [{ op: "Gemm", inputs: ["x", "w"], outputs: ["scores"], attrs: { transB: 1 } }],
      initializers: [{ name: "w", dims: [3, 4], rawBytes: new Uint8Array(48) }],
      inputs: [{ name: "x", dims: ["N", 4] }],
      outputs: [{ name: "scores", dims: ["N", 3] }],
    });
    const at = claim.findIndex((b, i) => b === 0x4a && claim[i + 1] === 48); // raw_data key (field 9, wire 2), length 48
    const forged = Uint8Array.from([...claim.subarray(0, at + 1), 0x80, 0x80, 0x80, 0x80, 0x08, ...claim.subarray(at + 2)]);
    const e = refusal(forged);
    expect(e).toBeInstanceOf(tl.FileFormatError);
    expect(e.message).toMatch(/claims 2147483648 bytes but only \d+ remain/);
  });

  it("bad arguments: TypeErrors naming them", () => {
    expect(() => importOnnx("model.onnx" as never)).toThrow(
      /^importOnnx: bytes must be the ONNX file's bytes, a Uint8Array or an ArrayBuffer \(got "model\.onnx"\)/,
    );
    expect(() => importOnnx(bytesOf("mlp_tanh"), { dtype: "float16" as never })).toThrow(/importOnnx: options\.dtype must be/);
    expect(() => importOnnx(bytesOf("mlp_tanh"), { batch: 3 } as never)).toThrow(/importOnnx: unknown option/);
    // An ArrayBuffer works as well.
    const b = bytesOf("mlp_tanh");
    importOnnx(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer).dispose();
  });
});
