// predict(): class indices of the rows of X, scored a batch at a time so a large X never needs
// all its rows of scores (or activations) at once. The argmax runs in wasm (first maximum on
// ties, NaN never wins) in the scores' dtype, into a reused int32 buffer.
import type { Blocks } from "../core/blocks.js";
import { AUGMENT_KERNELS, TRAIN_KERNELS, useFamily } from "../core/kernel-families.js";
import { realKernels } from "../core/runtime.js";
import { sizeOf, zeros, type Tensor } from "../core/tensor.js";
import { checkEnum, checkInteger, checkOptions } from "../core/validate.js";
import type { PredictOptions } from "./contract.js";

/** Default rows per batch: the Solver's default batch, so training and scoring share workspace shapes. */
export const DEFAULT_PREDICT_BATCH = 100;

/** predict's options, checked. */
export interface CheckedPredictOptions {
  batchSize: number;
  flip: boolean;
}

/** Checks predict's options against X (tta "flip" needs images (N, C, H, W), float32 or float64). */
export function checkPredictOptions(fn: string, options: unknown, X: Tensor): CheckedPredictOptions {
  const o = checkOptions(fn, "options", options ?? {}, ["batchSize", "tta"]) as PredictOptions;
  const batchSize = o.batchSize === undefined ? DEFAULT_PREDICT_BATCH : checkInteger(fn, "options.batchSize", o.batchSize, 1);
  const flip = (o.tta === undefined ? "none" : checkEnum(fn, "options.tta", o.tta, ["none", "flip"] as const)) === "flip";
  if (flip && X.shape.length !== 4) {
    throw new TypeError(`${fn}: options.tta "flip" mirrors images: X must be an (N, C, H, W) tensor (got shape [${X.shape.join(", ")}])`);
  }
  return { batchSize, flip };
}

/**
 * The argmax class of every row of X (N, ...), scoring at most batchSize rows per call of
 * `scores(batch) -> (count, C)` (the classes pass through `scratch`'s block "predictions").
 * `owned`: the caller of scores() must dispose each result (false when scores() returns a reused
 * workspace buffer). X is trusted (checked by the caller).
 * `flip`: X holds images (N, C, H, W); each batch is also scored mirrored (in wasm) and the two score
 * rows are added (in wasm) before the argmax.
 */
export function predictRows(X: Tensor, batchSize: number, scratch: Blocks, scores: (batch: Tensor) => Tensor, owned: boolean, flip = false): Int32Array {
  const N = X.shape[0];
  const rowShape = X.shape.slice(1);
  const row = sizeOf(rowShape);
  const out = new Int32Array(N);
  for (let start = 0; start < N; start += batchSize) {
    const count = Math.min(batchSize, N - start);
    const batch = X.sliceView(start * row, [count, ...rowShape]);
    let s: Tensor;
    try {
      s = flip ? flipSummedScores(batch, scores, owned) : scores(batch);
    } finally {
      batch.dispose();
    }
    try {
      const ptr = scratch.block("predictions", count * 4);
      useFamily(TRAIN_KERNELS);
      realKernels(s.dtype).argmax_rows(ptr, s.ptr, count, s.shape[1]);
      out.set(scratch.int32("predictions", count), start);
    } finally {
      if (owned || flip) s.dispose(); // flipSummedScores returns a tensor of its own
    }
  }
  return out;
}

/** scores(batch) + scores(mirror of batch), a new tensor in the scores' dtype; batch: images (n, C, H, W). */
function flipSummedScores(batch: Tensor, scores: (batch: Tensor) => Tensor, owned: boolean): Tensor {
  const [n, C, H, W] = batch.shape;
  useFamily(AUGMENT_KERNELS); // the mirror is randomFlip's kernel with p = 1
  const mirrored = zeros(batch.shape, { dtype: batch.dtype });
  let sum: Tensor | null = null;
  try {
    realKernels(batch.dtype).random_flip(mirrored.ptr, batch.ptr, n, C, H, W, 1, 0, 0); // p = 1: every image mirrored, no draw decides
    const first = scores(batch);
    try {
      sum = zeros(first.shape, { dtype: first.dtype });
      realKernels(first.dtype).axpy(sum.ptr, first.ptr, first.size, 1); // a copy: the next scores() may reuse first's buffer
    } finally {
      if (owned) first.dispose();
    }
    const second = scores(mirrored);
    try {
      realKernels(second.dtype).axpy(sum.ptr, second.ptr, second.size, 1);
    } finally {
      if (owned) second.dispose();
    }
    const result = sum;
    sum = null;
    return result;
  } finally {
    mirrored.dispose();
    sum?.dispose();
  }
}
