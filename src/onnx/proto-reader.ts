// A minimal protocol-buffers reader: the wire format (see protobuf.ts) read back, field by field,
// over bytes that may be hostile. Every length is checked against the bytes that are there before
// anything is sliced, a varint is at most 10 bytes, groups (wire types 3 and 4, deprecated) and
// undefined wire types are refused, so a read costs time linear in the bytes and allocates
// nothing but the views it returns. Errors go through `fail`, which the caller makes throw a
// FileFormatError naming the message being read.

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH = 2;
export const WIRE_FIXED32 = 5;

/** One field: its number, wire type and payload (a number for varints and fixed, a view for lengths). */
export interface ProtoField {
  field: number;
  wire: number;
  /** Varint: the value as a safe integer (see `big` when it is not); fixed32/fixed64: unused (see `at`). */
  value: number;
  /** Varint: the full 64-bit value (only when it does not fit a safe integer, e.g. a negative int64). */
  big: bigint | null;
  /** Length-delimited: the payload, a view into the input (no copy). */
  bytes: Uint8Array;
  /** Offset of the payload in the reader's bytes (fixed32/fixed64 values are read from there). */
  at: number;
}

export class ProtoReader {
  #at = 0;
  readonly #view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly fail: (message: string) => never,
  ) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The next field, or null at the end of the message. */
  next(): ProtoField | null {
    if (this.#at >= this.bytes.length) return null;
    const key = this.#varint();
    if (key.big !== null || key.value > 0xffffffff) this.fail(`a field key ${key.big ?? key.value} is out of range`);
    const field = Math.floor(key.value / 8);
    const wire = key.value % 8;
    if (field === 0) this.fail("a field has number 0");
    const out: ProtoField = { field, wire, value: 0, big: null, bytes: EMPTY, at: this.#at };
    switch (wire) {
      case WIRE_VARINT: {
        const v = this.#varint();
        out.value = v.value;
        out.big = v.big;
        break;
      }
      case WIRE_FIXED64:
        this.#skip(8);
        break;
      case WIRE_FIXED32:
        this.#skip(4);
        break;
      case WIRE_LENGTH: {
        const length = this.#varint();
        const left = this.bytes.length - this.#at;
        if (length.big !== null || length.value > left) {
          this.fail(`field ${field} claims ${length.big ?? length.value} bytes but only ${left} remain (truncated or corrupt)`);
        }
        out.at = this.#at;
        out.bytes = this.bytes.subarray(this.#at, this.#at + length.value);
        this.#at += length.value;
        break;
      }
      default:
        this.fail(`field ${field} has wire type ${wire}, which ONNX files never use (corrupt, or not an ONNX file)`);
    }
    return out;
  }

  /** A fixed32 field's value as a float. */
  float32(f: ProtoField): number {
    return this.#view.getFloat32(f.at, true);
  }

  /** A fixed64 field's value as a double. */
  float64(f: ProtoField): number {
    return this.#view.getFloat64(f.at, true);
  }

  #skip(n: number): void {
    if (this.bytes.length - this.#at < n) this.fail(`a ${n}-byte value runs past the end (truncated)`);
    this.#at += n;
  }

  /** A varint: `value` exact when below 2^53, else `big` holds the 64 bits (two's complement). */
  #varint(): { value: number; big: bigint | null } {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.#at >= this.bytes.length) this.fail("a varint runs past the end (truncated)");
      const b = this.bytes[this.#at++];
      value += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) {
        if (i === 9 && b > 1) this.fail("a varint is longer than 64 bits");
        if (Number.isSafeInteger(value)) return { value, big: null };
        return { value, big: readBig(this.bytes, this.#at - i - 1, i + 1) };
      }
    }
    return this.fail("a varint is longer than 10 bytes");
  }
}

const EMPTY = new Uint8Array(0);

/** The 64-bit unsigned value of the varint of `length` bytes at `start`. */
function readBig(bytes: Uint8Array, start: number, length: number): bigint {
  let v = 0n;
  for (let i = length - 1; i >= 0; i--) v = (v << 7n) | BigInt(bytes[start + i] & 0x7f);
  return BigInt.asUintN(64, v);
}

/** A varint field's value as a signed int64 (int64 fields store negatives as 64-bit two's complement). */
export function signedInt64(f: { value: number; big: bigint | null }): number {
  if (f.big === null) return f.value;
  return Number(BigInt.asIntN(64, f.big));
}

/** The values of a packed repeated varint payload (n bytes hold at most n values), as signed int64 numbers. */
export function packedVarints(payload: Uint8Array, fail: (message: string) => never): number[] {
  const out: number[] = [];
  let at = 0;
  while (at < payload.length) {
    let value = 0;
    let scale = 1;
    let i = 0;
    for (; ; i++) {
      if (i >= 10) fail("a packed varint is longer than 10 bytes");
      if (at >= payload.length) fail("a packed varint runs past the end of its field");
      const b = payload[at++];
      value += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) break;
    }
    if (i === 9 && payload[at - 1] > 1) fail("a packed varint is longer than 64 bits");
    out.push(Number.isSafeInteger(value) ? value : Number(BigInt.asIntN(64, readBig(payload, at - i - 1, i + 1))));
  }
  return out;
}
