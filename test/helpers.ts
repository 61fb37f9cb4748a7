// Shared test helpers.
import { afterEach, beforeAll, expect } from "vitest";
import * as tl from "../src/index.js";

/** Expects relative error below `limit`, printing the measured value in the failure message. */
export function expectRelError(what: string, error: number, limit: number): void {
  expect(error, `${what}: relative error ${error.toExponential(2)} exceeds ${limit}`).toBeLessThan(limit);
}

/** Max |a - b| over two arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Expects every element within `tol` of the reference, reporting the worst index. */
export function expectClose(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  expect(worst, `${what}: max abs error ${worst} at ${at} (got ${actual[at]}, expected ${expected[at]})`).toBeLessThanOrEqual(tol);
}

/** Seeded integer labels in [0, classes). */
export function labels(n: number, classes: number, seed: number): Int32Array {
  const u = tl.rand([n], { seed });
  const v = u.toArray();
  u.dispose();
  return Int32Array.from(v, (x) => Math.floor(x * classes));
}

/**
 * Loads the kernels before the file's tests and, after each test, checks that it freed every
 * tensor it made (tidy or explicit dispose): a leak fails the test that caused it.
 */
export function initAndCheckLeaks(options: tl.InitOptions = {}): void {
  let baseline = 0;
  beforeAll(async () => {
    await tl.init(options);
    baseline = tl.memory().liveTensors;
  });
  afterEach(() => {
    expect(tl.memory().liveTensors, "live tensors after the test (a leak)").toBe(baseline);
  });
}

/** got and want the same values bit for bit (Object.is: -0 and NaN count), else the first difference. */
export function expectSameBits(got: Float32Array | Float64Array, want: Float32Array | Float64Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  const i = got.findIndex((v, j) => !Object.is(v, want[j]));
  expect(i, `${what}: first difference at ${i} (${got[i]} vs ${want[i]})`).toBe(-1);
}
