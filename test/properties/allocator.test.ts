// The allocator under random alloc/free sequences, small to 992 MiB, up to wasm's 4 GiB limit:
// blocks never overlap, stay 16-byte aligned and inside memory, marks written at both ends of every
// block survive until it is freed, and a request that does not fit is a RangeError that leaves the
// allocator working. (Requests above 512 MiB used to get blocks smaller than asked for, after
// fragmentation: see assembly/memory.ts.)
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../../src/index.js";
import { allocBytes, freeBytes, i32, kernels } from "../../src/core/runtime.js";
import { params } from "./support.js";

beforeAll(() => tl.init());

type Op = { kind: "alloc"; size: number } | { kind: "free"; pick: number };

const size = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 4096 }) },
  { weight: 3, arbitrary: fc.integer({ min: 4097, max: 1 << 24 }) },
  { weight: 2, arbitrary: fc.integer({ min: 1 << 28, max: tl.MAX_ALLOCATION_BYTES }) },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 29 - 40, 2 ** 29 - 2, 2 ** 29, 2 ** 30 - 2 ** 25 - 12, tl.MAX_ALLOCATION_BYTES) },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  size.map((s): Op => ({ kind: "alloc", size: s })),
  fc.nat().map((pick): Op => ({ kind: "free", pick })),
);

describe("allocator", () => {
  it("random alloc/free sequences up to the 4 GiB limit: no overlap, marks intact, clean failures", () => {
    const live: { ptr: number; size: number; mark: number }[] = [];
    let marks = 1;
    const mark = (b: { ptr: number; size: number; mark: number }) => {
      const view = i32();
      view[b.ptr >>> 2] = b.mark;
      view[(b.ptr + b.size - 4) >>> 2] = ~b.mark;
    };
    const checkMark = (b: { ptr: number; size: number; mark: number }) => {
      const view = i32();
      expect(view[b.ptr >>> 2], `start mark of the block at ${b.ptr}`).toBe(b.mark);
      expect(view[(b.ptr + b.size - 4) >>> 2], `end mark of the block at ${b.ptr}`).toBe(~b.mark);
    };
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => {
        for (const o of ops) {
          if (o.kind === "free") {
            if (live.length === 0) continue;
            const [b] = live.splice(o.pick % live.length, 1);
            checkMark(b);
            freeBytes(b.ptr);
            continue;
          }
          const bytes = Math.max(8, o.size + (o.size % 4 === 0 ? 0 : 4 - (o.size % 4)));
          let ptr: number;
          try {
            ptr = allocBytes(bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(RangeError);
            expect(String(error)).toMatch(/out of memory/);
            continue;
          }
          expect(ptr % 16).toBe(0);
          expect(ptr + bytes).toBeLessThanOrEqual(kernels().memory.buffer.byteLength);
          for (const b of live) {
            if (ptr < b.ptr + b.size && b.ptr < ptr + bytes) expect.fail(`block [${ptr}, ${ptr + bytes}) overlaps live [${b.ptr}, ${b.ptr + b.size})`);
          }
          const b = { ptr, size: bytes, mark: marks++ };
          mark(b);
          live.push(b);
        }
        for (const b of live) checkMark(b);
        // Leave some blocks live across runs (fragmentation carries over), but not too many.
        while (live.length > 40) {
          const b = live.shift()!;
          checkMark(b);
          freeBytes(b.ptr);
        }
      }),
      params(40),
    );
    for (const b of live.splice(0)) {
      checkMark(b);
      freeBytes(b.ptr);
    }
    // Everything is free again: three of the largest blocks fit side by side, as on a fresh start.
    const big = [0, 1, 2].map(() => allocBytes(tl.MAX_ALLOCATION_BYTES));
    expect(new Set(big).size).toBe(3);
    big.forEach(freeBytes);
    const t = tl.tensor([1, 2, 3]);
    expect(Array.from(t.toArray())).toEqual([1, 2, 3]);
    t.dispose();
  });
});
