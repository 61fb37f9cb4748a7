// safetensors, the format PyTorch's `safetensors` package reads and writes:
//
//   8 bytes   N, the header length, unsigned little-endian
//   N bytes   UTF-8 JSON: {"__metadata__": {str: str}, "<name>": {"dtype": "F32" | "F64", "shape": [...],
//             "data_offsets": [begin, end]}, ...}, padded with spaces so the data starts 8-aligned
//   rest      the tensors' bytes, little-endian, row-major; offsets are relative to the data start,
//             contiguous (no gaps, no overlaps) and covering the rest of the file exactly
//
// The decoder treats its input as hostile: it checks every length against the bytes it was given
// before allocating, so a corrupt or crafted file costs at most a copy of its own size and gives a
// FileFormatError, never a crash, a hang or a huge allocation. Its rules match the reference
// implementation's (huggingface/safetensors), so what one accepts the other accepts.
import { FileFormatError, whatPrefix } from "./format-error.js";
import { describe } from "../core/validate.js";

/** A floating-point tensor as encodeSafetensors takes it and decodeSafetensors returns it. */
export interface SafetensorsTensor {
  /** Row-major dimensions; [] is a scalar (one value). */
  readonly shape: readonly number[];
  /** F32 tensors are Float32Arrays, F64 tensors Float64Arrays (F16 and BF16 widened to Float32Arrays with { widen: true }). */
  readonly data: Float32Array | Float64Array;
  /** The dtype stored in the file ("F32", "F64", "F16", "BF16"; "I32", "I64" with { integers: true }). */
  readonly dtype?: string;
}

/** A tensor of any dtype tensorlane reads: integer tensors (I32, I64) as Int32Array and BigInt64Array. */
export interface SafetensorsAnyTensor {
  /** Row-major dimensions; [] is a scalar (one value). */
  readonly shape: readonly number[];
  /** The values: Float32Array (F32, widened F16/BF16), Float64Array (F64), Int32Array (I32), BigInt64Array (I64). */
  readonly data: Float32Array | Float64Array | Int32Array | BigInt64Array;
  /** The dtype stored in the file ("F32", "F64", "F16", "BF16", "I32", "I64"). */
  readonly dtype?: string;
}

/** A decoded safetensors file: its tensors by name and its string metadata. */
export interface SafetensorsContents<T = SafetensorsTensor> {
  /** Tensors in file order (by data offset). */
  tensors: Record<string, T>;
  /** The `__metadata__` string map ({} when absent). */
  metadata: Record<string, string>;
}

/** Options of decodeSafetensors: which dtypes besides F32 and F64 to accept. */
export interface DecodeSafetensorsOptions {
  /**
   * Also read F16 (IEEE binary16) and BF16 (bfloat16) tensors, widened to Float32Arrays (exact:
   * every half value is a float32). Default false: they are refused, as are all dtypes but F32/F64.
   */
  widen?: boolean;
  /** Also read I32 and I64 tensors (PyTorch's num_batches_tracked), as Int32Array and BigInt64Array. Default false. */
  integers?: boolean;
}

/** The reference implementation's limit on the JSON header. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

const METADATA_KEY = "__metadata__";
/** Element sizes of the dtypes the format defines; tensorlane reads and writes F32 and F64. */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};
/** Whether this machine stores numbers little-endian (asked when needed: no work at module load). */
const littleEndian = () => new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The file as a list of byte chunks (the header, then each tensor's bytes as a view over its
 * Float32Array, no copy): for writers that stream. Tensors are laid out in the order given.
 */
