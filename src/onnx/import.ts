// importOnnx: an ONNX file as a tl.sequential of tl.nn modules, parameters keyed by the ONNX
// initializer names. What torch.onnx.export writes at opsets 11 to 17 (see
// test/fixtures/torch/README.md) maps onto the modules:
//
//   Gemm (transB), MatMul (+ Add)         -> linear              weight (out, in): Gemm's B, MatMul's B transposed
//   Conv                                  -> conv2d              stride, symmetric pads, groups; a fused BN's bias
//   BatchNormalization (inference)        -> batchNorm1d / 2d    running statistics from the file
//   Relu, LeakyRelu, Tanh, Sigmoid        -> relu, leakyRelu, tanh, sigmoid
//   GELU: Gelu, or the Erf / Tanh pattern -> gelu({ approximate })
//   MaxPool, AveragePool, Pad + AveragePool, GlobalAveragePool -> maxPool2d, avgPool2d, globalAvgPool
//   Flatten, Reshape to (N, features) (a constant shape, or Shape-Gather-Unsqueeze-Concat) -> flatten
//   Add of two branches of one tensor     -> residual(body, shortcut)
//   Dropout, Identity, an all-zero Pad    -> nothing
//   a final Softmax / LogSoftmax          -> dropped (loss(X) gives the logits; summary() says so)
//
// The graph is read in node order, each value given a symbolic meaning: a constant, an
// activation (made by a layer), an elementwise expression over one activation (matched against
// the GELU forms when something else reads it), a zero-padded activation (only AveragePool may
// read it), or shape arithmetic (only Reshape may read it). The layers then form a graph over the
// activations, which must be a chain from the input to the output whose only forks are residual
// blocks: two branches from one tensor that meet again in an Add.
//
// Errors: a broken file is a FileFormatError; a valid file this cannot represent is an
// OnnxUnsupportedError (a RangeError) that names the op, the node's name and index, and what is
// supported. Nothing in wasm memory exists until the model is built, and a model whose values
// cannot be set is disposed, so a failed import leaks nothing.
// Values from the library come through its public entry (so the build keeps one core chunk, the
// library's own); types from anywhere.
import { FileFormatError, internal, nn, Sequential, type DType } from "../index.js";
import type { Module } from "../nn/module.js";
import {
  AttrType,
  DataType,
  dataTypeName,
  readOnnxModel,
  tensorValues,
  type OnnxAttribute,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from "./model-proto.js";

const FN = "importOnnx";
// Destructured, not read as linear: a namespace member read from another entry would make the
// bundler export that member from the core chunk under a name of its own.
const { checkEnum, checkInteger, checkOptions, checkSeed, describe, requireDtype, sizeOf } = internal;
const { Linear, linear, conv2d, batchNorm1d, batchNorm2d, relu, tanh, sigmoid, leakyRelu, gelu, maxPool2d, avgPool2d, globalAvgPool, flatten, residual } = nn;

/** The operators importOnnx reads, as its error messages list them. */
export const SUPPORTED_OPS =
  "Gemm, MatMul (+ Add bias), Conv, BatchNormalization, Relu, LeakyRelu, Tanh, Sigmoid, GELU (Gelu, or the Erf and tanh patterns of Div, Erf, Tanh, Add, Mul), " +
  "MaxPool, AveragePool (with a constant Pad before it), GlobalAveragePool, Flatten, Reshape to (N, features) (with Shape, Gather, Unsqueeze, Concat), " +
  "Add (residual), Dropout, Identity, Constant, and a final Softmax or LogSoftmax";

/** Default-domain opsets importOnnx reads (PyTorch 1.13 writes 7 to 17; the fixtures cover 11 to 17). */
export const MIN_OPSET = 7;
export const MAX_OPSET = 21;

/** Largest activation of one example (values) an imported model may have. */
const MAX_ACTIVATION = 2 ** 26;
/** Deepest nesting of residual blocks. */
const MAX_NESTING = 32;
/** Largest elementwise expression (nodes) that may still become a GELU. */
const MAX_EXPR = 48;

/** A valid ONNX file that importOnnx cannot represent: an op, an attribute value or a graph shape outside what it supports. */
export class OnnxUnsupportedError extends RangeError {
  /** "OnnxUnsupportedError", so messages and logs tell it from a malformed file (FileFormatError). */
  override name = "OnnxUnsupportedError";
  constructor(
    message: string,
    /** The node's op type, when a node is the reason. */
    readonly opType?: string,
    /** The node's name ("" when the file gives none). */
    readonly nodeName?: string,
    /** The node's index in the graph. */
    readonly nodeIndex?: number,
  ) {
    super(message);
  }
}

/** Options of importOnnx: the model's dtype and an optional new classification head. */
export interface ImportOnnxOptions {
  /** "float32" (default) or "float64" (after init({ float64: true })): the model's dtype. */
  dtype?: DType;
  /**
   * Replace the last Linear with a new one of this many outputs (for fine-tuning on other
   * classes), initialized as PyTorch initializes Linear from `seed`. Its parameters keep the
   * replaced layer's names.
   */
  numClasses?: number;
  /** Seeds the new head (numClasses) and dropout streams. Default: drawn from the global stream. */
  seed?: number;
}

// ---------------------------------------------------------------------------------------------
// Symbols: what each ONNX value means.

interface Const {
  k: "const";
  /** The value's name (an initializer's name, or a Constant node's output). */
  name: string;
  dims: number[];
  /** Decoded on first use. */
  values: Float64Array | null;
  tensor: OnnxTensor | null;
  isInt: boolean;
  /** Layers that took it as a parameter or buffer. */
  owners: number;
}

interface Act {
  k: "act";
  id: number;
}

type Expr = { op: "x" } | { op: "c"; v: number } | { op: "add" | "mul" | "div"; a: Expr; b: Expr } | { op: "erf" | "tanh"; a: Expr };

interface ExprSym {
  k: "expr";
  base: number;
  e: Expr;
  size: number;
  node: OnnxNode;
  /** The activation a GELU made of it (once something other than arithmetic read it). */
  act: number;
  read: boolean;
}

interface Padded {
  k: "padded";
  base: number;
  pad: number;
  node: OnnxNode;
  read: boolean;
}

/** Shape arithmetic: items are "batch" (the dynamic N) or sizes; scalar for a Gather of one index. */
interface Dims {
  k: "dims";
  items: ("batch" | number)[];
  scalar: boolean;
}

/** A value nothing may read (a fused MatMul's output, BatchNormalization's training outputs, MaxPool's indices). */
interface Dead {
  k: "dead";
  reason: string;
}

type Sym = Const | Act | ExprSym | Padded | Dims | Dead;

interface DraftTensor {
  local: string;
  kind: "parameter" | "buffer";
  source: Const;
  /** MatMul's B is (in, out): Linear stores (out, in). */
  transpose: boolean;
  /** Not set from the file (the new head of numClasses). */
  fresh: boolean;
}

interface Draft {
  module: Module;
  tensors: DraftTensor[];
  node: OnnxNode;
}

interface Layer {
  node: OnnxNode;
  input: number;
  /** The second input of a residual Add (a join); -1 for a module. */
  input2: number;
  output: number;
  draft: Draft | null;
}

type Item = { draft: Draft } | { body: Item[]; shortcut: Item[]; node: OnnxNode };

// ---------------------------------------------------------------------------------------------

/**
 * The key-value strings of an ONNX file's metadata_props (tensorlane's exportOnnx stores the input
 * normalization and the class names there). The whole file is read and checked as importOnnx reads
 * it; nothing is built, and init() is not needed.
 */
export function onnxMetadata(bytes: Uint8Array | ArrayBuffer): Record<string, string> {
  const fn = "onnxMetadata";
  const input = bytes instanceof Uint8Array ? bytes : bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : null;
  if (input === null) throw new TypeError(`${fn}: bytes must be the ONNX file's bytes, a Uint8Array or an ArrayBuffer (got ${describe(bytes)})`);
  if (input.length > 2 ** 31) throw new FileFormatError(`${fn}: the file is ${input.length} bytes; ONNX files up to 2 GiB are read`);
  return Object.fromEntries(readOnnxModel(fn, input).metadata);
}

/**
 * A tl.sequential from the bytes of an ONNX model (see the header for what it reads). Its
 * parameters and buffers are named as the ONNX initializers; model.summary() lists the modules
 * and what was dropped.
 */
export function importOnnx(bytes: Uint8Array | ArrayBuffer, options: ImportOnnxOptions = {}): Sequential {
  const o = checkOptions(FN, "options", options, ["dtype", "numClasses", "seed"]);
  const dtype = o.dtype === undefined ? "float32" : checkEnum(FN, "options.dtype", o.dtype, ["float32", "float64"] as const);
  const numClasses = o.numClasses === undefined ? undefined : checkInteger(FN, "options.numClasses", o.numClasses, 1);
  const seed = o.seed === undefined ? undefined : checkSeed(FN, "options.seed", o.seed);
  let input: Uint8Array;
  if (bytes instanceof Uint8Array) input = bytes;
  else if (bytes instanceof ArrayBuffer) input = new Uint8Array(bytes);
  else throw new TypeError(`${FN}: bytes must be the ONNX file's bytes, a Uint8Array or an ArrayBuffer (got ${describe(bytes)})`);
  if (input.length > 2 ** 31) throw new FileFormatError(`${FN}: the file is ${input.length} bytes; importOnnx reads files up to 2 GiB`);
  requireDtype(FN, dtype); // init() (and init({ float64: true }) for float64) before the work

  const model = readOnnxModel(FN, input);
  const converted = new Converter(model).run();
  const notes = [
    `imported from ONNX (${[model.producer, model.producerVersion].filter((s) => s !== "").join(" ") || "unknown producer"}, opset ${model.opsets.get("")}, IR ${model.irVersion})`,
    ...converted.notes,
  ];

  if (numClasses !== undefined) replaceHead(converted.items, numClasses, notes);

  // Module tree -> modules, and the state_dict name -> ONNX name of every tensor.
  const names: Record<string, string> = {};
  const sources: { name: string; t: DraftTensor }[] = [];
  const build = (items: Item[], prefix: string): Module[] =>
    items.map((item, i) => {
      const path = `${prefix}${i}`;
      if ("draft" in item) {
        for (const t of item.draft.tensors) {
          Object.defineProperty(names, `${path}.${t.local}`, { value: t.source.name, enumerable: true, configurable: true, writable: true });
          sources.push({ name: t.source.name, t });
        }
        return item.draft.module;
      }
      return residual(build(item.body, `${path}.body.`), build(item.shortcut, `${path}.shortcut.`));
    });
  const modules = build(converted.items, "");
  let net: Sequential;
  try {
    net = new Sequential({ modules, inputShape: converted.inputShape, dtype, ...(seed === undefined ? {} : { seed }), names, notes });
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) {
      throw new OnnxUnsupportedError(`${FN}: the imported layers do not form a model tensorlane can build: ${error.message}`);
    }
    throw error;
  }
  try {
    for (const { name, t } of sources) {
      if (t.fresh) continue;
      const target = t.kind === "parameter" ? net.params[name] : net.buffers[name];
      let values = constValues(t.source);
      if (t.transpose) values = transpose(values, t.source.dims[0], t.source.dims[1]);
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i])) throw new FileFormatError(`${FN}: ${t.source.name} holds ${values[i]} at index ${i}; weights must be finite`);
      }
      if (t.local === "running_var" && values.some((v) => v < 0))
        throw new FileFormatError(`${FN}: ${t.source.name} (a running variance) holds negative values`);
      target.set(values);
    }
  } catch (error) {
    net.dispose();
    throw error;
  }
  return net;
}

