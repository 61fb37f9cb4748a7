// Hand-made ONNX files for the import tests: any ops, attributes, initializers (FLOAT or INT64,
// raw or typed data, or external), inputs and outputs, written with the library's ProtoWriter
// (onnx.proto field numbers), so a test can build exactly the graph (or the broken file) it needs.
import { ProtoWriter } from "../../src/onnx/protobuf.js";

export type AttrValue = number | number[] | { float: number } | { floats: number[] } | { string: string } | { tensor: TensorSpec };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, AttrValue>;
}

export interface TensorSpec {
  name: string;
  dims: number[];
  /** 1 FLOAT (default), 7 INT64, 11 DOUBLE, 10 FLOAT16 */
  type?: number;
  values?: number[];
  /** Store the values in raw_data (default) or in the typed field. */
  raw?: boolean;
  /** Raw bytes to store as raw_data as they are. */
  rawBytes?: Uint8Array;
  /** Mark the data as external, stored in this file. */
  external?: string;
}

export interface ValueSpec {
  name: string;
  dims?: (number | string)[];
  type?: number;
}

export interface ModelSpec {
  opset?: number;
  ir?: number;
  nodes: NodeSpec[];
  initializers?: TensorSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
}

export function tensorProto(t: TensorSpec): ProtoWriter {
  const w = new ProtoWriter();
  w.packedInts(1, t.dims);
  const type = t.type ?? 1;
  w.int(2, type);
  w.string(8, t.name);
  const values = t.values ?? [];
  if (t.external !== undefined) {
    w.message(13, new ProtoWriter().string(1, "location").string(2, t.external));
    w.int(14, 1);
  } else if (t.rawBytes !== undefined) {
    w.bytes(9, t.rawBytes);
  } else if (t.raw ?? true) {
    const size = type === 7 || type === 11 ? 8 : type === 10 ? 2 : 4;
    const bytes = new Uint8Array(values.length * size);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => {
      if (type === 7) view.setBigInt64(8 * i, BigInt(v), true);
      else if (type === 11) view.setFloat64(8 * i, v, true);
      else if (type === 10) view.setUint16(2 * i, v, true);
      else view.setFloat32(4 * i, v, true);
    });
    w.bytes(9, bytes);
  } else if (type === 7) w.packedInts(7, values);
  else w.packedFloats(4, values);
  return w;
}

function attribute(name: string, v: AttrValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if (typeof v === "number") return w.int(3, v).int(20, 2);
  if (Array.isArray(v)) return w.packedInts(8, v).int(20, 7);
  if ("float" in v) return w.float(2, v.float).int(20, 1);
  if ("floats" in v) return w.packedFloats(7, v.floats).int(20, 6);
  if ("string" in v) return w.string(4, v.string).int(20, 3);
  return w.message(5, tensorProto(v.tensor)).int(20, 4);
}

function valueInfo(v: ValueSpec): ProtoWriter {
  const tensorType = new ProtoWriter().int(1, v.type ?? 1);
  if (v.dims !== undefined) {
    const shape = new ProtoWriter();
    for (const d of v.dims) shape.message(1, typeof d === "number" ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
    tensorType.message(2, shape);
  }
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

export function onnxModel(spec: ModelSpec): Uint8Array {
  const graph = new ProtoWriter();
  spec.nodes.forEach((n, i) => {
    const w = new ProtoWriter();
    for (const x of n.inputs) w.string(1, x);
    for (const y of n.outputs) w.string(2, y);
    w.string(3, n.name ?? `/${n.op}_${i}`).string(4, n.op);
    if (n.domain !== undefined) w.string(7, n.domain);
    for (const [k, v] of Object.entries(n.attrs ?? {})) w.message(5, attribute(k, v));
    graph.message(1, w);
  });
  graph.string(2, "test");
  for (const t of spec.initializers ?? []) graph.message(5, tensorProto(t));
  for (const v of spec.inputs) graph.message(11, valueInfo(v));
  for (const v of spec.outputs) graph.message(12, valueInfo(v));
  const model = new ProtoWriter()
    .int(1, spec.ir ?? 8)
    .string(2, "test")
    .string(3, "1");
  model.message(7, graph);
  model.message(8, new ProtoWriter().string(1, "").int(2, spec.opset ?? 17));
  return model.finish();
}

/** Seeded values in [-0.5, 0.5): enough for tests that only need numbers. */
export function numbers(n: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

/** An MLP x (N, D) -> Gemm -> Relu -> Gemm -> scores (N, C), as torch.onnx.export writes it; extra nodes may follow. */
export function mlpModel(D = 4, H = 5, C = 3, extra: Partial<ModelSpec> = {}): Uint8Array {
  return onnxModel({
    nodes: [
      { op: "Gemm", inputs: ["x", "0.weight", "0.bias"], outputs: ["h"], attrs: { transB: 1 } },
      { op: "Relu", inputs: ["h"], outputs: ["r"] },
      { op: "Gemm", inputs: ["r", "2.weight", "2.bias"], outputs: ["scores"], attrs: { transB: 1 } },
      ...(extra.nodes ?? []),
    ],
    initializers: [
      { name: "0.weight", dims: [H, D], values: numbers(H * D, 1) },
      { name: "0.bias", dims: [H], values: numbers(H, 2) },
      { name: "2.weight", dims: [C, H], values: numbers(C * H, 3) },
      { name: "2.bias", dims: [C], values: numbers(C, 4) },
      ...(extra.initializers ?? []),
    ],
    inputs: extra.inputs ?? [{ name: "x", dims: ["N", D] }],
    outputs: extra.outputs ?? [{ name: "scores", dims: ["N", C] }],
    opset: extra.opset,
  });
}
