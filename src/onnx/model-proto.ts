// Reading an ONNX ModelProto (onnx/onnx.proto) into plain objects: the graph's nodes, its
// initializers, one input and one output with their shapes, and the opset. Only the fields an
// importer needs are kept; every other field is skipped by its wire type. Tensor data is NOT
// decoded here: a tensor keeps views of its payloads, and `tensorValues` decodes it on request,
// after checking that the bytes there are exactly what its dims and type say (so a tensor that
// claims 2 GB in a 2 KB file fails before anything is allocated).
//
// Limits (a hostile file is refused, not obeyed): 100,000 nodes, 100,000 initializers,
// 1,000 inputs or outputs per node, 1,000 attributes per node, rank 16, dims below 2^31, names of
// at most 4,096 bytes, 1,000,000 unpacked repeated numbers in the whole file.
import { FileFormatError, internal } from "../index.js";
import { packedVarints, ProtoReader, signedInt64, WIRE_FIXED32, WIRE_FIXED64, WIRE_LENGTH, WIRE_VARINT, type ProtoField } from "./proto-reader.js";

// Destructured (see import.ts): a namespace member read from this entry would be exported from the core chunk.
const { halfToFloatBits } = internal;

export const MAX_NODES = 100_000;
export const MAX_INITIALIZERS = 100_000;
const MAX_NODE_IO = 1_000;
const MAX_ATTRIBUTES = 1_000;
const MAX_RANK = 16;
const MAX_DIM = 2 ** 31 - 1;
const MAX_NAME_BYTES = 4096;
const MAX_LOOSE_NUMBERS = 1_000_000;

/** TensorProto.DataType values. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;
const DATA_TYPE_NAMES: Record<number, string> = {
  0: "UNDEFINED",
  1: "FLOAT",
  2: "UINT8",
  3: "INT8",
  4: "UINT16",
  5: "INT16",
  6: "INT32",
  7: "INT64",
  8: "STRING",
  9: "BOOL",
  10: "FLOAT16",
  11: "DOUBLE",
  12: "UINT32",
  13: "UINT64",
  14: "COMPLEX64",
  15: "COMPLEX128",
  16: "BFLOAT16",
};
export function dataTypeName(t: number): string {
  return DATA_TYPE_NAMES[t] ?? `type ${t}`;
}

/** AttributeProto.AttributeType values. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** raw_data (field 9), a view into the file. */
  raw: Uint8Array | null;
  /** float_data (4), int32_data (5), int64_data (7), double_data (10), uint64_data (11): packed payloads and loose values. */
  packed: Map<number, Uint8Array[]>;
  loose: Map<number, number[]>;
  /** Where the data lives when it is not in the file (external_data's "location"), or null. */
  external: string | null;
  /** Set when the tensor has string_data or a segment, which no importer path reads. */
  odd: string | null;
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f: number;
  i: number;
  s: string;
  t: OnnxTensor | null;
  floats: number[];
  ints: number[];
}

export interface OnnxNode {
  index: number;
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
}

export interface OnnxValueInfo {
  name: string;
  /** TensorProto.DataType of a tensor value, 0 when the file does not say. */
  elemType: number;
  /** Each dim a size, a symbolic name, or null (unknown); null when the file gives no shape. */
  dims: (number | string | null)[] | null;
}

