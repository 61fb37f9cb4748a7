// Properties of tensors: round trips, views, tidy, and clear errors for bad shapes and disposed
// tensors, with memory back at its baseline after every case.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../../src/index.js";
import { expectError, expectNoLeak, params, shape, sizeOf } from "./support.js";

beforeAll(() => tl.init());

/** A shape with dims in [0, 4] (empty tensors included) and matching float32 data, NaN and ±Infinity included. */
const shapedData = shape(0, 4, 0, 4).chain((s) => fc.tuple(fc.constant(s), fc.array(fc.float(), { minLength: sizeOf(s), maxLength: sizeOf(s) })));

describe("tensor round trips", () => {
  it("tensor(data, shape).toArray() gives the same float32 bits back, and toNested follows the shape", () => {
    fc.assert(
      fc.property(shapedData, ([s, data]) => {
        expectNoLeak("round trip", () => {
          const t = tl.tensor(data, s);
          expect(t.shape).toEqual(s);
          expect(t.size).toBe(sizeOf(s));
          const back = t.toArray();
          const want = Float32Array.from(data);
          expect(back.length).toBe(want.length);
          for (let i = 0; i < want.length; i++) expect(Object.is(back[i], want[i]), `element ${i}: ${back[i]} vs ${want[i]}`).toBe(true);
          // toNested then tensor() again: the same shape and values (when no dimension is 0, so shapes are inferable)
          if (s.length > 0 && s.every((d) => d > 0)) {
            const again = tl.tensor(t.toNested());
            expect(again.shape).toEqual(s);
            expect(Array.from(again.toArray())).toEqual(Array.from(back));
            again.dispose();
          }
          t.dispose();
        });
      }),
      params(),
    );
  });

  it("reshape (with one -1) and sliceView are views: same memory, no new bytes, values shared both ways", () => {
    const arb = shape(1, 4, 1, 4).chain((s) =>
      fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length - 1 }), fc.nat({ max: sizeOf(s) - 1 }), fc.nat({ max: sizeOf(s) })),
    );
    fc.assert(
      fc.property(arb, ([s, hole, start, len]) => {
        expectNoLeak("views", () => {
          const t = tl.randn(s, { seed: start });
          const bytes = tl.memory().bytes;
          const target = [...s].reverse();
          target[hole] = -1;
          const r = t.reshape(target);
          expect(r.shape).toEqual([...s].reverse());
          expect(Array.from(r.toArray())).toEqual(Array.from(t.toArray()));
          const n = Math.min(len, t.size - start);
          const v = t.sliceView(start, [n]);
          expect(tl.memory().bytes).toBe(bytes); // views own no memory
          v.set(new Float32Array(n).fill(7));
          const after = t.toArray();
          for (let i = 0; i < t.size; i++) if (i >= start && i < start + n) expect(after[i]).toBe(7);
          t.dispose();
          // Disposing the base disposes its views.
          expect(r.isDisposed && v.isDisposed).toBe(true);
          r.dispose();
          v.dispose();
        });
      }),
      params(),
    );
  });

  it("tidy disposes what it made except what it returns, at any nesting", () => {
    // A plan: for each level, how many tensors to make and which of them to return.
    const plan = fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(plan, (levels) => {
        expectNoLeak("tidy", () => {
          const run = (depth: number): tl.Tensor[] => {
            const [make, ret] = levels[depth];
            const made = Array.from({ length: make }, (_, i) => tl.zeros([i + 1]));
            const inner = depth + 1 < levels.length ? tl.tidy(() => run(depth + 1)) : [];
            return [...made.slice(0, ret), ...inner];
          };
          const before = tl.memory().liveTensors;
          const kept = tl.tidy(() => run(0));
          expect(tl.memory().liveTensors - before).toBe(kept.length);
          for (const t of kept) expect(t.isDisposed).toBe(false);
          kept.forEach((t) => t.dispose());
        });
      }),
      params(),
    );
  });
});

describe("tensor errors", () => {
  // One bad entry placed in an otherwise good shape.
  const badEntry = fc.constantFrom<unknown>(-1, -2, 0.5, NaN, Infinity, 2 ** 29, 1e300, "3", null);
  const badShape = fc.tuple(shape(0, 3, 0, 3), badEntry, fc.nat()).map(([s, bad, at]) => {
    const out: unknown[] = [...s];
    out.splice(at % (s.length + 1), 0, bad);
    return out;
  });

  it("a shape with a bad entry is a RangeError naming the function and the shape, for every constructor", () => {
    const makers: [string, (s: unknown) => unknown][] = [
      ["zeros", (s) => tl.zeros(s as number[])],
      ["ones", (s) => tl.ones(s as number[])],
      ["full", (s) => tl.full(s as number[], 1)],
      ["randn", (s) => tl.randn(s as number[])],
      ["rand", (s) => tl.rand(s as number[])],
    ];
    fc.assert(
      fc.property(badShape, fc.constantFrom(...makers), (s, [name, make]) => {
        expectNoLeak(name, () => expectError(() => make(s), RangeError, `${name}: shape`));
      }),
      params(),
    );
  });

  it("shapes whose product exceeds MAX_TENSOR_SIZE are refused before any allocation", () => {
    const huge = fc.array(fc.integer({ min: 2 ** 10, max: 2 ** 20 }), { minLength: 3, maxLength: 4 });
    fc.assert(
      fc.property(huge, (s) => {
        expectNoLeak("huge", () => expectError(() => tl.zeros(s), RangeError, "zeros:", String(tl.MAX_TENSOR_SIZE)));
      }),
      params(),
    );
  });

  it("data that does not fill the shape is a RangeError with both sizes", () => {
    fc.assert(
      fc.property(shape(1, 3, 1, 4), fc.integer({ min: 1, max: 5 }), (s, extra) => {
        const data = new Array(sizeOf(s) + extra).fill(1);
        expectNoLeak("size", () => expectError(() => tl.tensor(data, s), RangeError, "tensor:", String(data.length)));
      }),
      params(),
    );
  });

  it("every method of a disposed tensor throws a TypeError that names the method", () => {
    const methods: [string, (t: tl.Tensor) => unknown][] = [
      ["toArray", (t) => t.toArray()],
      ["toNested", (t) => t.toNested()],
      ["item", (t) => t.item()],
      ["set", (t) => t.set(new Float32Array(t.size))],
      ["reshape", (t) => t.reshape([t.size])],
      ["sliceView", (t) => t.sliceView(0, [1])],
      ["clone", (t) => t.clone()],
    ];
    fc.assert(
      fc.property(shape(0, 3, 1, 3), fc.constantFrom(...methods), fc.boolean(), (s, [name, call], asView) => {
        expectNoLeak(name, () => {
          const base = tl.zeros(s);
          const t = asView ? base.reshape([-1]) : base;
          base.dispose();
          expectError(() => call(t), TypeError, `${name}: the tensor of shape`, "disposed");
          t.dispose();
        });
      }),
      params(),
    );
  });
});
