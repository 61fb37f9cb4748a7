// Integer class labels: validated on the host, then copied into a reused i32 buffer in wasm.
import { sharedBlocks } from "./blocks.js";
import { i32 } from "./runtime.js";
import { describe } from "./validate.js";

/** Integer class labels, one per sample, each in [0, numClasses) (the course's y). */
export type Labels = Int32Array | readonly number[];

/** Label arrays a caller checked (against a class count) and owns for the duration of one call. */
const checked = new WeakMap<Int32Array, number>();

/**
 * Runs body with y marked as already checked against `classes`, so labelsToWasm skips its scan
 * of y while body runs (the Solver checks its labels once, then hands its own batches to
 * model.loss every step). The mark is removed when body returns or throws.
 */
export function withCheckedLabels<T>(y: Int32Array, classes: number, body: () => T): T {
  checked.set(y, classes);
  try {
    return body();
  } finally {
    checked.delete(y);
  }
}

/** Whether labelsToWasm would skip its scan of y against `classes` right now (for tests). */
export function labelsAreChecked(y: unknown, classes: number): boolean {
  const bound = y instanceof Int32Array ? checked.get(y) : undefined;
  return bound !== undefined && bound <= classes;
}

/**
 * Checks y holds n integer labels in [0, classes) and copies them into wasm memory. Returns a
 * pointer valid until the next call (the buffer is reused, so steps allocate nothing).
 */
export function labelsToWasm(fn: string, y: unknown, n: number, classes: number): number {
  if (!labelsAreChecked(y, classes) || (y as Int32Array).length !== n) checkLabels(fn, y, n, classes);
  // Shrunk when far larger than needed: one huge batch (even a failed one) does not pin its label
  // buffer for the rest of the session.
  const ptr = sharedBlocks().block("labels", n * 4, { shrink: true, what: `${fn} labels` });
  i32().set(y as ArrayLike<number>, ptr >>> 2);
  return ptr;
}

/** Throws a clear error unless y is n integers in [0, classes). */
export function checkLabels(fn: string, y: unknown, n: number, classes: number): asserts y is Labels {
  if (!(y instanceof Int32Array) && !Array.isArray(y)) {
    throw new TypeError(`${fn}: y must be an Int32Array or an array of integer class indices (got ${describe(y)})`);
  }
  if (y.length !== n) throw new RangeError(`${fn}: y must have one label per row: ${n} (got ${y.length})`);
  for (let i = 0; i < n; i++) {
    const v = y[i];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= classes) {
      throw new RangeError(`${fn}: y[${i}] must be an integer class index in [0, ${classes}) (got ${describe(v)})`);
    }
  }
}
