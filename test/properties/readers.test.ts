// Fuzz of the file readers: valid files from random contents, then truncated, bit-flipped, grown,
// or given a hostile size field. Each read either succeeds with self-consistent contents or throws a
// FileFormatError (a RangeError) naming the reader; nothing else, and never a huge allocation.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../../src/index.js";
import * as tlData from "../../src/data/index.js";
import { CIFAR10_IMAGE_BYTES, CIFAR10_RECORD_BYTES } from "../../src/data/index.js";
import { params, sizeOf } from "./support.js";

beforeAll(() => tl.init());

type Mutation =
  | { kind: "none" }
  | { kind: "flip"; bits: number[] }
  | { kind: "truncate"; at: number }
  | { kind: "append"; bytes: number[] }
  | { kind: "size"; at: number; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ kind: "none" }),
  fc.array(fc.nat(), { minLength: 1, maxLength: 4 }).map((bits): Mutation => ({ kind: "flip", bits })),
  fc.nat().map((at): Mutation => ({ kind: "truncate", at })),
  fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: 16 }).map((bytes): Mutation => ({ kind: "append", bytes })),
  // A 32-bit size field overwritten with something large (the header of IDX, the length of safetensors).
  fc
    .record({ at: fc.nat({ max: 12 }), value: fc.oneof(fc.constant(0xffffffff), fc.constant(0x7fffffff), fc.nat()) })
    .map((r): Mutation => ({ kind: "size", ...r })),
);

function mutate(bytes: Uint8Array, m: Mutation, bigEndian: boolean): Uint8Array {
  const out = bytes.slice();
  switch (m.kind) {
    case "none":
      return out;
    case "flip":
      if (out.length === 0) return out;
      for (const b of m.bits) out[(b >> 3) % out.length] ^= 1 << (b & 7);
      return out;
    case "truncate":
      return out.subarray(0, m.at % (out.length + 1));
    case "append":
      return Uint8Array.from([...out, ...m.bytes]);
    case "size": {
      const at = Math.min(m.at, Math.max(0, out.length - 4));
      if (out.length < 4) return out;
      new DataView(out.buffer).setUint32(at, m.value, !bigEndian);
      return out;
    }
  }
}

/** Runs a reader on bytes; it must succeed (and pass `check`) or throw a FileFormatError naming `fn`. */
function expectReadOrFormatError<T>(fn: string, read: () => T, check: (value: T) => void): "ok" | "refused" {
  let value: T;
  try {
    value = read();
  } catch (error) {
    expect(error, `${fn} threw ${String(error)}`).toBeInstanceOf(tl.FileFormatError);
    expect((error as Error).message.startsWith(`${fn}: `), (error as Error).message).toBe(true);
    return "refused";
  }
  check(value);
  return "ok";
}

describe("readers", () => {
  it("decodeSafetensors: random files round-trip bit for bit; damaged ones decode consistently or are refused", () => {
    const tensors = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 8 }),
      fc
        .array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 })
        .chain((shape) => fc.record({ shape: fc.constant(shape), data: fc.array(fc.float(), { minLength: sizeOf(shape), maxLength: sizeOf(shape) }) })),
      { maxKeys: 4 },
    );
    const metadata = fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 2 });
    fc.assert(
      fc.property(tensors, metadata, mutation, (t, meta, m) => {
        const input = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { shape: v.shape, data: Float32Array.from(v.data) }]));
        const file = tl.encodeSafetensors(input, meta);
        const bytes = mutate(file, m, false);
        expectReadOrFormatError(
          "decodeSafetensors",
          () => tl.decodeSafetensors(bytes),
          (out) => {
            for (const [name, v] of Object.entries(out.tensors)) expect(v.data.length, name).toBe(sizeOf(v.shape));
            if (m.kind === "none") {
              expect(Object.keys(out.tensors).sort()).toEqual(Object.keys(input).sort());
              for (const [name, v] of Object.entries(input)) {
                expect(out.tensors[name].shape).toEqual(v.shape);
                expect(new Uint8Array(out.tensors[name].data.buffer)).toEqual(new Uint8Array(v.data.buffer));
              }
              expect(out.metadata).toEqual(meta);
            }
          },
        );
      }),
      params(300),
    );
  });

  // An IDX file: 00 00 08 rank, big-endian dims, then the bytes.
  const idxFile = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 3 }).chain((dims) =>
    fc.array(fc.nat({ max: 255 }), { minLength: sizeOf(dims), maxLength: sizeOf(dims) }).map((data) => {
      const out = new Uint8Array(4 + 4 * dims.length + data.length);
      const view = new DataView(out.buffer);
      out.set([0, 0, 8, dims.length]);
      dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
      out.set(data, 4 + 4 * dims.length);
      return { dims, data, bytes: out };
    }),
  );

  it("parseIdx: valid files give their dims and data; damaged ones parse consistently or are refused", () => {
    fc.assert(
      fc.property(idxFile, mutation, ({ dims, data, bytes }, m) => {
        expectReadOrFormatError(
          "parseIdx",
          () => tlData.parseIdx(mutate(bytes, m, true)),
          (out) => {
            expect(out.data.length).toBe(sizeOf(out.dims));
            if (m.kind === "none") {
              expect(out.dims).toEqual(dims);
              expect(Array.from(out.data)).toEqual(data);
            }
          },
        );
      }),
      params(300),
    );
  });

  it("decodeIdx on gzip: damaged compressed files are refused by gunzip or parseIdx, never anything else", async () => {
    const gzip = async (bytes: Uint8Array): Promise<Uint8Array> =>
      new Uint8Array(await new Response(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
    await fc.assert(
      fc.asyncProperty(idxFile, mutation, async ({ dims, bytes }, m) => {
        const damaged = mutate(await gzip(bytes), m, false);
        try {
          const out = await tlData.decodeIdx(damaged, "f.gz", { maxBytes: 1 << 16 });
          expect(out.data.length).toBe(sizeOf(out.dims));
          if (m.kind === "none") expect(out.dims).toEqual(dims);
        } catch (error) {
          expect(error, String(error)).toBeInstanceOf(tl.FileFormatError);
          expect((error as Error).message).toMatch(/^(gunzip|parseIdx): /);
        }
      }),
      params(60),
    );
  });

  it("parseCifar10: whole records parse; anything else is refused with the reason", () => {
    const file = fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.nat({ max: 255 })), { minLength: 1, maxLength: 3 }).map((records) => {
      const out = new Uint8Array(records.length * CIFAR10_RECORD_BYTES);
      records.forEach(([label, fill], i) => {
        out[i * CIFAR10_RECORD_BYTES] = label;
        out.fill(fill, i * CIFAR10_RECORD_BYTES + 1, (i + 1) * CIFAR10_RECORD_BYTES);
      });
      return { records, bytes: out };
    });
    fc.assert(
      fc.property(file, mutation, ({ records, bytes }, m) => {
        expectReadOrFormatError(
          "parseCifar10",
          () => tlData.parseCifar10(mutate(bytes, m, false)),
          (out) => {
            expect(out.images.length).toBe(out.labels.length * CIFAR10_IMAGE_BYTES);
            for (const l of out.labels) expect(l >= 0 && l <= 9).toBe(true);
            if (m.kind === "none") expect(Array.from(out.labels)).toEqual(records.map(([l]) => l));
          },
        );
      }),
      params(100),
    );
  });
});
