// Host side of the classification losses: split by rows. Each task writes its rows' dscores and
// per-row loss terms (f64); f64_mean then adds the terms in row order, the order the whole-batch
// kernels use, so the loss has the same bits for any split. float64 scores: the whole-batch f64
// kernels, one call.
import { kernels } from "../runtime.js";
import type { DType } from "../tensor.js";
import { runTasks } from "../threads/dispatch.js";
import { MIN_SCORES_PER_TASK } from "../threads/thresholds.js";
import { sharedScratch } from "./scratch.js";
import { splitRange, taskCount } from "./split.js";

function rowsLoss(kernel: "f32_softmax_loss_rows" | "f32_svm_loss_rows", dscores: number, scores: number, y: number, N: number, C: number): number {
  const rowLoss = sharedScratch("loss rows", N * 8);
  const ranges = splitRange(N, taskCount(N * C, MIN_SCORES_PER_TASK, N));
  runTasks(kernel, ranges.map(([i0, i1]) => [rowLoss, dscores, scores, y, N, C, i0, i1]));
  return kernels().f64_mean(rowLoss, N);
}

/** Mean softmax cross-entropy of scores (N, C) with labels y (i32, N); dscores (N, C) written unless 0. */
export function softmaxLossRows(dscores: number, scores: number, y: number, N: number, C: number, dtype: DType = "float32"): number {
  if (dtype === "float64") return kernels().f64_softmax_loss(dscores, scores, y, N, C);
  return rowsLoss("f32_softmax_loss_rows", dscores, scores, y, N, C);
}

/** Mean multiclass hinge loss; shapes as softmaxLossRows. */
export function svmLossRows(dscores: number, scores: number, y: number, N: number, C: number, dtype: DType = "float32"): number {
  if (dtype === "float64") return kernels().f64_svm_loss(dscores, scores, y, N, C);
  return rowsLoss("f32_svm_loss_rows", dscores, scores, y, N, C);
}
