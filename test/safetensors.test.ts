// safetensors: exact bytes of tiny files (worked out by hand from the format), round trips, and
// truncated / corrupted / hostile inputs, which must all give a FileFormatError.
import { describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors, FileFormatError, readSafetensorsHeader } from "../src/index.js";
import { encodeSafetensorsParts } from "../src/internal.js";

const ascii = (s: string) => Array.from(new TextEncoder().encode(s));
const u64 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24, 0, 0, 0, 0];

/** A file from a header string (padded by the caller as wanted) and data bytes. */
function file(header: string, data: number[] = []): Uint8Array {
  const h = ascii(header);
  return Uint8Array.from([...u64(h.length), ...h, ...data]);
}
const F32 = (...xs: number[]) => Array.from(new Uint8Array(Float32Array.from(xs).buffer));

function decodeError(bytes: Uint8Array): FileFormatError {
  try {
    decodeSafetensors(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(FileFormatError);
    expect((error as Error).message).toMatch(/^decodeSafetensors: /);
    return error as FileFormatError;
  }
  throw new Error("expected decodeSafetensors to throw");
}

// A deterministic generator for the fuzz tests (splitmix32).
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

describe("exact bytes", () => {
  it("one tensor, no metadata: a 64-byte header needs no padding", () => {
    const bytes = encodeSafetensors({ "attn.0": { shape: [1, 2, 3], data: Float32Array.of(0, 1, 2, 3, 4, 5) } });
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(64);
    const expected = [
      0x40,
      0,
      0,
      0,
      0,
      0,
      0,
      0, // header length 64, u64 little-endian
      ...ascii(header),
      0x00,
      0x00,
      0x00,
      0x00, // 0.0f
      0x00,
      0x00,
      0x80,
      0x3f, // 1.0f = 0x3f800000
      0x00,
      0x00,
      0x00,
      0x40, // 2.0f = 0x40000000
      0x00,
      0x00,
      0x40,
      0x40, // 3.0f = 0x40400000
      0x00,
      0x00,
      0x80,
      0x40, // 4.0f = 0x40800000
      0x00,
      0x00,
      0xa0,
      0x40, // 5.0f = 0x40a00000
    ];
    expect(Array.from(bytes)).toEqual(expected);
  });

  it("metadata first, then tensors in order, header padded with spaces to 8 bytes", () => {
    const bytes = encodeSafetensors({ w: { shape: [2], data: Float32Array.of(1.5, -2) }, b: { shape: [], data: Float32Array.of(0.25) } }, { epoch: "12" });
    // {"__metadata__":{"epoch":"12"}, = 31 chars; "w":{...[0,8]}, = 53; "b":{...[8,12]}} = 53 -> 137, + 7 spaces = 144
    const header = '{"__metadata__":{"epoch":"12"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}';
    expect(header.length).toBe(137);
    const expected = [
      0x90,
      0,
      0,
      0,
      0,
      0,
      0,
      0, // 144
      ...ascii(header),
      0x20,
      0x20,
      0x20,
      0x20,
      0x20,
      0x20,
      0x20,
      0x00,
      0x00,
      0xc0,
      0x3f, // 1.5f = 0x3fc00000
      0x00,
      0x00,
      0x00,
      0xc0, // -2.0f = 0xc0000000
      0x00,
      0x00,
      0x80,
      0x3e, // 0.25f = 0x3e800000
    ];
    expect(Array.from(bytes)).toEqual(expected);
    expect((8 + 144) % 8).toBe(0); // data starts 8-aligned
  });

  it("no tensors: {} and six spaces", () => {
    expect(Array.from(encodeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 32, 32, 32, 32, 32, 32]);
  });

  it("parts concatenate to the same bytes, tensor data as views (no copy)", () => {
    const data = Float32Array.of(1, 2, 3);
    const parts = encodeSafetensorsParts({ x: { shape: [3], data } }, { a: "b" });
    expect(parts[2].buffer).toBe(data.buffer);
    const joined = Uint8Array.from(parts.flatMap((p) => Array.from(p)));
    expect(Array.from(joined)).toEqual(Array.from(encodeSafetensors({ x: { shape: [3], data } }, { a: "b" })));
  });
});

describe("round trip", () => {
  it("keeps names, shapes, values (bit for bit), order and metadata", () => {
    const special = Float32Array.of(NaN, -0, Infinity, -Infinity, 1e-45, 3.4028234663852886e38, Math.fround(Math.PI));
    const tensors = {
      "layer.0.W": { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
      special: { shape: [7], data: special },
      empty: { shape: [0, 4], data: new Float32Array(0) },
      scalar: { shape: [], data: Float32Array.of(42) },
    };
    // a tensor named "__proto__" must stay a plain key, not change any object's prototype
    Object.defineProperty(tensors, "__proto__", { value: { shape: [1], data: Float32Array.of(7) }, enumerable: true });
    const metadata = { config: JSON.stringify({ hidden: [100, 100] }), unicode: 'état ✓ \n "quoted"' };
    const back = decodeSafetensors(encodeSafetensors(tensors, metadata));
    expect(Object.keys(back.tensors)).toEqual(["layer.0.W", "special", "empty", "scalar", "__proto__"]);
    expect(back.tensors["layer.0.W"].shape).toEqual([2, 3]);
    expect(Array.from(back.tensors["layer.0.W"].data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Uint8Array(back.tensors.special.data.buffer)).toEqual(new Uint8Array(special.buffer));
    expect(back.tensors.empty.shape).toEqual([0, 4]);
    expect(back.tensors.empty.data.length).toBe(0);
    expect(back.tensors.scalar.shape).toEqual([]);
    expect(Array.from(Object.getOwnPropertyDescriptor(back.tensors, "__proto__")!.value.data)).toEqual([7]);
    expect(Object.getPrototypeOf(back.tensors)).toBe(Object.prototype);
    expect(back.metadata).toEqual(metadata);
  });

  it("decodes files written by other tools: any key order, no padding, unaligned data", () => {
    // Key order by name, data offsets in another order, 1-byte-unaligned data start.
    const header = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"b":{"shape":[1],"data_offsets":[0,4],"dtype":"F32"},"__metadata__":null}';
    const back = decodeSafetensors(file(header, [...F32(2), ...F32(1)]));
    expect(Object.keys(back.tensors)).toEqual(["b", "a"]);
    expect(back.tensors.a.data[0]).toBe(1);
    expect(back.tensors.b.data[0]).toBe(2);
    expect(back.metadata).toEqual({});
  });

  it("readSafetensorsHeader lists entries without copying data, other dtypes included", () => {
    const header = '{"i":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}';
    const { entries } = readSafetensorsHeader(file(header, new Array(16).fill(0)));
    expect(entries).toEqual([{ name: "i", dtype: "I64", shape: [2], begin: 8 + header.length, end: 8 + header.length + 16 }]);
  });

  it("encoding rejects bad input with named arguments", () => {
    expect(() => encodeSafetensors({ x: { shape: [2], data: Float32Array.of(1) } })).toThrow(/tensors\["x"\] has shape \[2\] \(2 values\) but its data has 1/);
    expect(() => encodeSafetensors({ x: { shape: [-1], data: Float32Array.of(1) } })).toThrow(/shape must be an array of non-negative integers/);
    expect(() => encodeSafetensors({ x: { shape: [1], data: [1] as unknown as Float32Array } })).toThrow(TypeError);
    expect(() => encodeSafetensors({}, { n: 3 as unknown as string })).toThrow(/metadata\["n"\] must be a string/);
    expect(() => encodeSafetensors({ __metadata__: { shape: [0], data: new Float32Array(0) } })).toThrow(/reserved/);
  });
});

describe("hostile and corrupt files", () => {
  const good = encodeSafetensors(
    { a: { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }, b: { shape: [3], data: Float32Array.of(5, 6, 7) } },
    { epoch: "1", seed: "42" },
  );

  it("truncated at every byte: always a clear error", () => {
    for (let n = 0; n < good.length; n++) {
      const e = decodeError(good.subarray(0, n));
      expect(e.message, `cut at ${n}`).toMatch(/truncated|past the end|cover/);
    }
  });

  it("random bit flips: decoded or a clear error, never anything else", () => {
    const next = rng(12345);
    let rejected = 0;
    let decoded = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const bad = good.slice();
      const flips = 1 + (next() % 3);
      for (let f = 0; f < flips; f++) {
        const bit = next() % (bad.length * 8);
        bad[bit >>> 3] ^= 1 << (bit & 7);
      }
      try {
        const out = decodeSafetensors(bad);
        for (const t of Object.values(out.tensors)) expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
        decoded++;
      } catch (error) {
        expect(error, `trial ${trial}: ${(error as Error).message}`).toBeInstanceOf(FileFormatError);
        rejected++;
      }
    }
    // both outcomes occur: flips in the data decode to other values, flips in the header are caught
    expect(rejected).toBeGreaterThan(100);
    expect(decoded).toBeGreaterThan(100);
  });

  it("random bytes after a plausible length: a clear error", () => {
    const next = rng(7);
    for (let trial = 0; trial < 500; trial++) {
      const n = next() % 64;
      const bytes = Uint8Array.from({ length: 8 + n + (next() % 32) }, () => next() & 0xff);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(n), true);
      bytes[8] = 0x7b; // "{" so the JSON parser gets a go
      decodeError(bytes);
    }
  });

  it("oversized header lengths are refused before anything is read", () => {
    for (const n of [2n ** 64n - 1n, 2n ** 40n, 2n ** 32n, 2n ** 32n - 1n, 100_000_001n]) {
      const bytes = good.slice();
      new DataView(bytes.buffer).setBigUint64(0, n, true);
      expect(decodeError(bytes).message, String(n)).toMatch(/over the 100000000-byte limit/);
    }
    const bytes = good.slice();
    new DataView(bytes.buffer).setBigUint64(0, BigInt(good.length - 7), true);
    expect(decodeError(bytes).message).toMatch(
      /truncated, or its header length \(bytes 0-7\) is damaged: it says \d+ bytes of header but only \d+ bytes follow/,
    );
  });

  it("shapes far larger than the file are refused without allocating", () => {
    expect(decodeError(file('{"x":{"dtype":"F32","shape":[1000000000000000,1000000000000000],"data_offsets":[0,8]}}', F32(1, 2))).message).toMatch(
      /more than the whole file: over 2\^53 bytes/,
    );
    expect(decodeError(file('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,9007199254740991]}}', F32(1))).message).toMatch(/past the end/);
    expect(decodeError(file('{"x":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}}', F32(1))).message).toMatch(/non-negative integers/);
  });

  it("each malformed header field gets its own message", () => {
    const t = (info: string, data = F32(1)) => decodeError(file(`{"x":${info}}`, data)).message;
    expect(t('{"dtype":"F16","shape":[2],"data_offsets":[0,4]}')).toMatch(/tensor "x" has dtype F16; tensorlane reads only F32/);
    expect(t('{"dtype":"F33","shape":[1],"data_offsets":[0,4]}')).toMatch(/unknown dtype "F33"/);
    expect(t('{"shape":[1],"data_offsets":[0,4]}')).toMatch(/no dtype string/);
    expect(t('{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}')).toMatch(/shape of non-negative integers/);
    expect(t('{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}')).toMatch(/shape of non-negative integers/);
    expect(t('{"dtype":"F32","shape":"1","data_offsets":[0,4]}')).toMatch(/shape of non-negative integers/);
    expect(t('{"dtype":"F32","shape":[1],"data_offsets":[0]}')).toMatch(/data_offsets \[begin, end\]/);
    expect(t('{"dtype":"F32","shape":[1],"data_offsets":[4,0]}')).toMatch(/end before they begin/);
    expect(t('{"dtype":"F32","shape":[2],"data_offsets":[0,4]}', F32(1, 2))).toMatch(/shape \[2\] of F32 \(8 bytes\) but data_offsets \[0, 4\] hold 4 bytes/);
    expect(t("[1,2]")).toMatch(/must be described by \{ dtype, shape, data_offsets \}/);
    expect(t('{"dtype":"F32","shape":[1],"data_offsets":[0,4]}', [...F32(1), 0])).toMatch(/1 unexpected trailing bytes/);
  });

  it("overlapping, gapped and duplicated ranges are refused", () => {
    const a = '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}';
    expect(decodeError(file(`{${a},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, F32(1, 2))).message).toMatch(/tensor "b" .* overlaps/);
    expect(decodeError(file(`{${a},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}`, F32(1, 2, 3, 4))).message).toMatch(
      /gap in the data before tensor "b"/,
    );
    // a duplicated key: JSON keeps the last, the first one's bytes become a gap
    expect(decodeError(file(`{${a},"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, F32(1, 2, 3))).message).toMatch(/gap/);
  });

  it("bad header text: not UTF-8, not an object, not JSON, bad metadata", () => {
    expect(decodeError(Uint8Array.from([...u64(4), 0x7b, 0xff, 0xfe, 0x7d])).message).toMatch(/not valid UTF-8/);
    expect(decodeError(file("[1, 2]")).message).toMatch(/must be a JSON object starting with "\{"/);
    expect(decodeError(file("  {}")).message).toMatch(/starting with "\{"/);
    expect(decodeError(file('{"a":')).message).toMatch(/not valid JSON/);
    expect(decodeError(file('{"__metadata__":{"k":1}}')).message).toMatch(/metadata value "k" must be a string \(got 1\)/);
    expect(decodeError(file('{"__metadata__":["k"]}')).message).toMatch(/"__metadata__" must be an object/);
    expect(decodeError(Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0x7b])).message).toMatch(/too short/);
  });

  it("deeply nested JSON is a clear error, not a stack overflow", () => {
    const depth = 200_000;
    const header = `{"x":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    expect(decodeError(file(header)).message).toMatch(/tensor "x"|not valid JSON/);
  });

  it("a non-Uint8Array argument is a TypeError", () => {
    expect(() => decodeSafetensors([1, 2, 3] as unknown as Uint8Array)).toThrow(TypeError);
  });
});
