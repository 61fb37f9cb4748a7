// Fuzz of importOnnx: the ONNX files of test/fixtures/torch (the 17 of onnx/ and the pretrained
// net of finetune/) bit-flipped, truncated, overwritten with large length bytes, spliced with
// pieces of themselves or of other files, or replaced by random bytes. Each import either gives a
// model that runs (scores of the right shape) or throws a FileFormatError, an
// OnnxUnsupportedError or another RangeError/TypeError whose message starts with "importOnnx: ";
// never a wasm trap, an engine error or a hang; afterwards tensor memory is back at its baseline
// and the library still imports and scores a good file exactly. The seed is fast-check's global
// one (pinned in CI: test/setup/fast-check.ts), printed with the outcome counts.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../../src/index.js";
import { importOnnx, OnnxUnsupportedError } from "../../src/onnx/index.js";
import { TORCH_FIXTURES } from "../helpers/torch-fixtures.js";
import { params } from "./support.js";

beforeAll(() => tl.init());

const FILES = [
  ...readdirSync(join(TORCH_FIXTURES, "onnx"))
    .filter((f) => f.endsWith(".onnx"))
    .map((f) => join(TORCH_FIXTURES, "onnx", f)),
  join(TORCH_FIXTURES, "finetune", "pretrained_0to4.onnx"),
].map((path) => ({ name: path.split("/").at(-1)!, bytes: new Uint8Array(readFileSync(path)) }));

type Mutation =
  | { kind: "flip"; bits: number[] }
  | { kind: "truncate"; at: number }
  | { kind: "length"; at: number; bytes: readonly number[] }
  | { kind: "splice"; from: number; start: number; length: number; at: number; replace: boolean }
  | { kind: "random"; bytes: number[] };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }).map((bits): Mutation => ({ kind: "flip", bits })) },
  { weight: 2, arbitrary: fc.nat().map((at): Mutation => ({ kind: "truncate", at })) },
  // A varint that claims a large length or value (0xff... runs, 2^31, 2^63) written over the file.
  {
    weight: 2,
    arbitrary: fc
      .record({
        at: fc.nat(),
        bytes: fc.constantFrom(
          [0xff, 0xff, 0xff, 0xff, 0x07],
          [0x80, 0x80, 0x80, 0x80, 0x08],
          [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
          [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
          [0x00],
        ),
      })
      .map((r): Mutation => ({ kind: "length", ...r })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({ from: fc.nat(), start: fc.nat(), length: fc.integer({ min: 1, max: 400 }), at: fc.nat(), replace: fc.boolean() })
      .map((r): Mutation => ({ kind: "splice", ...r })),
  },
  { weight: 1, arbitrary: fc.array(fc.nat({ max: 255 }), { maxLength: 256 }).map((bytes): Mutation => ({ kind: "random", bytes })) },
);

function mutate(base: Uint8Array, m: Mutation): Uint8Array {
  switch (m.kind) {
    case "flip": {
      const out = base.slice();
      for (const b of m.bits) out[(b >> 3) % out.length] ^= 1 << (b & 7);
      return out;
    }
    case "truncate":
      return base.subarray(0, m.at % base.length);
    case "length": {
      const out = base.slice();
      const at = m.at % out.length;
      m.bytes.forEach((b, i) => {
        if (at + i < out.length) out[at + i] = b;
      });
      return out;
    }
    case "splice": {
      const source = FILES[m.from % FILES.length].bytes;
      const start = m.start % source.length;
      const piece = source.subarray(start, Math.min(source.length, start + m.length));
      const at = m.at % base.length;
      const rest = base.subarray(m.replace ? Math.min(base.length, at + piece.length) : at);
      return Uint8Array.from([...base.subarray(0, at), ...piece, ...rest]);
    }
    case "random":
      return Uint8Array.from(m.bytes);
  }
}

type Outcome = "imported" | "FileFormatError" | "OnnxUnsupportedError" | "RangeError" | "TypeError";

describe("importOnnx fuzz", () => {
  it("damaged ONNX files import and run, or are refused with a clear error; nothing leaks; the library keeps working", () => {
    const counts: Record<Outcome, number> = { imported: 0, FileFormatError: 0, OnnxUnsupportedError: 0, RangeError: 0, TypeError: 0 };
    const baseline = tl.memory();
    let runs = 0;
    fc.assert(
      fc.property(fc.nat(), mutation, (which, m) => {
        runs++;
        const file = FILES[which % FILES.length];
        const bytes = mutate(file.bytes, m);
        let model: tl.Sequential | null = null;
        try {
          model = importOnnx(bytes);
        } catch (error) {
          const e = error as Error;
          const kind: Outcome =
            e instanceof tl.FileFormatError
              ? "FileFormatError"
              : e instanceof OnnxUnsupportedError
                ? "OnnxUnsupportedError"
                : e instanceof RangeError
                  ? "RangeError"
                  : e instanceof TypeError
                    ? "TypeError"
                    : ("other" as Outcome);
          expect(
            ["FileFormatError", "OnnxUnsupportedError", "RangeError", "TypeError"],
            `${file.name} ${JSON.stringify(m).slice(0, 200)}: ${e?.name}: ${e?.message}`,
          ).toContain(kind);
          expect(e.message.startsWith("importOnnx: "), `${file.name}: ${e.message}`).toBe(true);
          expect(e.message).not.toMatch(/wasm|unreachable|memory access out of bounds|Maximum call stack/i);
          counts[kind]++;
          expect(tl.memory().liveTensors).toBe(baseline.liveTensors);
          return;
        }
        try {
          counts.imported++;
          const shape = model.config.inputShape;
          if (shape.reduce((a, b) => a * b, 1) <= 4096 && model.paramStore.flat.size <= 1e6) {
            const X = tl.randn([2, ...shape], { seed: 1 });
            const scores = model.loss(X);
            expect(scores.shape).toEqual([2, model.config.numClasses]);
            scores.dispose();
            X.dispose();
          }
        } finally {
          model.dispose();
        }
        expect(tl.memory().liveTensors).toBe(baseline.liveTensors);
      }),
      params(400),
    );
    console.log(
      `importOnnx fuzz: ${runs} damaged files: ${Object.entries(counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
    );
    expect(tl.memory().liveTensors).toBe(baseline.liveTensors);
    expect(tl.memory().bytes).toBe(baseline.bytes);
    // Still working: a good file imports and scores as before.
    const good = FILES.find((f) => f.name === "mlp_tanh.onnx")!;
    const model = importOnnx(good.bytes);
    const X = tl.randn([3, 12], { seed: 2 });
    const a = model.loss(X);
    const b = model.loss(X);
    expect(Array.from(a.toArray())).toEqual(Array.from(b.toArray()));
    for (const t of [a, b, X]) t.dispose();
    model.dispose();
  });
});