export function encodeSafetensorsParts(tensors: Record<string, SafetensorsTensor | SafetensorsAnyTensor>, metadata: Record<string, string> = {}): Uint8Array[] {
  const fn = "encodeSafetensors";
  if (tensors === null || typeof tensors !== "object" || Array.isArray(tensors)) {
    throw new TypeError(`${fn}: tensors must be an object mapping names to { shape, data } (got ${describe(tensors)})`);
  }
  if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
    throw new TypeError(`${fn}: metadata must be an object mapping strings to strings (got ${describe(metadata)})`);
  }
  const header: Record<string, unknown> = {};
  const metaEntries = Object.entries(metadata);
  for (const [key, value] of metaEntries) {
    if (typeof value !== "string") throw new TypeError(`${fn}: metadata["${key}"] must be a string (got ${describe(value)})`);
  }
  if (metaEntries.length > 0) header[METADATA_KEY] = Object.fromEntries(metaEntries);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === METADATA_KEY) throw new RangeError(`${fn}: "${METADATA_KEY}" is reserved and cannot name a tensor`);
    if (t === null || typeof t !== "object" || dtypeOfData(t.data) === undefined) {
      throw new TypeError(
        `${fn}: tensors["${name}"] must be { shape: number[], data: Float32Array, Float64Array, Int32Array or BigInt64Array } (got ${describe(t)})`,
      );
    }
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new RangeError(`${fn}: tensors["${name}"].shape must be an array of non-negative integers (got ${describe(t.shape)})`);
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new RangeError(`${fn}: tensors["${name}"] has shape [${t.shape.join(", ")}] (${count} values) but its data has ${t.data.length}`);
    }
    const bytes = littleEndianBytes(t.data);
    // defineProperty: a name such as "__proto__" becomes a plain key, as in the file
    Object.defineProperty(header, name, {
      value: { dtype: dtypeOfData(t.data), shape: [...t.shape], data_offsets: [offset, offset + bytes.length] },
      enumerable: true,
      configurable: true,
      writable: true,
    });
    offset += bytes.length;
    chunks.push(bytes);
  }
  const json = JSON.stringify(header);
  let headerBytes = new TextEncoder().encode(json);
  const pad = (8 - (headerBytes.length % 8)) % 8; // the data starts 8-aligned, as the reference pads
  if (pad > 0) headerBytes = new TextEncoder().encode(json + " ".repeat(pad));
  if (headerBytes.length > MAX_SAFETENSORS_HEADER_BYTES) {
    throw new RangeError(
      `${fn}: the header would be ${headerBytes.length} bytes, over the format's ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit (too many tensors or too much metadata)`,
    );
  }
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setUint32(0, headerBytes.length, true); // < 2^32: the high half stays 0
  return [prefix, headerBytes, ...chunks];
}

