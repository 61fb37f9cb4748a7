/**
 * tensorlane/onnx: trained models out as ONNX bytes (exportOnnx, opset 13) and ONNX files in as
 * tl.sequential models (importOnnx). Platform-neutral: bytes in memory, no files.
 *
 * @packageDocumentation
 */
// `tensorlane/onnx`: a trained model as ONNX bytes, for ONNX Runtime (servers, phones, browsers)
// and any other ONNX consumer, and ONNX files in as models (importOnnx, see import.ts).
// Platform-neutral: bytes in memory, no files (Node writes them with fs, a browser offers a
// download or keeps them in IndexedDB). A Sequential's graph is written by export-sequential.ts.
//
// The graph is the model's test-mode forward pass, what model.loss(X) computes:
//   FullyConnectedNet  x (N, D) -> {Gemm -> [BatchNormalization] -> Relu} x (L-1) -> Gemm -> scores (N, C)
//   DeepConvNet        x (N, C, H, W) -> {Conv 3x3 pad 1 -> [BatchNormalization] -> Relu -> [MaxPool 2x2]} x (L-1)
//                      -> Flatten -> Gemm -> scores (N, C)
// Dropout is the identity in test mode and is left out. Batch norm is written as
// BatchNormalization with the running statistics, not folded into the preceding weights. The
// scores do not decide it (trained Fashion-MNIST nets in ONNX Runtime: 2-3e-7 relative from
// model.loss either way, same argmax on 2,000 images); exactness of the file does: it then holds
// every trained number bit for bit, where folding rounds each weight once more and needs a square
// root computed outside wasm. ONNX Runtime fuses Conv+BatchNormalization itself when it loads the
// model. Initializers keep the model's parameter names (W1, b1, gamma1, runningMean1, ...), the
// names in the safetensors checkpoint.

// Everything from the library comes through its public entry, so the build shares one core chunk.
import { DeepConvNet, FullyConnectedNet, Sequential, VERSION, type Tensor } from "../index.js";
import type { WorkspaceModel } from "../models/model.js";
import { sequentialGraph } from "./export-sequential.js";
import { OnnxGraph } from "./graph.js";

export { OPSET, IR_VERSION } from "./graph.js";
export { importOnnx, onnxMetadata, OnnxUnsupportedError, SUPPORTED_OPS, type ImportOnnxOptions } from "./import.js";

// DeepConvNet's fixed geometry (private to the model; the ONNX Runtime tests fail if they drift).
const CONV = { HH: 3, WW: 3, stride: 1, pad: 1 };
const POOL = { poolHeight: 2, poolWidth: 2, stride: 2 };

/** Options of exportOnnx. */
export interface ExportOnnxOptions {
  /** Key-value strings stored in the model's metadata_props (e.g. the input normalization). */
  metadata?: Record<string, string>;
}

/**
 * The model's test-mode forward pass as an ONNX model (opset 13): input `x` of shape (N, D) for
 * a FullyConnectedNet, (N, C, H, W) for a DeepConvNet, (N, ...inputShape) for a Sequential
 * (tl.sequential or importOnnx), output `scores` (N, numClasses), with a dynamic batch
 * dimension N. The scores are model.loss(x)'s, within float rounding.
 */
export function exportOnnx(model: FullyConnectedNet | DeepConvNet | Sequential, options: ExportOnnxOptions = {}): Uint8Array {
  const fn = "exportOnnx";
  const metadata = checkMetadata(fn, options);
  if ((model instanceof FullyConnectedNet || model instanceof DeepConvNet || model instanceof Sequential) && model.dtype !== "float32") {
    // ONNX has DOUBLE tensors, but ONNX Runtime's CPU Conv is float only, and rounding the
    // parameters to float32 here would silently ship other numbers than the ones trained.
    throw new TypeError(
      `${fn}: the model is ${model.dtype}; ONNX export writes float32 models only (float64 is the gradient-check mode: train the model to export with dtype "float32")`,
    );
  }
  let graph: OnnxGraph;
  if (model instanceof FullyConnectedNet) graph = fullyConnectedGraph(fn, model);
  else if (model instanceof DeepConvNet) graph = deepConvGraph(fn, model);
  else if (model instanceof Sequential) {
    if (model.paramStore.flat.isDisposed) throw new TypeError(`${fn}: the model was disposed; export it before calling dispose()`);
    graph = sequentialGraph(fn, model);
  } else {
    const got = describeModel(model);
    // Same class name, other class: a model made by a second copy of the library (e.g. the <script> build).
    const twin = ["a FullyConnectedNet", "a DeepConvNet", "a Sequential"].includes(got)
      ? " from another copy of tensorlane: import exportOnnx from the build that made the model"
      : "";
    throw new TypeError(`${fn}: model must be a FullyConnectedNet, a DeepConvNet or a Sequential (got ${got}${twin})`);
  }
  return graph.encode({ name: "tensorlane", version: VERSION }, metadata);
}

