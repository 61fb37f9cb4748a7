// The protobuf writer behind tensorlane/onnx, byte for byte against hand-worked encodings
// (the first three are the examples in protobuf.dev's "Encoding" guide).
import { describe, expect, it } from "vitest";
import { ProtoWriter } from "../src/onnx/protobuf.js";

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");

describe("ProtoWriter", () => {
  it("varints: 1, 150 (two bytes), 0, 2^32 and 2^53 - 1 (beyond 32-bit operators)", () => {
    expect(hex(new ProtoWriter().int(1, 1).finish())).toBe("08 01");
    // 150 = 0b1_0010110: low 7 bits 0x16 with the continuation bit (0x96), then 0x01.
    expect(hex(new ProtoWriter().int(1, 150).finish())).toBe("08 96 01");
    expect(hex(new ProtoWriter().int(1, 0).finish())).toBe("08 00");
    // 2^32: four groups of seven zero bits, then 2^32 / 2^28 = 16.
    expect(hex(new ProtoWriter().int(1, 2 ** 32).finish())).toBe("08 80 80 80 80 10");
    // 2^53 - 1: seven full groups (49 bits), then the top 4 bits 0x0f.
    expect(hex(new ProtoWriter().int(1, 2 ** 53 - 1).finish())).toBe("08 ff ff ff ff ff ff ff 0f");
  });

  it("negative integers are 64-bit two's complement, ten bytes (int64 -1, -2)", () => {
    expect(hex(new ProtoWriter().int(1, -1).finish())).toBe("08 ff ff ff ff ff ff ff ff ff 01");
    expect(hex(new ProtoWriter().int(1, -2).finish())).toBe("08 fe ff ff ff ff ff ff ff ff 01");
  });

  it("keys: field number << 3 | wire type, itself a varint for fields >= 16", () => {
    expect(hex(new ProtoWriter().int(15, 1).finish())).toBe("78 01"); // 15 << 3 = 0x78
    expect(hex(new ProtoWriter().int(16, 1).finish())).toBe("80 01 01"); // 16 << 3 = 128 = 80 01
    expect(hex(new ProtoWriter().int(20, 7).finish())).toBe("a0 01 07"); // AttributeProto.type = INTS
  });

  it("strings (UTF-8, length-prefixed) and bytes", () => {
    expect(hex(new ProtoWriter().string(2, "testing").finish())).toBe("12 07 74 65 73 74 69 6e 67");
    expect(hex(new ProtoWriter().string(1, "é").finish())).toBe("0a 02 c3 a9"); // 2 UTF-8 bytes, 1 character
    expect(hex(new ProtoWriter().bytes(9, new Uint8Array([1, 2, 3])).finish())).toBe("4a 03 01 02 03");
    expect(hex(new ProtoWriter().string(1, "").finish())).toBe("0a 00");
  });

  it("floats: fixed32 little-endian; packed floats: one length prefix, 4 bytes each", () => {
    expect(hex(new ProtoWriter().float(2, 1).finish())).toBe("15 00 00 80 3f"); // key 2 << 3 | 5
    expect(hex(new ProtoWriter().float(2, 1e-5).finish())).toBe("15 ac c5 27 37"); // float32(1e-5) = 0x3727c5ac
    expect(hex(new ProtoWriter().packedFloats(4, [1, -2, 0.5]).finish())).toBe("22 0c 00 00 80 3f 00 00 00 c0 00 00 00 3f");
    expect(hex(new ProtoWriter().packedFloats(4, new Float32Array(0)).finish())).toBe("22 00");
  });

  it("packed varints: the guide's [3, 270, 86942] and int64 dims", () => {
    expect(hex(new ProtoWriter().packedInts(4, [3, 270, 86942]).finish())).toBe("22 06 03 8e 02 9e a7 05");
    expect(hex(new ProtoWriter().packedInts(1, [784, 10]).finish())).toBe("0a 03 90 06 0a");
  });

  it("nested messages: the child's bytes with its length, at any depth", () => {
    const inner = new ProtoWriter().int(1, 150);
    expect(hex(new ProtoWriter().message(3, inner).finish())).toBe("1a 03 08 96 01");
    // ONNX's OperatorSetIdProto { domain "", version 13 } inside ModelProto.opset_import (8).
    const opset = new ProtoWriter().string(1, "").int(2, 13);
    expect(hex(new ProtoWriter().message(8, opset).finish())).toBe("42 04 0a 00 10 0d");
    // A dimension { dim_param "N" } in a shape in a tensor type: three levels.
    const dim = new ProtoWriter().string(2, "N");
    const shape = new ProtoWriter().message(1, dim);
    const tensorType = new ProtoWriter().int(1, 1).message(2, shape);
    expect(hex(tensorType.finish())).toBe("08 01 12 05 0a 03 12 01 4e");
  });

  it("grows past its first buffer, with a two-byte length for a 1000-byte field", () => {
    const payload = new Uint8Array(1000).map((_, i) => i % 251);
    const w = new ProtoWriter().int(1, 5).bytes(2, payload).int(3, 7);
    const out = w.finish();
    expect(w.length).toBe(2 + 3 + 1000 + 2);
    expect(hex(out.subarray(0, 5))).toBe("08 05 12 e8 07"); // 1000 = 0x3e8 -> e8 07
    expect(Array.from(out.subarray(5, 1005))).toEqual(Array.from(payload));
    expect(hex(out.subarray(1005))).toBe("18 07");
    const floats = new Float32Array(300).map((_, i) => i - 150.25);
    const packed = new ProtoWriter().packedFloats(4, floats).finish();
    expect(hex(packed.subarray(0, 3))).toBe("22 b0 09"); // 1200 bytes
    expect(Array.from(new Float32Array(packed.slice(3).buffer))).toEqual(Array.from(floats));
  });

  it("refuses integers a varint cannot carry exactly, and bad field numbers", () => {
    expect(() => new ProtoWriter().int(1, 2 ** 53)).toThrow(/ProtoWriter: integers must be safe integers \(got 9007199254740992\)/);
    expect(() => new ProtoWriter().int(1, 1.5)).toThrow(RangeError);
    expect(() => new ProtoWriter().int(1, NaN)).toThrow(RangeError);
    expect(() => new ProtoWriter().int(0, 1)).toThrow(/field number must be an integer in \[1, 2\^29\) \(got 0\)/);
    expect(() => new ProtoWriter().int(2 ** 29, 1)).toThrow(RangeError);
  });
});