export interface OnnxModel {
  irVersion: number;
  producer: string;
  producerVersion: string;
  /** Opset per domain ("" is the default domain, ai.onnx). */
  opsets: Map<string, number>;
  /** metadata_props: the writer's key-value strings (tensorlane's export stores the input normalization). */
  metadata: Map<string, string>;
  graph: {
    name: string;
    nodes: OnnxNode[];
    initializers: Map<string, OnnxTensor>;
    inputs: OnnxValueInfo[];
    outputs: OnnxValueInfo[];
    sparseInitializers: number;
  };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads the ModelProto in `bytes`; a FileFormatError "fn: ..." for anything malformed. */
export function readOnnxModel(fn: string, bytes: Uint8Array): OnnxModel {
  const ctx = new Context(fn);
  const model: OnnxModel = {
    irVersion: 0,
    producer: "",
    producerVersion: "",
    opsets: new Map(),
    metadata: new Map(),
    graph: { name: "", nodes: [], initializers: new Map(), inputs: [], outputs: [], sparseInitializers: 0 },
  };
  let graphs = 0;
  const r = ctx.reader(bytes, "the model");
  for (let f = r.next(); f !== null; f = r.next()) {
    switch (f.field) {
      case 1:
        model.irVersion = ctx.int(f, "ir_version");
        break;
      case 2:
        model.producer = ctx.string(f, "producer_name");
        break;
      case 3:
        model.producerVersion = ctx.string(f, "producer_version");
        break;
      case 7:
        ctx.expectWire(f, WIRE_LENGTH, "graph");
        if (++graphs > 1) ctx.fail("the model holds two graphs");
        readGraph(ctx, f.bytes, model);
        break;
      case 8: {
        ctx.expectWire(f, WIRE_LENGTH, "opset_import");
        let domain = "";
        let version = 0;
        const o = ctx.reader(f.bytes, "an opset_import");
        for (let g = o.next(); g !== null; g = o.next()) {
          if (g.field === 1) domain = ctx.string(g, "opset_import.domain");
          else if (g.field === 2) version = ctx.int(g, "opset_import.version");
        }
        if (model.opsets.size >= 1000) ctx.fail("more than 1000 opset imports");
        model.opsets.set(domain === "ai.onnx" ? "" : domain, version);
        break;
      }
      case 14: {
        ctx.expectWire(f, WIRE_LENGTH, "metadata_props");
        let key = "";
        let value = "";
        const e = ctx.reader(f.bytes, "a metadata_props entry");
        for (let g = e.next(); g !== null; g = e.next()) {
          if (g.field === 1) key = ctx.string(g, "metadata_props.key");
          else if (g.field === 2) value = ctx.string(g, "metadata_props.value");
        }
        if (model.metadata.size >= 1000) ctx.fail("more than 1000 metadata_props entries");
        model.metadata.set(key, value);
        break;
      }
      default:
        break; // doc_string, functions, training_info, ...: not needed
    }
  }
  if (graphs === 0) ctx.fail("no graph: not an ONNX model (or an empty file)");
  return model;
}

function readGraph(ctx: Context, bytes: Uint8Array, model: OnnxModel): void {
  const g = model.graph;
  const r = ctx.reader(bytes, "the graph");
  for (let f = r.next(); f !== null; f = r.next()) {
    switch (f.field) {
      case 1:
        ctx.expectWire(f, WIRE_LENGTH, "graph.node");
        if (g.nodes.length >= MAX_NODES) ctx.fail(`the graph has more than ${MAX_NODES} nodes`);
        g.nodes.push(readNode(ctx, f.bytes, g.nodes.length));
        break;
      case 2:
        g.name = ctx.string(f, "graph.name");
        break;
      case 5: {
        ctx.expectWire(f, WIRE_LENGTH, "graph.initializer");
        if (g.initializers.size >= MAX_INITIALIZERS) ctx.fail(`the graph has more than ${MAX_INITIALIZERS} initializers`);
        const t = readTensor(ctx, f.bytes, "an initializer");
        if (t.name === "") ctx.fail("an initializer has no name");
        if (g.initializers.has(t.name)) ctx.fail(`two initializers are named ${JSON.stringify(t.name)}`);
        if (t.external !== null) {
          ctx.fail(
            `initializer ${JSON.stringify(t.name)} is stored outside the file (external data ${JSON.stringify(t.external)}): importOnnx reads one self-contained file; save the model with its tensors inside (onnx.save_model(model, path, save_as_external_data=False))`,
          );
        }
        g.initializers.set(t.name, t);
        break;
      }
      case 11:
      case 12: {
        ctx.expectWire(f, WIRE_LENGTH, f.field === 11 ? "graph.input" : "graph.output");
        const list = f.field === 11 ? g.inputs : g.outputs;
        if (list.length >= MAX_INITIALIZERS) ctx.fail(`the graph has more than ${MAX_INITIALIZERS} ${f.field === 11 ? "inputs" : "outputs"}`);
        list.push(readValueInfo(ctx, f.bytes));
        break;
      }
      case 15:
        g.sparseInitializers++;
        break;
      default:
        break; // doc_string, value_info, quantization_annotation
    }
  }
}

function readNode(ctx: Context, bytes: Uint8Array, index: number): OnnxNode {
  const node: OnnxNode = { index, name: "", opType: "", domain: "", inputs: [], outputs: [], attributes: new Map() };
  const r = ctx.reader(bytes, `node ${index}`);
  for (let f = r.next(); f !== null; f = r.next()) {
    switch (f.field) {
      case 1:
      case 2: {
        const list = f.field === 1 ? node.inputs : node.outputs;
        if (list.length >= MAX_NODE_IO) ctx.fail(`node ${index} has more than ${MAX_NODE_IO} ${f.field === 1 ? "inputs" : "outputs"}`);
        list.push(ctx.string(f, f.field === 1 ? "node.input" : "node.output"));
        break;
      }
      case 3:
        node.name = ctx.string(f, "node.name");
        break;
      case 4:
        node.opType = ctx.string(f, "node.op_type");
        break;
      case 7:
        node.domain = ctx.string(f, "node.domain");
        break;
      case 5: {
        ctx.expectWire(f, WIRE_LENGTH, "node.attribute");
        if (node.attributes.size >= MAX_ATTRIBUTES) ctx.fail(`node ${index} has more than ${MAX_ATTRIBUTES} attributes`);
        const a = readAttribute(ctx, f.bytes, index);
        if (node.attributes.has(a.name)) ctx.fail(`node ${index} (${node.opType}) has two attributes named ${JSON.stringify(a.name)}`);
        node.attributes.set(a.name, a);
        break;
      }
      default:
        break;
    }
  }
  if (node.opType === "") ctx.fail(`node ${index} has no op_type`);
  if (node.domain === "ai.onnx") node.domain = "";
  return node;
}

function readAttribute(ctx: Context, bytes: Uint8Array, node: number): OnnxAttribute {
  const a: OnnxAttribute = { name: "", type: 0, f: 0, i: 0, s: "", t: null, floats: [], ints: [] };
  const r = ctx.reader(bytes, `an attribute of node ${node}`);
  for (let f = r.next(); f !== null; f = r.next()) {
    switch (f.field) {
      case 1:
        a.name = ctx.string(f, "attribute.name");
        break;
      case 20:
        a.type = ctx.int(f, "attribute.type");
        break;
      case 2:
        ctx.expectWire(f, WIRE_FIXED32, "attribute.f");
        a.f = r.float32(f);
        break;
      case 3:
        ctx.expectWire(f, WIRE_VARINT, "attribute.i");
        a.i = signedInt64(f);
        break;
      case 4:
        a.s = ctx.string(f, "attribute.s");
        break;
      case 5:
        ctx.expectWire(f, WIRE_LENGTH, "attribute.t");
        a.t = readTensor(ctx, f.bytes, `attribute ${JSON.stringify(a.name)} of node ${node}`);
        break;
      case 7:
        if (f.wire === WIRE_LENGTH) {
          if (f.bytes.length % 4 !== 0) ctx.fail(`attribute floats of node ${node} has ${f.bytes.length} bytes, not a multiple of 4`);
          ctx.count(f.bytes.length / 4);
          const v = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
          for (let i = 0; i < f.bytes.length; i += 4) a.floats.push(v.getFloat32(i, true));
        } else {
          ctx.expectWire(f, WIRE_FIXED32, "attribute.floats");
          ctx.count(1);
          a.floats.push(r.float32(f));
        }
        break;
      case 8:
        if (f.wire === WIRE_LENGTH) {
          const values = packedVarints(f.bytes, ctx.failure);
          ctx.count(values.length);
          a.ints.push(...values);
        } else {
          ctx.expectWire(f, WIRE_VARINT, "attribute.ints");
          ctx.count(1);
          a.ints.push(signedInt64(f));
        }
        break;
      default:
        break; // g, graphs, strings, tensors, sparse tensors, type protos: read by no supported op
    }
  }
  if (a.name === "") ctx.fail(`an attribute of node ${node} has no name`);
  return a;
}

function readTensor(ctx: Context, bytes: Uint8Array, what: string): OnnxTensor {
  const t: OnnxTensor = { name: "", dims: [], dataType: 0, raw: null, packed: new Map(), loose: new Map(), external: null, odd: null };
  const r = ctx.reader(bytes, what);
  let location = 0;
  for (let f = r.next(); f !== null; f = r.next()) {
    switch (f.field) {
      case 1: {
        const dims = f.wire === WIRE_LENGTH ? packedVarints(f.bytes, ctx.failure) : (ctx.expectWire(f, WIRE_VARINT, "tensor.dims"), [signedInt64(f)]);
        for (const d of dims) {
          if (!Number.isSafeInteger(d) || d < 0 || d > MAX_DIM) ctx.fail(`${what} has the dimension ${d}, outside [0, 2^31)`);
          if (t.dims.length >= MAX_RANK) ctx.fail(`${what} has more than ${MAX_RANK} dimensions`);
          t.dims.push(d);
        }
        break;
      }
      case 2:
        t.dataType = ctx.int(f, "tensor.data_type");
        break;
      case 8:
        t.name = ctx.string(f, "tensor.name");
        break;
      case 9:
        ctx.expectWire(f, WIRE_LENGTH, "tensor.raw_data");
        if (t.raw !== null) ctx.fail(`${what} has raw_data twice`);
        t.raw = f.bytes;
        break;
      case 4:
      case 5:
      case 7:
      case 10:
      case 11:
        if (f.wire === WIRE_LENGTH) {
          const list = t.packed.get(f.field) ?? [];
          list.push(f.bytes);
          t.packed.set(f.field, list);
        } else {
          const want = f.field === 4 ? WIRE_FIXED32 : f.field === 10 ? WIRE_FIXED64 : WIRE_VARINT;
          ctx.expectWire(f, want, "a tensor data field");
          ctx.count(1);
          const list = t.loose.get(f.field) ?? [];
          list.push(f.field === 4 ? r.float32(f) : f.field === 10 ? r.float64(f) : signedInt64(f));
          t.loose.set(f.field, list);
        }
        break;
      case 13: {
        ctx.expectWire(f, WIRE_LENGTH, "tensor.external_data");
        // StringStringEntryProto { key 1, value 2 }: keep the location for the message.
        const e = ctx.reader(f.bytes, "an external_data entry");
        let key = "";
        let value = "";
        for (let g = e.next(); g !== null; g = e.next()) {
          if (g.field === 1) key = ctx.string(g, "external_data.key");
          else if (g.field === 2) value = ctx.string(g, "external_data.value");
        }
        if (key === "location" || t.external === null) t.external = key === "location" ? value : "?";
        break;
      }
      case 14:
        location = ctx.int(f, "tensor.data_location");
        break;
      case 3:
        t.odd = "a segment";
        break;
      case 6:
        t.odd = "string data";
        break;
      default:
        break;
    }
  }
  if (location === 1 && t.external === null) t.external = "?";
  return t;
}

function readValueInfo(ctx: Context, bytes: Uint8Array): OnnxValueInfo {
  const v: OnnxValueInfo = { name: "", elemType: 0, dims: null };
  const r = ctx.reader(bytes, "a graph input or output");
  for (let f = r.next(); f !== null; f = r.next()) {
    if (f.field === 1) v.name = ctx.string(f, "value_info.name");
    else if (f.field === 2) {
      ctx.expectWire(f, WIRE_LENGTH, "value_info.type");
      // TypeProto { tensor_type 1: { elem_type 1, shape 2: { dim 1: { dim_value 1 | dim_param 2 } } } }
      const type = ctx.reader(f.bytes, `the type of ${JSON.stringify(v.name)}`);
      for (let g = type.next(); g !== null; g = type.next()) {
        if (g.field !== 1) {
          v.elemType = -1; // a sequence, map or optional: not a tensor
          continue;
        }
        ctx.expectWire(g, WIRE_LENGTH, "type.tensor_type");
        const tt = ctx.reader(g.bytes, "a tensor type");
        for (let h = tt.next(); h !== null; h = tt.next()) {
          if (h.field === 1) v.elemType = ctx.int(h, "tensor_type.elem_type");
          else if (h.field === 2) {
            ctx.expectWire(h, WIRE_LENGTH, "tensor_type.shape");
            v.dims = [];
            const shape = ctx.reader(h.bytes, "a tensor shape");
            for (let d = shape.next(); d !== null; d = shape.next()) {
              if (d.field !== 1) continue;
              ctx.expectWire(d, WIRE_LENGTH, "shape.dim");
              if (v.dims.length >= MAX_RANK) ctx.fail(`${JSON.stringify(v.name)} has more than ${MAX_RANK} dimensions`);
              let dim: number | string | null = null;
              const dr = ctx.reader(d.bytes, "a dimension");
              for (let e = dr.next(); e !== null; e = dr.next()) {
                if (e.field === 1) {
                  ctx.expectWire(e, WIRE_VARINT, "dim_value");
                  dim = signedInt64(e);
                } else if (e.field === 2) dim = ctx.string(e, "dim_param");
              }
              v.dims.push(dim);
            }
          }
        }
      }
    }
  }
  return v;
}

/** Shared state of one read: the function name for messages and the unpacked-number budget. */
class Context {
  #loose = 0;
  readonly failure: (message: string) => never;