/** Encodes tensors (F32, F64, I32 or I64 by their array type) and string metadata as one safetensors file. */
export function encodeSafetensors(tensors: Record<string, SafetensorsTensor | SafetensorsAnyTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const parts = encodeSafetensorsParts(tensors, metadata);
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One tensor's entry in a safetensors header, as readSafetensorsHeader returns it (no data read). */
export interface SafetensorsEntry {
  /** The tensor's key ("0.weight", "W1"). */
  readonly name: string;
  /** The stored dtype ("F32", "F64", "F16", "BF16", "I64", ...). */
  readonly dtype: string;
  /** Row-major dimensions; [] is a scalar. */
  readonly shape: readonly number[];
  /** Byte range in the file (absolute, not relative to the data section). */
  readonly begin: number;
  /** End of the byte range, exclusive (absolute offset in the file). */
  readonly end: number;
}

/**
 * Reads and validates the header only: the entries (in file order) and the metadata. Every
 * tensor's bytes are then known to lie inside `bytes`. Throws FileFormatError for anything wrong.
 */
export function readSafetensorsHeader(
  bytes: Uint8Array,
  what?: string,
): {
  /** Every tensor's entry, in file order (by data offset). */
  entries: SafetensorsEntry[];
  /** The `__metadata__` string map ({} when absent). */
  metadata: Record<string, string>;
} {
  return readHeader("readSafetensorsHeader", bytes, what);
}

// The header reader behind both public functions; `fn` names the one the caller called.
function readHeader(fn: string, bytes: Uint8Array, what?: string): { entries: SafetensorsEntry[]; metadata: Record<string, string> } {
  const fail = (message: string): never => {
    throw new FileFormatError(`${fn}: ${whatPrefix(what)}${message}`);
  };
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${fn}: bytes must be a Uint8Array (got ${describe(bytes)})`);
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, but a safetensors file starts with an 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  const headerLength = high * 2 ** 32 + low; // exact below 2^53; larger values fail the checks below anyway
  if (high !== 0 || headerLength > MAX_SAFETENSORS_HEADER_BYTES) {
    fail(
      `header length ${high !== 0 ? `${high} * 2^32 + ${low}` : headerLength} is over the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit: corrupt, or not a safetensors file`,
    );
  }
  if (headerLength > bytes.length - 8) {
    // A file cut short, or a damaged length (a flipped bit in bytes 0-7): this reader cannot tell which.
    fail(`truncated, or its header length (bytes 0-7) is damaged: it says ${headerLength} bytes of header but only ${bytes.length - 8} bytes follow`);
  }
  if (headerLength < 2) fail(`header length ${headerLength} is too short for a JSON object`);
  let text = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    fail("the header is not valid UTF-8: corrupt, or not a safetensors file");
  }
  if (text[0] !== "{")
    fail(`the header must be a JSON object starting with "{" (it starts with ${JSON.stringify(text.slice(0, 16))}): corrupt, or not a safetensors file`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    // A damaged length also lands here: the JSON then ends early or runs into the data.
    fail(
      `the header (${headerLength} bytes after the 8-byte length) is not valid JSON (${error instanceof Error ? error.message : String(error)}): the header or its length is damaged`,
    );
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) fail("the header must be a JSON object");
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;

  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (info === null) continue;
      if (typeof info !== "object" || Array.isArray(info)) fail(`"${METADATA_KEY}" must be an object mapping strings to strings (got ${describe(info)})`);
      for (const [key, value] of Object.entries(info as Record<string, unknown>)) {
        if (typeof value !== "string") fail(`metadata value "${clip(key)}" must be a string (got ${describe(value)})`);
        Object.defineProperty(metadata, key, { value, enumerable: true, configurable: true, writable: true });
      }
      continue;
    }
    const label = `tensor "${clip(name)}"`;
    if (info === null || typeof info !== "object" || Array.isArray(info))
      fail(`${label} must be described by { dtype, shape, data_offsets } (got ${describe(info)})`);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (typeof dtype !== "string") fail(`${label} has no dtype string (got ${describe(dtype)})`);
    const dtypeName = dtype as string;
    if (!Object.hasOwn(DTYPE_BYTES, dtypeName)) fail(`${label} has unknown dtype ${JSON.stringify(clip(dtypeName))}`);
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      fail(`${label} must have a shape of non-negative integers (got ${clip(JSON.stringify(shape) ?? String(shape))})`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => !Number.isSafeInteger(o) || o < 0)) {
      fail(`${label} must have data_offsets [begin, end] of non-negative integers (got ${clip(JSON.stringify(offsets) ?? String(offsets))})`);
    }
    const [begin, end] = offsets as number[];
    if (end < begin) fail(`${label} has data_offsets [${begin}, ${end}] that end before they begin`);
    if (end > dataLength) fail(`${label} has data_offsets [${begin}, ${end}] past the end of the data (${dataLength} bytes): truncated file?`);
    // The element count, checked step by step against the bytes actually there: no overflow, no
    // trust in the shape before it is known to fit.
    const elementBytes = DTYPE_BYTES[dtypeName];
    let nbytes = (shape as number[]).includes(0) ? 0 : elementBytes;
    for (const d of shape as number[]) {
      if (nbytes > Number.MAX_SAFE_INTEGER) break; // stays inexact-but-huge: cannot match end - begin
      nbytes *= d;
    }
    if (nbytes !== end - begin) {
      const size = nbytes > dataLength ? `more than the whole file: ${nbytes > Number.MAX_SAFE_INTEGER ? "over 2^53" : nbytes} bytes` : `${nbytes} bytes`;
      fail(
        `${label} has shape [${clip((shape as number[]).join(", "))}] of ${dtypeName} (${size}) but data_offsets [${begin}, ${end}] hold ${end - begin} bytes`,
      );
    }
    entries.push({ name, dtype: dtypeName, shape: shape as number[], begin: dataStart + begin, end: dataStart + end });
  }
  // File order; the reference requires the ranges to tile the data section exactly.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = dataStart;
  for (const e of entries) {
    if (e.begin < at)
      fail(
        `tensor "${clip(e.name)}" (bytes ${e.begin - dataStart}..${e.end - dataStart} of the data) overlaps the tensor before it (which ends at ${at - dataStart})`,
      );
    if (e.begin > at)
      fail(`there is a gap in the data before tensor "${clip(e.name)}" (it starts at ${e.begin - dataStart}, the previous tensor ends at ${at - dataStart})`);
    at = e.end;
  }
  if (at !== bytes.length) {
    fail(
      `the tensors cover ${at - dataStart} bytes of data but the file has ${dataLength} after the header (${dataLength - (at - dataStart)} unexpected trailing bytes)`,
    );
  }
  return { entries, metadata };
}

/**
 * Decodes a safetensors file holding F32 and F64 tensors. Each tensor's data is a fresh
 * Float32Array or Float64Array (a copy: safe to keep, aligned whatever the file's layout). Throws
 * FileFormatError for a truncated, corrupt or hostile file, and for other dtypes. With
 * `{ widen: true }` F16 and BF16 tensors are read too (as Float32Arrays), with
 * `{ integers: true }` I32 and I64 tensors (as Int32Array and BigInt64Array); each tensor's
 * `dtype` says what the file stored.
 */
export function decodeSafetensors(bytes: Uint8Array, what?: string, options?: DecodeSafetensorsOptions & { integers?: false }): SafetensorsContents;
export function decodeSafetensors(
  bytes: Uint8Array,
  what: string | undefined,
  options: DecodeSafetensorsOptions & { integers: true },
): SafetensorsContents<SafetensorsAnyTensor>;
export function decodeSafetensors(bytes: Uint8Array, what?: string, options: DecodeSafetensorsOptions = {}): SafetensorsContents<SafetensorsAnyTensor> {
  const fn = "decodeSafetensors";
  if (options === null || typeof options !== "object") throw new TypeError(`${fn}: options must be { widen?, integers? } (got ${describe(options)})`);
  for (const key of Object.keys(options))
    if (key !== "widen" && key !== "integers") throw new TypeError(`${fn}: unknown option "${key}" (known: widen, integers)`);
  for (const key of ["widen", "integers"] as const) {
    if (options[key] !== undefined && typeof options[key] !== "boolean")
      throw new TypeError(`${fn}: options.${key} must be true or false (got ${describe(options[key])})`);
  }
  const { entries, metadata } = readHeader(fn, bytes, what);
  const readable = ["F32", "F64", ...(options.widen ? ["F16", "BF16"] : []), ...(options.integers ? ["I32", "I64"] : [])];
  for (const e of entries) {
    if (!readable.includes(e.dtype)) {
      const hint =
        (e.dtype === "F16" || e.dtype === "BF16") && !options.widen
          ? " (pass { widen: true } to read F16 and BF16 widened to float32)"
          : (e.dtype === "I32" || e.dtype === "I64") && !options.integers
            ? " (pass { integers: true } to read I32 and I64)"
            : "";
      throw new FileFormatError(
        `${fn}: ${whatPrefix(what)}tensor "${clip(e.name)}" has dtype ${e.dtype}; tensorlane reads only ${listOf(readable)} tensors${hint}`,
      );
    }
  }
  const le = littleEndian();
  const tensors: Record<string, SafetensorsAnyTensor> = {};
  for (const e of entries) {
    const view = new DataView(bytes.buffer, bytes.byteOffset + e.begin, e.end - e.begin);
    const n = (e.end - e.begin) / DTYPE_BYTES[e.dtype];
    let data: Float32Array | Float64Array | Int32Array | BigInt64Array;
    if (e.dtype === "F16" || e.dtype === "BF16") {
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      if (e.dtype === "BF16") for (let i = 0; i < n; i++) bits[i] = (view.getUint16(2 * i, true) << 16) >>> 0;
      else for (let i = 0; i < n; i++) bits[i] = halfToFloatBits(view.getUint16(2 * i, true));
      data = out;
    } else {
      data = e.dtype === "F64" ? new Float64Array(n) : e.dtype === "F32" ? new Float32Array(n) : e.dtype === "I32" ? new Int32Array(n) : new BigInt64Array(n);
      if (le) new Uint8Array(data.buffer).set(bytes.subarray(e.begin, e.end));
      else {
        for (let i = 0; i < n; i++) {
          if (data instanceof Float64Array) data[i] = view.getFloat64(8 * i, true);
          else if (data instanceof Float32Array) data[i] = view.getFloat32(4 * i, true);
          else if (data instanceof Int32Array) data[i] = view.getInt32(4 * i, true);
          else data[i] = view.getBigInt64(8 * i, true);
        }
      }
    }
    Object.defineProperty(tensors, e.name, {
      value: Object.freeze({ shape: Object.freeze([...e.shape]), data, dtype: e.dtype }),
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  return { tensors, metadata };
}

/**
 * The float32 bit pattern of an IEEE binary16 value (exact: sign, exponent rebiased 15 -> 127,
 * subnormal halves normalized, infinities and NaNs kept with their payload).
 */
export function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal: mant · 2^-24; shift the leading one into the implicit bit.
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

function dtypeOfData(data: unknown): string | undefined {
  if (data instanceof Float32Array) return "F32";
  if (data instanceof Float64Array) return "F64";
  if (data instanceof Int32Array) return "I32";
  if (data instanceof BigInt64Array) return "I64";
  return undefined;
}

function listOf(names: string[]): string {
  return names.length <= 2 ? names.join(" and ") : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

function littleEndianBytes(data: Float32Array | Float64Array | Int32Array | BigInt64Array): Uint8Array {
  if (littleEndian()) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float64Array) view.setFloat64(8 * i, data[i], true);
    else if (data instanceof Float32Array) view.setFloat32(4 * i, data[i], true);
    else if (data instanceof Int32Array) view.setInt32(4 * i, data[i], true);
    else view.setBigInt64(8 * i, data[i], true);
  }
  return out;
}

// Names in messages come from the file: keep them short.
function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