/** Replaces the last top-level Linear by a fresh one with numClasses outputs (same names, same bias setting). */
function replaceHead(items: Item[], numClasses: number, notes: string[]): void {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (!("draft" in item) || !(item.draft.module instanceof Linear)) continue;
    const old = item.draft.module;
    const { in_features: D, out_features: M, bias } = old.args;
    item.draft = {
      module: linear(D, numClasses, { bias }),
      node: item.draft.node,
      tensors: item.draft.tensors.map((t) => ({ ...t, fresh: true, transpose: false })),
    };
    notes.push(
      `numClasses: the last Linear(${D}, ${M}) was replaced by a new Linear(${D}, ${numClasses}) (PyTorch's default initialization, seeded), under the same names`,
    );
    return;
  }
  throw new RangeError(`${FN}: options.numClasses needs a final Linear layer (Gemm or MatMul) to replace, and this model has none at its top level`);
}

function transpose(values: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

function constValues(c: Const): Float64Array {
  if (c.values === null) c.values = tensorValues(FN, c.tensor!, `tensor ${JSON.stringify(c.name)}`);
  return c.values;
}

// ---------------------------------------------------------------------------------------------

class Converter {
  readonly values = new Map<string, Sym>();
  /** Shape of each activation (without the batch dimension), and how many nodes read it. */
  readonly acts: { shape: number[]; uses: number; layer: Layer | null }[] = [];
  readonly layers: Layer[] = [];
  readonly exprs: ExprSym[] = [];
  readonly padded: Padded[] = [];
  readonly notes: string[] = [];
  readonly opset: number;
  readonly outputName: string;
  inputShape: number[] = [];

  constructor(readonly model: OnnxModel) {
    const opset = model.opsets.get("");
    if (opset === undefined)
      throw new OnnxUnsupportedError(
        `${FN}: the model imports no default-domain (ai.onnx) opset; importOnnx reads ai.onnx opsets ${MIN_OPSET} to ${MAX_OPSET}`,
      );
    if (opset < MIN_OPSET || opset > MAX_OPSET)
      throw new OnnxUnsupportedError(
        `${FN}: the model uses ai.onnx opset ${opset}; importOnnx reads opsets ${MIN_OPSET} to ${MAX_OPSET} (torch.onnx.export(..., opset_version=13) works)`,
      );
    this.opset = opset;
    const g = model.graph;
    if (g.sparseInitializers > 0) throw new OnnxUnsupportedError(`${FN}: the graph has sparse initializers, which importOnnx does not read`);
    if (g.outputs.length !== 1) {
      throw new OnnxUnsupportedError(
        `${FN}: the graph has ${g.outputs.length} outputs (${g.outputs.map((v) => JSON.stringify(v.name)).join(", ")}); importOnnx takes a model with one output, the class scores`,
      );
    }
    this.outputName = g.outputs[0].name;
  }

  run(): { items: Item[]; inputShape: number[]; notes: string[] } {
    const g = this.model.graph;
    for (const [name, t] of g.initializers) {
      this.values.set(name, {
        k: "const",
        name,
        dims: t.dims,
        values: null,
        tensor: t,
        isInt: t.dataType === DataType.INT64 || t.dataType === DataType.INT32,
        owners: 0,
      });
    }
    const inputs = g.inputs.filter((v) => !g.initializers.has(v.name)); // IR < 4 lists initializers as inputs too
    if (inputs.length !== 1) {
      throw new OnnxUnsupportedError(
        `${FN}: the graph has ${inputs.length} inputs (${inputs.map((v) => JSON.stringify(v.name)).join(", ")}); importOnnx takes a model with one input, the batch`,
      );
    }
    const x = inputs[0];
    if (x.elemType !== DataType.FLOAT && x.elemType !== DataType.DOUBLE) {
      throw new OnnxUnsupportedError(
        `${FN}: the input ${JSON.stringify(x.name)} is ${x.elemType === -1 ? "not a tensor" : x.elemType === 0 ? "a tensor of no stated type" : `a tensor of ${dataTypeName(x.elemType)}`}; importOnnx takes a FLOAT input`,
      );
    }
    if (x.dims === null || x.dims.length < 2) {
      throw new OnnxUnsupportedError(
        `${FN}: the input ${JSON.stringify(x.name)} has ${x.dims === null ? "no shape" : `rank ${x.dims.length}`}; importOnnx needs (N, features) or (N, C, H, W) with static sizes (export with an example input and dynamic_axes only on the batch)`,
      );
    }
    const rest = x.dims.slice(1);
    rest.forEach((d, i) => {
      if (typeof d !== "number" || d < 1) {
        throw new OnnxUnsupportedError(
          `${FN}: dimension ${i + 1} of the input ${JSON.stringify(x.name)} is ${typeof d === "string" ? `the symbol ${JSON.stringify(d)}` : d === null ? "unknown" : String(d)}; importOnnx needs every size but the batch's fixed`,
        );
      }
    });
    this.inputShape = rest as number[];
    if (sizeOf(this.inputShape) > MAX_ACTIVATION)
      throw new OnnxUnsupportedError(`${FN}: the input has ${sizeOf(this.inputShape)} values per example, more than importOnnx takes (${MAX_ACTIVATION})`);
    if (g.initializers.has(x.name)) throw new FileFormatError(`${FN}: the input ${JSON.stringify(x.name)} is also an initializer`);
    this.values.set(x.name, this.newAct(this.inputShape, null));

    for (const node of g.nodes) this.node(node);

    const out = this.values.get(this.outputName);
    if (out === undefined) throw new FileFormatError(`${FN}: no node produces the graph output ${JSON.stringify(this.outputName)}`);
    const outAct = this.actOf(out, null, "the graph output");
    for (const e of this.exprs) {
      if (!e.read && e.act < 0) throw this.unsupported(e.node, "computes elementwise arithmetic whose result nothing reads");
    }
    for (const p of this.padded) if (!p.read) throw this.unsupported(p.node, "pads a tensor that nothing reads");
    if (outAct === 0) throw new OnnxUnsupportedError(`${FN}: the graph output is its input: the model computes nothing`);
    if (this.acts[outAct].shape.length !== 1) {
      throw new OnnxUnsupportedError(
        `${FN}: the graph output has shape (N, ${this.acts[outAct].shape.join(", ")}); importOnnx takes models that end in class scores (N, classes)`,
      );
    }
    const consumers: Layer[][] = this.acts.map(() => []);
    for (const l of this.layers) {
      consumers[l.input].push(l);
      if (l.input2 >= 0) consumers[l.input2].push(l);
    }
    const walked = this.walk(0, outAct, consumers, 0);
    if (walked.join !== null) {
      throw this.unsupported(walked.join.node, "adds two tensors that do not branch from one tensor (importOnnx reads residual blocks: body(x) + shortcut(x))");
    }
    return { items: walked.items, inputShape: this.inputShape, notes: this.notes };
  }

  // -------------------------------------------------------------------------------------------
  // The chain of layers from the input to the output, with residual blocks.

  walk(start: number, output: number, consumers: Layer[][], depth: number): { items: Item[]; end: number; join: Layer | null } {
    const items: Item[] = [];
    let v = start;
    for (;;) {
      const cons = consumers[v];
      if (v === output) {
        if (cons.length > 0) throw this.unsupported(cons[0].node, "reads the graph output: the output must be the last layer's");
        return { items, end: v, join: null };
      }
      if (cons.length === 0) {
        const layer = this.acts[v].layer;
        throw layer !== null
          ? this.unsupported(layer.node, "computes a tensor that does not lead to the graph output")
          : new OnnxUnsupportedError(`${FN}: the input does not lead to the graph output`);
      }
      if (cons.length === 1 && cons[0].input2 >= 0) return { items, end: v, join: cons[0] };
      if (cons.length === 1) {
        items.push({ draft: cons[0].draft! });
        v = cons[0].output;
        continue;
      }
      if (cons.length > 2)
        throw this.unsupported(cons[2].node, `is the third layer to read one tensor; importOnnx reads two branches at most (a residual block)`);
      if (depth >= MAX_NESTING) throw this.unsupported(cons[0].node, `is in residual blocks nested more than ${MAX_NESTING} deep`);
      const branches = cons.map((l) => {
        if (l.input2 >= 0) return { items: [] as Item[], end: v, join: l };
        const rest = this.walk(l.output, output, consumers, depth + 1);
        return { items: [{ draft: l.draft! } as Item, ...rest.items], end: rest.end, join: rest.join };
      });
      const join = branches[0].join;
      if (join === null || branches[1].join !== join || join.input === join.input2) {
        throw this.unsupported(
          cons[1].node,
          "starts a second branch that does not meet the first in an Add (importOnnx reads residual blocks: body(x) + shortcut(x))",
        );
      }
      const [a, b] = branches[0].end === join.input ? branches : [branches[1], branches[0]];
      if (a.end !== join.input || b.end !== join.input2) throw this.unsupported(join.node, "does not add the two branches of one tensor");
      // Add(body, shortcut) as PyTorch writes body(x) + shortcut(x); the identity is the shortcut either way.
      const [body, shortcut] = a.items.length === 0 ? [b, a] : [a, b];
      if (body.items.length === 0) throw this.unsupported(join.node, "adds a tensor to itself");
      items.push({ body: body.items, shortcut: shortcut.items, node: join.node });
      v = join.output;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Nodes

  node(n: OnnxNode): void {
    if (n.domain !== "") throw this.unsupported(n, `is in the domain ${JSON.stringify(n.domain)}; importOnnx reads the default domain: ${SUPPORTED_OPS}`);
    switch (n.opType) {
      case "Constant":
        return this.constant(n);
      case "Identity":
        this.arity(n, 1, 1, 1);
        return this.define(n, 0, this.get(n, 0, true));
      case "Dropout":
        return this.dropout(n);
      case "Gemm":
        return this.gemm(n);
      case "MatMul":
        return this.matmul(n);
      case "Conv":
        return this.conv(n);
      case "BatchNormalization":
        return this.batchNorm(n);
      case "Relu":
      case "Sigmoid":
        this.attrs(n, []);
        this.arity(n, 1, 1, 1);
        return void this.layer(
          n,
          this.actIn(n, 0),
          this.module(n, () => (n.opType === "Relu" ? relu() : sigmoid())),
        );
      case "LeakyRelu": {
        const a = this.attrs(n, ["alpha"]);
        this.arity(n, 1, 1, 1);
        const alpha = decimal(a.float("alpha", 0.01));
        return void this.layer(
          n,
          this.actIn(n, 0),
          this.module(n, () => leakyRelu(alpha)),
        );
      }
      case "Tanh":
      case "Erf":
        this.attrs(n, []);
        this.arity(n, 1, 1, 1);
        if (n.opType === "Tanh" && this.get(n, 0).k === "act") return void this.layer(n, this.actIn(n, 0), tanh());
        return this.arith(n, n.opType === "Tanh" ? "tanh" : "erf");
      case "Add":
        return this.add(n);
      case "Mul":
      case "Div":
        this.attrs(n, []);
        this.arity(n, 2, 2, 1);
        return this.arith(n, n.opType === "Mul" ? "mul" : "div");
      case "Gelu": {
        const a = this.attrs(n, ["approximate"]);
        this.arity(n, 1, 1, 1);
        const approximate = a.string("approximate", "none");
        if (approximate !== "none" && approximate !== "tanh")
          throw this.unsupported(n, `has approximate = ${JSON.stringify(approximate)} (expected "none" or "tanh")`);
        return void this.layer(
          n,
          this.actIn(n, 0),
          this.module(n, () => gelu({ approximate })),
        );
      }
      case "MaxPool":
      case "AveragePool":
        return this.pool(n);
      case "GlobalAveragePool":
        this.attrs(n, []);
        this.arity(n, 1, 1, 1);
        return void this.layer(
          n,
          this.actIn(n, 0, 3),
          this.module(n, () => globalAvgPool()),
        );
      case "Pad":
        return this.pad(n);
      case "Flatten":
        return this.flatten(n);
      case "Reshape":
        return this.reshape(n);
      case "Shape":
        return this.shape(n);
      case "Gather":
        return this.gather(n);
      case "Unsqueeze":
        return this.unsqueeze(n);
      case "Concat":
        return this.concat(n);
      case "Softmax":
      case "LogSoftmax":
        return this.softmax(n);
      default:
        throw this.unsupported(n, `is not an op importOnnx reads; it reads ${SUPPORTED_OPS}`);
    }
  }

  constant(n: OnnxNode): void {
    this.arity(n, 0, 0, 1);
    if (n.attributes.size !== 1) throw this.unsupported(n, "must have exactly one value attribute");
    const [a] = n.attributes.values();
    const name = n.outputs[0];
    let c: Const;
    const make = (dims: number[], values: number[], isInt: boolean): Const => ({
      k: "const",
      name,
      dims,
      values: Float64Array.from(values),
      tensor: null,
      isInt,
      owners: 0,
    });
    if (a.name === "value") {
      if (a.t === null) throw this.bad(n, "has a value attribute without a tensor");
      c = { k: "const", name, dims: a.t.dims, values: null, tensor: a.t, isInt: a.t.dataType === DataType.INT64 || a.t.dataType === DataType.INT32, owners: 0 };
    } else if (a.name === "value_float") c = make([], [a.f], false);
    else if (a.name === "value_floats") c = make([a.floats.length], a.floats, false);
    else if (a.name === "value_int") c = make([], [a.i], true);
    else if (a.name === "value_ints") c = make([a.ints.length], a.ints, true);
    else throw this.unsupported(n, `has a ${a.name} attribute; importOnnx reads value, value_float(s) and value_int(s)`);
    this.define(n, 0, c);
  }

  dropout(n: OnnxNode): void {
    const a = this.attrs(n, ["ratio", "seed", "is_test"]);
    this.arity(n, 1, 3, 2);
    if (n.inputs.length >= 3 && n.inputs[2] !== "") {
      const mode = this.constIn(n, 2);
      if (constValues(mode).some((v) => v !== 0))
        throw this.unsupported(n, "has training_mode = true; importOnnx reads inference graphs (export in eval mode)");
    }
    void a;
    this.define(n, 0, this.get(n, 0, true));
    if (n.outputs.length > 1) this.define(n, 1, { k: "dead", reason: "reads Dropout's mask" });
    this.notes.push(`a Dropout node (${nodeLabel(n)}) was dropped: it is the identity at inference`);
  }

  gemm(n: OnnxNode): void {
    const a = this.attrs(n, ["alpha", "beta", "transA", "transB"]);
    this.arity(n, 2, 3, 1);
    if (a.float("alpha", 1) !== 1 || a.float("beta", 1) !== 1)
      throw this.unsupported(
        n,
        `has alpha ${a.float("alpha", 1)} and beta ${a.float("beta", 1)}; importOnnx reads Gemm with alpha = beta = 1 (a Linear layer)`,
      );
    if (a.int("transA", 0) !== 0) throw this.unsupported(n, "has transA = 1; importOnnx reads Gemm(x, W) with x the batch");
    const transB = a.int("transB", 0);
    const x = this.actIn(n, 0, 1);
    const D = this.acts[x].shape[0];
    const B = this.constIn(n, 1, 2);
    const [rows, cols] = B.dims;
    const [M, Din] = transB === 1 ? [rows, cols] : [cols, rows];
    if (Din !== D)
      throw this.unsupported(
        n,
        `multiplies a (N, ${D}) input by B of shape [${B.dims.join(", ")}]${transB === 1 ? " transposed" : ""}, which needs ${Din} features`,
      );
    const tensors: DraftTensor[] = [this.use(n, "weight", "parameter", B, transB !== 1)];
    if (n.inputs.length >= 3 && n.inputs[2] !== "") {
      const C = this.constIn(n, 2);
      if (!(C.dims.length === 1 && C.dims[0] === M) && !(C.dims.length === 2 && C.dims[0] === 1 && C.dims[1] === M)) {
        throw this.unsupported(n, `has a bias C of shape [${C.dims.join(", ")}]; importOnnx reads a bias of shape [${M}] (one per output)`);
      }
      tensors.push(this.use(n, "bias", "parameter", C, false));
    }
    this.layer(n, x, linear(D, M, { bias: tensors.length === 2 }), tensors);
  }

  matmul(n: OnnxNode): void {
    this.attrs(n, []);
    this.arity(n, 2, 2, 1);
    const x = this.actIn(n, 0, 1);
    const D = this.acts[x].shape[0];
    const B = this.constIn(n, 1, 2);
    if (B.dims[0] !== D) throw this.unsupported(n, `multiplies a (N, ${D}) input by B of shape [${B.dims.join(", ")}], which needs ${B.dims[0]} features`);
    this.layer(n, x, linear(D, B.dims[1], { bias: false }), [this.use(n, "weight", "parameter", B, true)]);
  }

  conv(n: OnnxNode): void {
    const a = this.attrs(n, ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"]);
    this.arity(n, 2, 3, 1);
    const x = this.actIn(n, 0, 3);
    const [C] = this.acts[x].shape;
    const W = this.constIn(n, 1);
    if (W.dims.length !== 4)
      throw this.unsupported(n, `has a weight of rank ${W.dims.length}; importOnnx reads 2-D convolutions (weight (out, in / groups, kh, kw))`);
    const [F, Cg, kh, kw] = W.dims;
    const groups = a.int("group", 1);
    if (groups < 1 || Cg * groups !== C || F % groups !== 0)
      throw this.unsupported(n, `has a weight [${W.dims.join(", ")}] and group ${groups} that do not fit its ${C}-channel input`);
    const kernel = a.ints("kernel_shape", [kh, kw]);
    if (kernel.length !== 2 || kernel[0] !== kh || kernel[1] !== kw) throw this.bad(n, `has kernel_shape [${kernel.join(", ")}] but a ${kh}x${kw} weight`);
    const { stride, pad } = this.window(n, a, "Conv");
    const tensors: DraftTensor[] = [this.use(n, "weight", "parameter", W, false)];
    if (n.inputs.length >= 3 && n.inputs[2] !== "") {
      const B = this.constIn(n, 2, 1);
      if (B.dims[0] !== F) throw this.bad(n, `has a bias of ${B.dims[0]} values for ${F} filters`);
      tensors.push(this.use(n, "bias", "parameter", B, false));
    }
    const module = this.module(n, () => conv2d(C, F, kh === kw ? kh : [kh, kw], { stride, padding: pad, groups, bias: tensors.length === 2 }));
    this.layer(n, x, module, tensors);
  }

  batchNorm(n: OnnxNode): void {
    const a = this.attrs(n, ["epsilon", "momentum", "training_mode", "spatial", "is_test"]);
    this.arity(n, 5, 5, 5);
    if (a.int("training_mode", 0) !== 0) throw this.unsupported(n, "has training_mode = 1; importOnnx reads inference graphs (export in eval mode)");
    if (a.int("spatial", 1) !== 1) throw this.unsupported(n, "has spatial = 0 (statistics per position); importOnnx reads per-channel batch norm");
    const x = this.actIn(n, 0);
    const shape = this.acts[x].shape;
    if (shape.length !== 1 && shape.length !== 3)
      throw this.unsupported(n, `normalizes a tensor of shape (N, ${shape.join(", ")}); importOnnx reads (N, C) and (N, C, H, W)`);
    const C = shape[0];
    const tensors = (["weight", "bias", "running_mean", "running_var"] as const).map((local, i) => {
      const t = this.constIn(n, i + 1, 1);
      if (t.dims[0] !== C)
        throw this.bad(
          n,
          `has ${local === "weight" ? "scale" : local === "bias" ? "B" : local.replace("running_", "")} of ${t.dims[0]} values for ${C} channels`,
        );
      return this.use(n, local, i < 2 ? "parameter" : "buffer", t, false);
    });
    const eps = decimal(a.float("epsilon", 1e-5));
    if (!(eps > 0)) throw this.unsupported(n, `has epsilon ${eps}; it must be positive`);
    // ONNX's momentum weighs the old statistic (default 0.9); PyTorch's (and tl.nn's) the batch.
    const m = a.float("momentum", 0.9);
    if (!(m >= 0 && m <= 1)) throw this.unsupported(n, `has momentum ${m}, outside [0, 1]`);
    const momentum = decimal(1 - m);
    const module = this.module(n, () => (shape.length === 1 ? batchNorm1d(C, { eps, momentum }) : batchNorm2d(C, { eps, momentum })));
    this.layer(n, x, module, tensors);
    for (let i = 1; i < n.outputs.length; i++)
      this.define(n, i, { k: "dead", reason: "reads a training output of BatchNormalization (running mean or variance)" });
  }

  pool(n: OnnxNode): void {
    const max = n.opType === "MaxPool";
    const a = this.attrs(
      n,
      max
        ? ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"]
        : ["auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"],
    );
    this.arity(n, 1, 1, max ? 2 : 1);
    const s = this.get(n, 0);
    let x: number;
    let outer = 0;
    if (s.k === "padded") {
      if (max) throw this.unsupported(n, "reads a zero-padded tensor (a Pad node); MaxPool pads with -infinity, so importOnnx cannot fold them");
      s.read = true;
      x = s.base;
      outer = s.pad;
    } else x = this.actIn(n, 0, 3);
    if (this.acts[x].shape.length !== 3)
      throw this.unsupported(n, `pools a tensor of shape (N, ${this.acts[x].shape.join(", ")}); importOnnx reads (N, C, H, W)`);
    const kernel = a.ints("kernel_shape", []);
    if (kernel.length !== 2 || kernel[0] !== kernel[1] || kernel[0] < 1)
      throw this.unsupported(n, `has kernel_shape [${kernel.join(", ")}]; importOnnx reads square 2-D windows`);
    if (a.int("ceil_mode", 0) !== 0) throw this.unsupported(n, "has ceil_mode = 1; importOnnx reads floor mode (PyTorch's default)");
    if (max && a.int("storage_order", 0) !== 0) throw this.unsupported(n, "has storage_order = 1");
    const { stride, pad } = this.window(n, a, n.opType);
    const k = kernel[0];
    let module: Module;
    if (max) {
      module = this.module(n, () => maxPool2d(k, { stride, padding: pad }));
    } else if (outer > 0) {
      if (pad !== 0) throw this.unsupported(n, `has pads ${pad} after a Pad node; importOnnx reads AveragePool with pads 0 behind a Pad`);
      module = this.module(n, () => avgPool2d(k, { stride, padding: outer, countIncludePad: true }));
    } else {
      const include = a.int("count_include_pad", 0) === 1;
      module = this.module(n, () => avgPool2d(k, { stride, padding: pad, countIncludePad: include }));
    }
    this.layer(n, x, module);
    if (n.outputs.length > 1) this.define(n, 1, { k: "dead", reason: "reads MaxPool's indices" });
  }

  pad(n: OnnxNode): void {
    const old = this.opset < 11;
    const a = this.attrs(n, old ? ["mode", "pads", "value"] : ["mode"]);
    this.arity(n, old ? 1 : 2, old ? 1 : 4, 1);
    const mode = a.string("mode", "constant");
    if (mode !== "constant") throw this.unsupported(n, `pads in mode ${JSON.stringify(mode)}; importOnnx reads constant (zero) padding`);
    const x = this.actIn(n, 0);
    const rank = this.acts[x].shape.length + 1;
    const pads = old ? a.ints("pads", []) : Array.from(constValues(this.constIn(n, 1, 1)));
    let value = old ? a.float("value", 0) : 0;
    if (!old && n.inputs.length >= 3 && n.inputs[2] !== "") {
      const v = constValues(this.constIn(n, 2));
      if (v.length !== 1) throw this.bad(n, "has a constant_value that is not a scalar");
      value = v[0];
    }
    if (n.inputs.length >= 4) throw this.unsupported(n, "has an axes input; importOnnx reads Pad over every axis");
    if (value !== 0) throw this.unsupported(n, `pads with ${value}; importOnnx reads zero padding`);
    if (pads.length !== 2 * rank) throw this.bad(n, `has ${pads.length} pads for a rank-${rank} tensor`);
    if (pads.every((p) => p === 0)) {
      this.notes.push(`an all-zero Pad (${nodeLabel(n)}) was dropped`);
      return this.define(n, 0, { k: "act", id: x });
    }
    // (N, C, H, W): begins [0, 0, t, l], ends [0, 0, b, r], all four equal.
    const p = pads[2];
    if (
      rank !== 4 ||
      pads[0] !== 0 ||
      pads[1] !== 0 ||
      pads[4] !== 0 ||
      pads[5] !== 0 ||
      pads.slice(2).some((q, i) => i !== 2 && i !== 3 && q !== p) ||
      p < 0
    ) {
      throw this.unsupported(
        n,
        `has pads [${pads.join(", ")}]; importOnnx reads the same zero padding on the four sides of (N, C, H, W) images, before an AveragePool`,
      );
    }
    const sym: Padded = { k: "padded", base: x, pad: p, node: n, read: false };
    this.padded.push(sym);
    this.define(n, 0, sym);
  }

  flatten(n: OnnxNode): void {
    const a = this.attrs(n, ["axis"]);
    this.arity(n, 1, 1, 1);
    const x = this.actIn(n, 0);
    const rank = this.acts[x].shape.length + 1;
    const axis = a.int("axis", 1);
    if (axis !== 1 && axis !== 1 - rank) throw this.unsupported(n, `has axis ${axis}; importOnnx reads Flatten(axis=1), which keeps the batch dimension`);
    this.toFeatures(n, x);
  }

  /** (N, ...) -> (N, features): a flatten layer, or nothing when x is already (N, features). */
  toFeatures(n: OnnxNode, x: number): void {
    if (this.acts[x].shape.length === 1) return this.define(n, 0, { k: "act", id: x });
    this.layer(n, x, flatten());
  }

  reshape(n: OnnxNode): void {
    const a = this.attrs(n, ["allowzero"]);
    this.arity(n, 2, 2, 1);
    const x = this.actIn(n, 0);
    const features = sizeOf(this.acts[x].shape);
    const s = this.get(n, 1);
    let target: ("batch" | number)[];
    if (s.k === "dims") {
      if (s.scalar) throw this.bad(n, "has a scalar shape");
      target = s.items;
    } else if (s.k === "const") {
      if (!s.isInt || s.dims.length !== 1) throw this.bad(n, "has a shape that is not a 1-D integer tensor");
      target = Array.from(constValues(s)).map((d, i) => (i === 0 && (d === -1 || (d === 0 && a.int("allowzero", 0) === 0)) ? "batch" : d));
    } else throw this.unsupported(n, "reads a shape computed in a way importOnnx does not follow (it reads a constant shape, or x.view(x.size(0), -1))");
    const wanted = `Reshape to (N, features) only: here (N, ${features})`;
    if (target.length !== 2) throw this.unsupported(n, `reshapes to ${target.length} dimensions; importOnnx reads ${wanted}`);
    const [b, f] = target;
    if (b !== "batch")
      throw this.unsupported(
        n,
        `reshapes to a fixed batch of ${b}; importOnnx reads ${wanted} (export with dynamic_axes on the batch, or x.view(x.size(0), -1))`,
      );
    if (f !== -1 && f !== features) throw this.unsupported(n, `reshapes to (N, ${f}); importOnnx reads ${wanted}`);
    this.toFeatures(n, x);
  }

  shape(n: OnnxNode): void {
    const a = this.attrs(n, ["start", "end"]);
    this.arity(n, 1, 1, 1);
    const x = this.actIn(n, 0);
    const all: ("batch" | number)[] = ["batch", ...this.acts[x].shape];
    const clamp = (i: number) => Math.min(Math.max(i < 0 ? i + all.length : i, 0), all.length);
    this.define(n, 0, { k: "dims", items: all.slice(clamp(a.int("start", 0)), clamp(a.int("end", all.length))), scalar: false });
  }

  gather(n: OnnxNode): void {
    const a = this.attrs(n, ["axis"]);
    this.arity(n, 2, 2, 1);
    const d = this.dimsIn(n, 0);
    if (a.int("axis", 0) !== 0) throw this.bad(n, "gathers along an axis a 1-D shape does not have");
    const idx = this.constIn(n, 1);
    if (!idx.isInt || idx.dims.length > 1) throw this.unsupported(n, "has indices that are not an integer scalar or 1-D list");
    const items = Array.from(constValues(idx)).map((i) => {
      const j = i < 0 ? i + d.items.length : i;
      if (!(j >= 0 && j < d.items.length)) throw this.bad(n, `has the index ${i} into a shape of ${d.items.length} dimensions`);
      return d.items[j];
    });
    this.define(n, 0, { k: "dims", items, scalar: idx.dims.length === 0 });
  }

  unsqueeze(n: OnnxNode): void {
    const old = this.opset < 13;
    const a = this.attrs(n, old ? ["axes"] : []);
    this.arity(n, old ? 1 : 2, old ? 1 : 2, 1);
    const d = this.dimsIn(n, 0);
    const axes = old ? a.ints("axes", []) : Array.from(constValues(this.constIn(n, 1)));
    if (!d.scalar || axes.length !== 1 || (axes[0] !== 0 && axes[0] !== -1))
      throw this.unsupported(n, "unsqueezes shape arithmetic other than a batch size into a list (as x.view(x.size(0), -1) does)");
    this.define(n, 0, { k: "dims", items: d.items, scalar: false });
  }

  concat(n: OnnxNode): void {
    const a = this.attrs(n, ["axis"]);
    this.arity(n, 1, 64, 1);
    if (a.int("axis", 0) !== 0 && a.int("axis", 0) !== -1) throw this.bad(n, "concatenates 1-D shapes along an axis they do not have");
    const items: ("batch" | number)[] = [];
    n.inputs.forEach((_, i) => {
      const s = this.get(n, i);
      if (s.k === "dims" && !s.scalar) items.push(...s.items);
      else if (s.k === "const" && s.isInt && s.dims.length === 1) items.push(...constValues(s));
      else throw this.unsupported(n, "concatenates something other than shape pieces and integer constants (importOnnx follows x.view(x.size(0), -1))");
    });
    this.define(n, 0, { k: "dims", items, scalar: false });
  }

  softmax(n: OnnxNode): void {
    const a = this.attrs(n, ["axis"]);
    this.arity(n, 1, 1, 1);
    const x = this.actIn(n, 0);
    if (n.outputs[0] !== this.outputName) {
      throw this.unsupported(
        n,
        `is not the last node; importOnnx reads ${n.opType} only as the model's final node, which it drops (loss() applies the softmax cross-entropy to the scores)`,
      );
    }
    const axis = a.int("axis", this.opset < 13 ? 1 : -1);
    if (this.acts[x].shape.length !== 1 || (axis !== 1 && axis !== -1))
      throw this.unsupported(
        n,
        `applies over axis ${axis} of (N, ${this.acts[x].shape.join(", ")}); importOnnx reads a final ${n.opType} over the classes of (N, classes)`,
      );
    this.notes.push(`the final ${n.opType} (${nodeLabel(n)}) was dropped: loss(X) gives the scores before it, and predict() the same classes`);
    this.define(n, 0, { k: "act", id: x });
  }

  add(n: OnnxNode): void {
    this.attrs(n, []);
    this.arity(n, 2, 2, 1);
    const [s0, s1] = [this.get(n, 0), this.get(n, 1)];
    // Two computed tensors of different origins: a residual join (the walk checks they branch
    // from one tensor). An expression there (a GELU ending a branch) becomes its layer first.
    const origin = (s: Sym) => (s.k === "act" ? s.id : s.k === "expr" ? (s.act >= 0 ? s.act : s.base) : -1);
    if (origin(s0) >= 0 && origin(s1) >= 0 && origin(s0) !== origin(s1)) {
      const [a, b] = [this.actOf(s0, n, "input 0"), this.actOf(s1, n, "input 1")];
      this.acts[a].uses++;
      this.acts[b].uses++;
      const [sa, sb] = [this.acts[a].shape, this.acts[b].shape];
      if (sa.join() !== sb.join())
        throw this.unsupported(n, `adds tensors of shapes (N, ${sa.join(", ")}) and (N, ${sb.join(", ")}); a residual Add takes equal shapes`);
      const out = this.newAct(sa, null);
      const layer: Layer = { node: n, input: a, input2: b, output: out.id, draft: null };
      this.layers.push(layer);
      this.acts[out.id].layer = layer;
      return this.define(n, 0, out);
    }
    // MatMul + Add: the bias of the Linear the MatMul made (when nothing else read its output).
    const [act, c] = s0.k === "act" && s1.k === "const" ? [s0, s1] : s1.k === "act" && s0.k === "const" ? [s1, s0] : [null, null];
    if (act !== null && c !== null) {
      const layer = this.acts[act.id].layer;
      const m = layer?.draft?.module;
      if (layer && m instanceof Linear && layer.node.opType === "MatMul" && !m.args.bias && this.acts[act.id].uses === 0) {
        const M = m.args.out_features;
        if ((c.dims.length === 1 && c.dims[0] === M) || (c.dims.length === 2 && c.dims[0] === 1 && c.dims[1] === M)) {
          layer.draft!.module = linear(m.args.in_features, M, { bias: true });
          layer.draft!.tensors.push(this.use(n, "bias", "parameter", c, false));
          this.values.set(layer.node.outputs[0], { k: "dead", reason: "reads a MatMul output that importOnnx fused with its bias Add into one Linear" });
          return this.define(n, 0, act);
        }
      }
    }
    this.arith(n, "add");
  }

  /** Elementwise arithmetic over one activation and scalar constants: an expression, until read. */
  arith(n: OnnxNode, op: "add" | "mul" | "div" | "erf" | "tanh"): void {
    let base = -1;
    let size = 1;
    const operand = (i: number): Expr => {
      const s = this.get(n, i);
      if (s.k === "const") {
        const v = constValues(s);
        if (v.length !== 1)
          throw this.unsupported(
            n,
            `combines a tensor with a constant of shape [${s.dims.join(", ")}]; importOnnx reads elementwise arithmetic only as GELU (scalar constants)`,
          );
        return { op: "c", v: v[0] };
      }
      let b: number;
      let e: Expr;
      if (s.k === "expr") {
        s.read = true;
        b = s.base;
        e = s.e;
        size += s.size;
      } else if (s.k === "act") {
        b = s.id;
        this.acts[b].uses++;
        e = { op: "x" };
      } else throw this.unsupported(n, `reads ${symbolLabel(s)}`);
      if (base >= 0 && base !== b)
        throw this.unsupported(
          n,
          "combines two different tensors elementwise; importOnnx reads elementwise arithmetic only as GELU (and Add as a residual join)",
        );
      base = b;
      return e;
    };
    const a = operand(0);
    const e: Expr = op === "erf" || op === "tanh" ? { op, a } : { op, a, b: operand(1) };
    if (base < 0) throw this.unsupported(n, "computes on constants only; importOnnx reads graphs whose nodes compute on the input");
    if (size > MAX_EXPR) throw this.unsupported(n, "is part of elementwise arithmetic longer than a GELU");
    const sym: ExprSym = { k: "expr", base, e, size, node: n, act: -1, read: false };
    this.exprs.push(sym);
    this.define(n, 0, sym);
  }

  // -------------------------------------------------------------------------------------------
  // Helpers

  newAct(shape: number[], layer: Layer | null): Act {
    this.acts.push({ shape, uses: 0, layer });
    return { k: "act", id: this.acts.length - 1 };
  }

  /** A module layer from activation x; its output is node output 0 (unless define is false). Returns the output's id. */
  layer(n: OnnxNode, x: number, module: Module, tensors: DraftTensor[] = [], define = true): number {
    let shape: number[];
    try {
      shape = module.plan(this.acts[x].shape, () => {
        throw new TypeError("a container");
      }).output;
    } catch (error) {
      if (error instanceof RangeError || error instanceof TypeError) throw this.unsupported(n, error.message);
      throw error;
    }
    if (sizeOf(shape) > MAX_ACTIVATION)
      throw this.unsupported(n, `outputs ${sizeOf(shape)} values per example, more than importOnnx takes (${MAX_ACTIVATION})`);
    const out = this.newAct(shape, null);
    const layer: Layer = { node: n, input: x, input2: -1, output: out.id, draft: { module, tensors, node: n } };
    this.layers.push(layer);
    this.acts[out.id].layer = layer;
    if (define) this.define(n, 0, out);
    return out.id;
  }

  /** A module from a factory; its construction errors become errors naming the node. */
  module(n: OnnxNode, make: () => Module): Module {
    try {
      return make();
    } catch (error) {
      if (error instanceof RangeError || error instanceof TypeError) throw this.unsupported(n, error.message);
      throw error;
    }
  }

  /** Records that a layer takes constant c as its `local` tensor. */
  use(n: OnnxNode, local: string, kind: "parameter" | "buffer", c: Const, transpose: boolean): DraftTensor {
    if (c.isInt) throw this.bad(n, `takes the integer tensor ${JSON.stringify(c.name)} as its ${local}`);
    if (++c.owners > 1)
      throw this.unsupported(n, `uses ${JSON.stringify(c.name)}, which another layer uses too; importOnnx does not share weights between layers`);
    if (transpose && c.dims.length !== 2) throw this.bad(n, `takes ${JSON.stringify(c.name)} of shape [${c.dims.join(", ")}] as a matrix`);
    constValues(c); // decode now: a bad tensor fails here, naming it, before anything is built
    return { local, kind, source: c, transpose, fresh: false };
  }

  get(n: OnnxNode, i: number, any = false): Sym {
    const name = n.inputs[i];
    if (name === undefined || name === "") throw this.bad(n, `has no input ${i}`);
    const s = this.values.get(name);
    if (s === undefined) {
      throw new FileFormatError(
        `${FN}: ${nodeLabel(n)} reads ${JSON.stringify(name)}, which no earlier node, initializer or graph input produces (the graph has a cycle, or its nodes are not in topological order)`,
      );
    }
    if (s.k === "dead") throw this.unsupported(n, s.reason);
    if (!any && s.k === "expr" && s.act < 0 && !["Add", "Mul", "Div", "Erf", "Tanh"].includes(n.opType)) this.finish(s, n);
    return s;
  }

  /** An expression read by something other than arithmetic: it must be a GELU, which becomes a layer. */
  finish(s: ExprSym, reader: OnnxNode | null): void {
    const approximate = matchGelu(s.e);
    if (approximate === null) {
      const by = reader === null ? "the graph output" : nodeLabel(reader);
      throw this.unsupported(
        s.node,
        `ends elementwise arithmetic (read by ${by}) that is not a GELU; importOnnx reads Div, Erf, Tanh, Add and Mul only as GELU's erf or tanh form`,
      );
    }
    s.read = true;
    // The node's output keeps naming the expression, which now carries the GELU's activation.
    s.act = this.layer(
      s.node,
      s.base,
      this.module(s.node, () => gelu({ approximate })),
      [],
      false,
    );
  }

  /** Input i as an activation id (an expression becomes its GELU), optionally of a given rank (without the batch). */
  actIn(n: OnnxNode, i: number, rank?: number): number {
    const s = this.get(n, i);
    const id = this.actOf(s, n, `input ${i}`);
    const shape = this.acts[id].shape;
    if (rank !== undefined && shape.length !== rank) {
      const want = rank === 1 ? "(N, features)" : rank === 3 ? "(N, C, H, W)" : `rank ${rank + 1}`;
      throw this.unsupported(n, `takes a tensor of shape (N, ${shape.join(", ")}); importOnnx reads ${n.opType} on ${want} tensors`);
    }
    this.acts[id].uses++;
    return id;
  }

  actOf(s: Sym, n: OnnxNode | null, what: string): number {
    if (s.k === "act") return s.id;
    if (s.k === "expr") {
      if (s.act < 0) this.finish(s, n);
      return s.act;
    }
    if (n === null) throw new OnnxUnsupportedError(`${FN}: ${what} is ${symbolLabel(s)}; importOnnx takes a model whose output is the class scores`);
    throw this.unsupported(n, `takes ${symbolLabel(s)} as ${what}, where importOnnx needs the computed tensor`);
  }

  constIn(n: OnnxNode, i: number, rank?: number): Const {
    const s = this.get(n, i);
    if (s.k !== "const")
      throw this.unsupported(n, `takes ${symbolLabel(s)} as input ${i}, where importOnnx needs a constant (an initializer or a Constant node)`);
    if (rank !== undefined && s.dims.length !== rank)
      throw this.bad(n, `has input ${i} (${JSON.stringify(s.name)}) of shape [${s.dims.join(", ")}] where a rank-${rank} tensor belongs`);
    return s;
  }

  dimsIn(n: OnnxNode, i: number): Dims {
    const s = this.get(n, i);
    if (s.k !== "dims") throw this.unsupported(n, `takes ${symbolLabel(s)}; importOnnx reads ${n.opType} only in shape arithmetic (x.view(x.size(0), -1))`);
    return s;
  }

  define(n: OnnxNode, i: number, s: Sym): void {
    const name = n.outputs[i];
    if (name === undefined || name === "") return;
    if (this.values.has(name))
      throw new FileFormatError(`${FN}: ${nodeLabel(n)} produces ${JSON.stringify(name)}, which the graph already has (every value is produced once)`);
    this.values.set(name, s);
  }

  /** Checks the number of inputs (at least min, at most max) and outputs (at most outs, at least 1). */
  arity(n: OnnxNode, min: number, max: number, outs: number): void {
    if (n.inputs.length < min || n.inputs.length > max) throw this.bad(n, `has ${n.inputs.length} inputs (expected ${min === max ? min : `${min} to ${max}`})`);
    if (n.outputs.length < 1 || n.outputs.length > outs) throw this.bad(n, `has ${n.outputs.length} outputs (expected ${outs === 1 ? 1 : `1 to ${outs}`})`);
  }

  /** Stride and padding of a 2-D window op: equal on both axes, symmetric pads, dilation 1. */
  window(n: OnnxNode, a: Attrs, op: string): { stride: number; pad: number } {
    const autoPad = a.string("auto_pad", "NOTSET");
    if (autoPad !== "NOTSET" && autoPad !== "VALID") throw this.unsupported(n, `has auto_pad ${autoPad}; importOnnx reads explicit pads`);
    const dilations = a.ints("dilations", [1, 1]);
    if (dilations.some((d) => d !== 1)) throw this.unsupported(n, `has dilations [${dilations.join(", ")}]; importOnnx reads dilation 1`);
    const strides = a.ints("strides", [1, 1]);
    if (strides.length !== 2 || strides[0] !== strides[1] || strides[0] < 1)
      throw this.unsupported(n, `has strides [${strides.join(", ")}]; importOnnx reads one stride for both axes`);
    const pads = autoPad === "VALID" ? [0, 0, 0, 0] : a.ints("pads", [0, 0, 0, 0]);
    if (pads.length !== 4 || pads.some((p) => p !== pads[0]) || pads[0] < 0) {
      throw this.unsupported(n, `has pads [${pads.join(", ")}]; importOnnx reads ${op} with the same padding on all four sides`);
    }
    return { stride: strides[0], pad: pads[0] };
  }

  attrs(n: OnnxNode, allowed: string[]): Attrs {
    for (const name of n.attributes.keys()) {
      if (!allowed.includes(name))
        throw this.unsupported(
          n,
          `has the attribute ${JSON.stringify(name)}, which importOnnx does not read for ${n.opType}${allowed.length > 0 ? ` (it reads ${allowed.join(", ")})` : ""}`,
        );
    }
    const get = (name: string, type: number): OnnxAttribute | undefined => {
      const a = n.attributes.get(name);
      if (a !== undefined && a.type !== type && a.type !== 0) throw this.bad(n, `has the attribute ${name} of type ${a.type} (expected ${type})`);
      return a;
    };
    return {
      int: (name, fallback) => get(name, AttrType.INT)?.i ?? fallback,
      float: (name, fallback) => get(name, AttrType.FLOAT)?.f ?? fallback,
      ints: (name, fallback) => get(name, AttrType.INTS)?.ints ?? fallback,
      string: (name, fallback) => get(name, AttrType.STRING)?.s ?? fallback,
    };
  }

  unsupported(n: OnnxNode, message: string): OnnxUnsupportedError {
    return new OnnxUnsupportedError(`${FN}: ${nodeLabel(n)} ${message}`, n.opType, n.name, n.index);
  }

  /** A node that breaks the ONNX spec: a FileFormatError naming it. */
  bad(n: OnnxNode, message: string): FileFormatError {
    return new FileFormatError(`${FN}: ${nodeLabel(n)} ${message}`);
  }
}

interface Attrs {
  int(name: string, fallback: number): number;
  float(name: string, fallback: number): number;
  ints(name: string, fallback: number[]): number[];
  string(name: string, fallback: string): string;
}

/**
 * A float32 attribute as the decimal it was written from (7 significant digits: 0.1 for
 * 0.10000000149, 1e-5 for 9.99999975e-6), as PyTorch's module holds it; the same float32 again.
 */
function decimal(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(7)) : v;
}

function nodeLabel(n: OnnxNode): string {
  return `node ${n.index} (${n.opType}${n.name !== "" ? ` ${JSON.stringify(n.name)}` : ""})`;
}

function symbolLabel(s: Sym): string {
  switch (s.k) {
    case "const":
      return `the constant ${JSON.stringify(s.name)}`;
    case "dims":
      return "shape arithmetic";
    case "padded":
      return "a zero-padded tensor (a Pad node, which importOnnx reads only before AveragePool)";
    case "expr":
      return "elementwise arithmetic";
    case "dead":
      return "a value importOnnx cannot read";
    default:
      return "a computed tensor";
  }
}

// ---------------------------------------------------------------------------------------------
// GELU forms (PyTorch 1.13 at opset 17; the constants are float32 scalars):
//   erf:  Mul(Mul(x, Add(Erf(Div(x, 1.4142135)), 1)), 0.5)
//   tanh: Mul(Mul(x, Add(Tanh(Mul(Add(x, Mul(Mul(x, Mul(x, x)), 0.044715)), 0.7978846)), 1)), 0.5)
// matched up to the order of operands of Add and Mul and the grouping of products.

function matchGelu(e: Expr): "none" | "tanh" | null {
  const top = factors(e);
  if (top === null || top.length !== 3) return null;
  const half = top.findIndex((f) => isConst(f, 0.5));
  const x = top.findIndex((f, i) => i !== half && f.op === "x");
  if (half < 0 || x < 0) return null;
  const s = top[3 - half - x];
  if (s.op !== "add") return null;
  const one = isConst(s.a, 1) ? s.b : isConst(s.b, 1) ? s.a : null;
  if (one === null) return null;
  if (one.op === "erf") {
    const inner = factors(one.a);
    return inner !== null && inner.length === 2 && inner.some((f) => f.op === "x") && inner.some((f) => isConst(f, Math.SQRT1_2)) ? "none" : null;
  }
  if (one.op === "tanh") {
    const inner = factors(one.a);
    if (inner === null || inner.length !== 2) return null;
    const k = inner.findIndex((f) => isConst(f, Math.sqrt(2 / Math.PI)));
    if (k < 0) return null;
    const v = inner[1 - k];
    if (v.op !== "add") return null;
    const cube = v.a.op === "x" ? v.b : v.b.op === "x" ? v.a : null;
    if (cube === null) return null;
    const c = factors(cube);
    return c !== null && c.length === 4 && c.filter((f) => f.op === "x").length === 3 && c.some((f) => isConst(f, 0.044715)) ? "tanh" : null;
  }
  return null;
}

/** The factors of a product (Mul, and Div by a constant as a factor 1/c); null for a Div by a tensor. */
function factors(e: Expr): Expr[] | null {
  if (e.op === "mul") {
    const a = factors(e.a);
    const b = factors(e.b);
    return a === null || b === null ? null : [...a, ...b];
  }
  if (e.op === "div") {
    const a = factors(e.a);
    return a === null || e.b.op !== "c" ? null : [...a, { op: "c", v: 1 / e.b.v }];
  }
  return [e];
}

function isConst(e: Expr, v: number): boolean {
  return e.op === "c" && Math.abs(e.v - v) <= 1e-6 * Math.abs(v);
}
