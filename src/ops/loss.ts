// Host side of the classification losses: split by rows. Each task writes its rows' dscores and
// per-row loss terms (f64); f64_mean then adds the terms in row order, so the loss has the same
// bits for any split. Both dtypes alike (the row-loss buffer is f64 either way).
import type { DType } from "../core/dtype.js";
import { TRAIN_KERNELS, useFamily } from "../core/kernel-families.js";
import { kernels } from "../core/runtime.js";
import { runTasks } from "../core/threads/dispatch.js";
import { MIN_SCORES_PER_TASK } from "../core/threads/thresholds.js";
import { sharedScratch } from "./scratch.js";
import { splitRange, taskCount } from "./split.js";

function rowsLoss(
  kernel: "softmax_loss_rows" | "softmax_loss_smoothed_rows" | "svm_loss_rows",
  dscores: number,
  scores: number,
  y: number,
  N: number,
  C: number,
  dtype: DType,
  extra: number[] = [],
): number {
  const rowLoss = sharedScratch("loss rows", N * 8);
  const ranges = splitRange(N, taskCount(N * C, MIN_SCORES_PER_TASK, N));
  runTasks(
    dtype,
    kernel,
    ranges.map(([i0, i1]) => [rowLoss, dscores, scores, y, N, C, ...extra, i0, i1]),
  );
  return kernels().f64_mean(rowLoss, N);
}

/**
 * Mean softmax cross-entropy of scores (N, C) with labels y (i32, N); dscores (N, C) written
 * unless 0. labelSmoothing eps in [0, 1]: the targets are eps/C + (1 - eps)·onehot (0: plain).
 */
export function softmaxLossRows(dscores: number, scores: number, y: number, N: number, C: number, dtype: DType, labelSmoothing = 0): number {
  if (labelSmoothing > 0) return rowsLoss("softmax_loss_smoothed_rows", dscores, scores, y, N, C, dtype, [labelSmoothing]);
  return rowsLoss("softmax_loss_rows", dscores, scores, y, N, C, dtype);
}

/** Mean multiclass hinge loss; shapes as softmaxLossRows. */
export function svmLossRows(dscores: number, scores: number, y: number, N: number, C: number, dtype: DType): number {
  useFamily(TRAIN_KERNELS);
  return rowsLoss("svm_loss_rows", dscores, scores, y, N, C, dtype);
}
