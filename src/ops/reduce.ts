// Host side of the reductions.
//   column sums (bias gradients of linear layers): split by columns, each column summed over all
//     rows in order by one task;
//   sums of squares / absolute values (weight penalties): chunks of REDUCE_CHUNK elements, fixed
//     by the size alone, each summed by one task, the chunk sums added in order.
// Either way any split gives the same bits, in both dtypes.
import type { DType } from "../core/dtype.js";
import { TRAIN_KERNELS, useFamily } from "../core/kernel-families.js";
import { kernels } from "../core/runtime.js";
import { runTasks } from "../core/threads/dispatch.js";
import { MIN_ELEMENTS_PER_TASK } from "../core/threads/thresholds.js";
import { sharedScratch } from "./scratch.js";
import { splitRange, taskCount } from "./split.js";

/** Elements per chunk of a sum of squares or absolute values. Decides the bits (not a tuning knob). */
export const REDUCE_CHUNK = 1 << 14;

function chunkedSum(kernel: "sum_squares_chunks" | "sum_abs_chunks", x: number, n: number, dtype: DType): number {
  useFamily(TRAIN_KERNELS);
  const chunks = Math.max(1, Math.ceil(n / REDUCE_CHUNK));
  const partials = sharedScratch("reduce partials", chunks * 8);
  const ranges = splitRange(chunks, taskCount(n, MIN_ELEMENTS_PER_TASK, chunks));
  runTasks(
    dtype,
    kernel,
    ranges.map(([q0, q1]) => [partials, x, n, REDUCE_CHUNK, q0, q1]),
  );
  return kernels().f64_sum(partials, chunks);
}

/** Σ x² in f64 over x (n), in size-fixed chunks. */
export function sumSquares(x: number, n: number, dtype: DType): number {
  return chunkedSum("sum_squares_chunks", x, n, dtype);
}

/** Σ |x| in f64 over x (n), in size-fixed chunks. */
export function sumAbs(x: number, n: number, dtype: DType): number {
  return chunkedSum("sum_abs_chunks", x, n, dtype);
}

/** y (cols) (+)= Σ_rows x (rows, cols). */
export function sumRows(y: number, x: number, rows: number, cols: number, accumulate: boolean, dtype: DType): void {
  const ranges = splitRange(cols, taskCount(rows * cols, MIN_ELEMENTS_PER_TASK, Math.ceil(cols / 4)), 4);
  runTasks(
    dtype,
    "sum_rows_range",
    ranges.map(([j0, j1]) => [y, x, rows, cols, accumulate ? 1 : 0, j0, j1]),
  );
}
