// Shared pieces of the property-based tests: arbitraries for shapes and values, float32 reference
// helpers, and the checks every property ends with (the right error class, the argument named,
// memory back at its baseline).
import fc from "fast-check";
import { expect } from "vitest";
import * as tl from "../../src/index.js";

/** Runs per property: modest, so the whole folder stays fast on 2 cores. */
export const RUNS = 150;

/** fast-check's parameters for every property. PROPERTY_RUNS=N overrides every count (for a long local hunt). */
export function params(numRuns = RUNS): fc.Parameters<unknown> {
  return { numRuns: process.env.PROPERTY_RUNS ? Number(process.env.PROPERTY_RUNS) : numRuns };
}

/** A float32 in [-limit, limit], never NaN or infinite (fast-check still tries -0, tiny and subnormal values). */
export function f32(limit = 4): fc.Arbitrary<number> {
  return fc.float({ min: Math.fround(-limit), max: Math.fround(limit), noNaN: true, noDefaultInfinity: true });
}

/** n float32 values. */
export function values(n: number, limit = 4): fc.Arbitrary<number[]> {
  return fc.array(f32(limit), { minLength: n, maxLength: n });
}

/** A shape of rank in [minRank, maxRank] with dimensions in [minDim, maxDim]. */
export function shape(minRank: number, maxRank: number, minDim = 1, maxDim = 5): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

export function sizeOf(s: readonly number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

/** Values rounded to float32, as a reference computed in double would see them. */
export function round32(a: ArrayLike<number>): number[] {
  return Array.from(a, (v) => Math.fround(v));
}

/**
 * Expects |actual - expected| <= tol[i] element by element (tol a number or one bound per element),
 * reporting the worst element.
 */
export function expectNear(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number | ArrayLike<number>): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1;
  let excess = 0;
  for (let i = 0; i < actual.length; i++) {
    const bound = typeof tol === "number" ? tol : tol[i];
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= bound) && (worst < 0 || d - bound > excess)) {
      worst = i;
      excess = d - bound;
    }
  }
  if (worst >= 0) {
    const bound = typeof tol === "number" ? tol : tol[worst];
    expect.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} within ${bound}`);
  }
}

/** Expects fn to throw `cls` whose message names the function and contains every fragment. */
export function expectError(fn: () => unknown, cls: typeof TypeError | typeof RangeError, ...fragments: (string | RegExp)[]): Error {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, `expected a ${cls.name}, but nothing was thrown`).toBeDefined();
  expect(error, `expected a ${cls.name}, got ${String(error)}`).toBeInstanceOf(cls);
  const message = (error as Error).message;
  for (const f of fragments) {
    if (typeof f === "string") expect(message).toContain(f);
    else expect(message).toMatch(f);
  }
  return error as Error;
}

/** Runs fn and expects tensor memory (bytes and live tensors) to be where it started. */
export function expectNoLeak<T>(what: string, fn: () => T): T {
  const before = tl.memory();
  const result = fn();
  const after = tl.memory();
  expect(after, `${what}: memory before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`).toEqual(before);
  return result;
}

/** Disposes every tensor reachable from value (arrays and plain objects, deeply). */
export function disposeAll(value: unknown, seen = new Set<unknown>()): void {
  if (value instanceof tl.Tensor) {
    value.dispose();
    return;
  }
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  for (const v of Object.values(value)) disposeAll(v, seen);
}
