// An ONNX graph under construction (float tensors, default-domain operators) and its encoding as
// an ONNX ModelProto. Field numbers follow onnx/onnx.proto (IR version 7 = opset 13).
import { ProtoWriter } from "./protobuf.js";

/** The operator set the exporter writes: opset 13 runs in every ONNX Runtime since 1.7. */
export const OPSET = 13;
/** The IR version that goes with opset 13. */
export const IR_VERSION = 7;

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_FLOAT = 1; // AttributeProto.AttributeType
const ATTR_INT = 2;
const ATTR_INTS = 7;

/** A dimension: a fixed size, or a name for a size chosen at run time ("N"). */
export type Dim = number | string;
export type Attribute = number | readonly number[] | { float: number };

interface Node {
  op: string;
  inputs: string[];
  output: string;
  attributes: Record<string, Attribute>;
}

interface Initializer {
  name: string;
  dims: readonly number[];
  values: Float32Array;
}

/** Nodes in topological order (each added after its inputs), constant tensors, one input, one output. */
export class OnnxGraph {
  readonly #nodes: Node[] = [];
  readonly #initializers: Initializer[] = [];
  readonly #names = new Set<string>();

  constructor(
    readonly name: string,
    readonly input: { name: string; dims: Dim[] },
    readonly output: { name: string; dims: Dim[] },
  ) {
    this.#names.add(input.name);
  }

  /** A constant float tensor (a weight); returns its name. */
  constant(name: string, dims: readonly number[], values: Float32Array): string {
    this.#claim(name);
    if (values.length !== dims.reduce((a, b) => a * b, 1)) throw new RangeError(`OnnxGraph: ${name} has ${values.length} values for dims [${dims.join(", ")}]`);
    this.#initializers.push({ name, dims, values });
    return name;
  }

  /** A name nothing in the graph has yet: `base`, else `base_1`, `base_2`, ... */
  fresh(base: string): string {
    if (!this.#names.has(base)) return base;
    for (let i = 1; ; i++) if (!this.#names.has(`${base}_${i}`)) return `${base}_${i}`;
  }

  /** Whether a tensor or node output already has this name. */
  has(name: string): boolean {
    return this.#names.has(name);
  }

  /** An operator node with one output; returns the output's name. Integers are INT attributes. */
  node(op: string, inputs: string[], output: string, attributes: Record<string, Attribute> = {}): string {
    for (const i of inputs) if (!this.#names.has(i)) throw new RangeError(`OnnxGraph: ${op} reads ${i}, which nothing produced`);
    this.#claim(output);
    this.#nodes.push({ op, inputs, output, attributes });
    return output;
  }

  /** The ModelProto bytes. */
  encode(producer: { name: string; version: string }, metadata: Record<string, string> = {}): Uint8Array {
    if (!this.#names.has(this.output.name)) throw new RangeError(`OnnxGraph: no node produces the output ${this.output.name}`);
    const graph = new ProtoWriter();
    for (const n of this.#nodes) graph.message(1, encodeNode(n));
    graph.string(2, this.name);
    for (const t of this.#initializers) graph.message(5, encodeTensor(t));
    graph.message(11, encodeValueInfo(this.input.name, this.input.dims));
    graph.message(12, encodeValueInfo(this.output.name, this.output.dims));

    const model = new ProtoWriter().int(1, IR_VERSION).string(2, producer.name).string(3, producer.version);
    model.message(7, graph);
    model.message(8, new ProtoWriter().string(1, "").int(2, OPSET)); // OperatorSetIdProto: default domain
    for (const [key, value] of Object.entries(metadata)) model.message(14, new ProtoWriter().string(1, key).string(2, value));
    return model.finish();
  }

  #claim(name: string): void {
    if (this.#names.has(name)) throw new RangeError(`OnnxGraph: the name ${name} is used twice`);
    this.#names.add(name);
  }
}

// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5.
function encodeNode(n: Node): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  w.string(2, n.output).string(3, n.output).string(4, n.op);
  for (const [name, value] of Object.entries(n.attributes)) w.message(5, encodeAttribute(name, value));
  return w;
}

// AttributeProto: name 1, f 2, i 3, ints 8, type 20.
function encodeAttribute(name: string, value: Attribute): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if (typeof value === "number") return w.int(3, value).int(20, ATTR_INT);
  if (Array.isArray(value)) return w.packedInts(8, value as number[]).int(20, ATTR_INTS);
  return w.float(2, (value as { float: number }).float).int(20, ATTR_FLOAT);
}

// TensorProto: dims 1 (packed int64), data_type 2, float_data 4 (packed), name 8.
function encodeTensor(t: Initializer): ProtoWriter {
  return new ProtoWriter()
    .packedInts(1, [...t.dims])
    .int(2, FLOAT)
    .packedFloats(4, t.values)
    .string(8, t.name);
}

// ValueInfoProto { name 1, type 2: TypeProto { tensor_type 1: { elem_type 1, shape 2:
// TensorShapeProto { dim 1: { dim_value 1 | dim_param 2 } } } } }
function encodeValueInfo(name: string, dims: Dim[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) shape.message(1, typeof d === "number" ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().int(1, FLOAT).message(2, shape);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}