  constructor(readonly fn: string) {
    this.failure = (message: string): never => {
      throw new FileFormatError(`${fn}: ${message}`);
    };
  }

  fail(message: string): never {
    return this.failure(message);
  }

  reader(bytes: Uint8Array, what: string): ProtoReader {
    return new ProtoReader(bytes, (message) => this.fail(`${what}: ${message}`));
  }

  expectWire(f: ProtoField, wire: number, what: string): void {
    if (f.wire !== wire) this.fail(`${what} has wire type ${f.wire} (expected ${wire}): corrupt, or not an ONNX file`);
  }

  int(f: ProtoField, what: string): number {
    this.expectWire(f, WIRE_VARINT, what);
    return signedInt64(f);
  }

  string(f: ProtoField, what: string): string {
    this.expectWire(f, WIRE_LENGTH, what);
    if (f.bytes.length > MAX_NAME_BYTES) this.fail(`${what} is ${f.bytes.length} bytes long (at most ${MAX_NAME_BYTES})`);
    try {
      return utf8.decode(f.bytes);
    } catch {
      return this.fail(`${what} is not valid UTF-8`);
    }
  }

  count(n: number): void {
    this.#loose += n;
    if (this.#loose > MAX_LOOSE_NUMBERS) this.fail(`more than ${MAX_LOOSE_NUMBERS} numbers in unpacked repeated fields`);
  }
}

/** Element sizes in raw_data. */
const RAW_BYTES: Record<number, number> = { 1: 4, 6: 4, 7: 8, 10: 2, 11: 8, 16: 2 };

/**
 * A tensor's values as float64 numbers (FLOAT, DOUBLE, FLOAT16, BFLOAT16 exactly; INT32 and
 * INT64 as integers), checked against its dims first. `what` names it in errors.
 */
export function tensorValues(fn: string, t: OnnxTensor, what: string): Float64Array {
  const fail = (message: string): never => {
    throw new FileFormatError(`${fn}: ${what}: ${message}`);
  };
  if (t.external !== null) fail(`its data is stored outside the file (external data ${JSON.stringify(t.external)}); importOnnx reads one self-contained file`);
  if (t.odd !== null) fail(`it has ${t.odd}, which importOnnx does not read`);
  const elementBytes = RAW_BYTES[t.dataType];
  if (elementBytes === undefined)
    fail(`its data type is ${dataTypeName(t.dataType)}; importOnnx reads FLOAT, DOUBLE, FLOAT16, BFLOAT16, INT32 and INT64 tensors`);
  let count = 1;
  for (const d of t.dims) count *= d; // each d < 2^31, rank <= 16: may exceed 2^53, then no data can match
  const fields = [...t.packed.keys(), ...t.loose.keys()];
  if (t.raw !== null && fields.length > 0) fail("it has both raw_data and typed data fields");
  if (new Set(fields).size > 1) fail("it has more than one typed data field");
  const out = (n: number) => {
    if (n !== count) fail(`its dims [${t.dims.join(", ")}] need ${count > Number.MAX_SAFE_INTEGER ? "more than 2^53" : count} values but the file holds ${n}`);
    return new Float64Array(n);
  };
  if (t.raw !== null) {
    if (t.raw.length % elementBytes !== 0) fail(`raw_data has ${t.raw.length} bytes, not a multiple of ${elementBytes}`);
    const values = out(t.raw.length / elementBytes);
    const v = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
    const n = values.length;
    switch (t.dataType) {
      case DataType.FLOAT:
        for (let i = 0; i < n; i++) values[i] = v.getFloat32(4 * i, true);
        break;
      case DataType.DOUBLE:
        for (let i = 0; i < n; i++) values[i] = v.getFloat64(8 * i, true);
        break;
      case DataType.INT32:
        for (let i = 0; i < n; i++) values[i] = v.getInt32(4 * i, true);
        break;
      case DataType.INT64:
        for (let i = 0; i < n; i++) {
          const x = v.getBigInt64(8 * i, true);
          if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < -BigInt(Number.MAX_SAFE_INTEGER)) fail(`the INT64 value ${x} is outside ±2^53`);
          values[i] = Number(x);
        }
        break;
      default:
        for (let i = 0; i < n; i++) values[i] = v.getUint16(2 * i, true);
        widenHalves(values, t.dataType);
    }
    return values;
  }
  const field = fields[0];
  if (field === undefined) {
    out(0);
    return new Float64Array(0);
  }
  // Which field holds which type (onnx.proto): float_data FLOAT; int32_data INT32, FLOAT16 and
  // BFLOAT16 (as their 16 bits); int64_data INT64; double_data DOUBLE.
  const expected: Record<number, number> = { 1: 4, 6: 5, 10: 5, 16: 5, 7: 7, 11: 10 };
  if (expected[t.dataType] !== field) fail(`its ${dataTypeName(t.dataType)} data is in field ${field}, where ONNX keeps other types`);
  const packed = t.packed.get(field) ?? [];
  const loose = t.loose.get(field) ?? [];
  if (field === 4 || field === 10) {
    const size = field === 4 ? 4 : 8;
    let n = loose.length;
    for (const p of packed) {
      if (p.length % size !== 0) fail(`a packed data field has ${p.length} bytes, not a multiple of ${size}`);
      n += p.length / size;
    }
    const values = out(n);
    let at = 0;
    for (const p of packed) {
      const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
      for (let i = 0; i < p.length; i += size) values[at++] = size === 4 ? v.getFloat32(i, true) : v.getFloat64(i, true);
    }
    for (const x of loose) values[at++] = x;
    return values;
  }
  // Varint fields: count first (a byte with the high bit clear ends each varint), then decode.
  let n = loose.length;
  for (const p of packed) for (let i = 0; i < p.length; i++) if ((p[i] & 0x80) === 0) n++;
  const values = out(n);
  let at = 0;
  for (const p of packed) {
    for (const x of packedVarints(p, fail)) values[at++] = x;
  }
  for (const x of loose) values[at++] = x;
  if (t.dataType === DataType.FLOAT16 || t.dataType === DataType.BFLOAT16) widenHalves(values, t.dataType);
  if (t.dataType === DataType.INT32) for (let i = 0; i < values.length; i++) values[i] = values[i] | 0;
  return values;
}

/** values holds 16-bit patterns of FLOAT16 or BFLOAT16 numbers: replaces them by their values (exact). */
function widenHalves(values: Float64Array, type: number): void {
  const bits = new Uint32Array(1);
  const f = new Float32Array(bits.buffer);
  for (let i = 0; i < values.length; i++) {
    const h = values[i] & 0xffff;
    bits[0] = type === DataType.BFLOAT16 ? (h << 16) >>> 0 : halfToFloatBits(h);
    values[i] = f[0];
  }
}
