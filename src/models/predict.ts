// predict(): class indices of the rows of X, scored a batch at a time so a large X never needs
// all its rows of scores (or activations) at once. The argmax runs in wasm (first maximum on
// ties, NaN never wins) in the scores' dtype, into a reused int32 buffer.
import type { Int32Scratch } from "../int32-scratch.js";
import { kernels } from "../runtime.js";
import { sizeOf, type Tensor } from "../tensor.js";
import { checkInteger, checkOptions } from "../validate.js";
import type { PredictOptions } from "./contract.js";

/** Default rows per batch: the Solver's default batch, so training and scoring share workspace shapes. */
export const DEFAULT_PREDICT_BATCH = 100;

/** Checks predict's options; returns the batch size. */
export function checkPredictOptions(fn: string, options: unknown): number {
  const o = checkOptions(fn, "options", options ?? {}, ["batchSize"]) as PredictOptions;
  return o.batchSize === undefined ? DEFAULT_PREDICT_BATCH : checkInteger(fn, "options.batchSize", o.batchSize, 1);
}

/**
 * The argmax class of every row of X (N, ...), scoring at most batchSize rows per call of
 * `scores(batch) -> (count, C)`. `owned`: the caller of scores() must dispose each result
 * (false when scores() returns a reused workspace buffer). X is trusted (checked by the caller).
 */
export function predictRows(X: Tensor, batchSize: number, scratch: Int32Scratch, scores: (batch: Tensor) => Tensor, owned: boolean): Int32Array {
  const N = X.shape[0];
  const rowShape = X.shape.slice(1);
  const row = sizeOf(rowShape);
  const out = new Int32Array(N);
  const k = kernels();
  for (let start = 0; start < N; start += batchSize) {
    const count = Math.min(batchSize, N - start);
    const batch = X.sliceView(start * row, [count, ...rowShape]);
    let s: Tensor;
    try {
      s = scores(batch);
    } finally {
      batch.dispose();
    }
    try {
      const ptr = scratch.get(count);
      (s.dtype === "float64" ? k.f64_argmax_rows : k.f32_argmax_rows)(ptr, s.ptr, count, s.shape[1]);
      out.set(scratch.view(count), start);
    } finally {
      if (owned) s.dispose();
    }
  }
  return out;
}