function fullyConnectedGraph(fn: string, model: FullyConnectedNet): OnnxGraph {
  const { inputDim, hiddenDims, numClasses, normalization } = model.config;
  if (normalization !== null && normalization !== "batchnorm") {
    throw new TypeError(`${fn}: FullyConnectedNet normalization must be null or "batchnorm" to export (got ${JSON.stringify(normalization)})`);
  }
  const g = new OnnxGraph("FullyConnectedNet", { name: "x", dims: ["N", inputDim] }, { name: "scores", dims: ["N", numClasses] });
  const L = hiddenDims.length + 1;
  let h = "x"; // (N, dims[i-1])
  for (let i = 1; i < L; i++) {
    h = g.node("Gemm", [h, weight(fn, g, model, `W${i}`), weight(fn, g, model, `b${i}`)], `linear${i}`);
    if (normalization === "batchnorm") h = batchNorm(fn, g, model, i, h);
    h = g.node("Relu", [h], `relu${i}`);
  }
  g.node("Gemm", [h, weight(fn, g, model, `W${L}`), weight(fn, g, model, `b${L}`)], "scores");
  return g;
}

function deepConvGraph(fn: string, model: DeepConvNet): OnnxGraph {
  const { inputDims, numFilters, maxPools, normalization, numClasses } = model.config;
  const batchnorm = normalization === "batchnorm";
  const g = new OnnxGraph("DeepConvNet", { name: "x", dims: ["N", ...inputDims] }, { name: "scores", dims: ["N", numClasses] });
  const L = numFilters.length + 1;
  const conv = { kernel_shape: [CONV.HH, CONV.WW], pads: [CONV.pad, CONV.pad, CONV.pad, CONV.pad], strides: [CONV.stride, CONV.stride] };
  const pool = { kernel_shape: [POOL.poolHeight, POOL.poolWidth], strides: [POOL.stride, POOL.stride] }; // floor mode, as the model
  let h = "x"; // (N, C, H, W)
  for (let i = 1; i < L; i++) {
    h = g.node("Conv", [h, weight(fn, g, model, `W${i}`), weight(fn, g, model, `b${i}`)], `conv${i}`, conv);
    if (batchnorm) h = batchNorm(fn, g, model, i, h);
    h = g.node("Relu", [h], `relu${i}`);
    if (maxPools.includes(i - 1)) h = g.node("MaxPool", [h], `pool${i}`, pool);
  }
  h = g.node("Flatten", [h], "flatten", { axis: 1 }); // (N, C*H*W) in (C, H, W) order, as the model's linear reads it
  g.node("Gemm", [h, weight(fn, g, model, `W${L}`), weight(fn, g, model, `b${L}`)], "scores");
  return g;
}

/** BatchNormalization of layer i in inference form: scale, bias, running mean and variance. */
function batchNorm(fn: string, g: OnnxGraph, model: FullyConnectedNet | DeepConvNet, i: number, h: string): string {
  const state = model.bnParams[i - 1];
  if (state === undefined) throw new TypeError(`${fn}: the model has no batch-norm state for layer ${i}`);
  const inputs = [
    h,
    weight(fn, g, model, `gamma${i}`),
    weight(fn, g, model, `beta${i}`),
    g.constant(`runningMean${i}`, [state.runningMean.size], values(fn, `runningMean${i}`, state.runningMean)),
    g.constant(`runningVar${i}`, [state.runningVar.size], values(fn, `runningVar${i}`, state.runningVar)),
  ];
  return g.node("BatchNormalization", inputs, `batchnorm${i}`, { epsilon: { float: state.eps } });
}

/** Adds parameter `name` of the model as a constant; returns its name. */
function weight(fn: string, g: OnnxGraph, model: WorkspaceModel, name: string): string {
  const t = model.params[name];
  if (t === undefined) throw new TypeError(`${fn}: the model has no parameter ${name}`);
  return g.constant(name, t.shape, values(fn, name, t));
}

function values(fn: string, name: string, t: Tensor): Float32Array {
  if (t.isDisposed) throw new TypeError(`${fn}: the model was disposed (its ${name} is freed); export it before calling dispose()`);
  return t.toArray() as Float32Array; // float32: exportOnnx refuses float64 models first
}

function checkMetadata(fn: string, options: unknown): Record<string, string> {
  if (options === null || typeof options !== "object") throw new TypeError(`${fn}: options must be { metadata? } (got ${describeModel(options)})`);
  for (const key of Object.keys(options)) if (key !== "metadata") throw new TypeError(`${fn}: unknown option "${key}" (known: metadata)`);
  const metadata = (options as ExportOnnxOptions).metadata ?? {};
  if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
    throw new TypeError(`${fn}: options.metadata must be an object of strings (got ${describeModel(metadata)})`);
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== "string") throw new TypeError(`${fn}: options.metadata.${key} must be a string (got ${describeModel(value)})`);
  }
  return metadata;
}

/** What a value is, naming its class when it has one ("a Linear", "null", "a number"). */
function describeModel(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" && name !== "Object" ? `a ${name}` : "an object";
  }
  return typeof value === "undefined" ? "undefined" : `a ${typeof value}`;
}
