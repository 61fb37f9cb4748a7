// model.evaluate(X, y): the test-mode loss, the accuracy and the accuracy of each class, scored a
// batch at a time (the loop a user would otherwise write by hand). Numbers come from wasm: the
// softmax loss of each batch (mean over its rows, in f64), the argmax of each row.
import { checkLabels, labelsToWasm, type Labels } from "../core/labels.js";
import { TRAIN_KERNELS, useFamily } from "../core/kernel-families.js";
import { softmaxLossRows } from "../ops/loss.js";
import { i32, realKernels } from "../core/runtime.js";
import { sizeOf, type Tensor } from "../core/tensor.js";
import { checkInteger, checkOptions } from "../core/validate.js";
import type { Workspace } from "../core/workspace.js";
import { DEFAULT_PREDICT_BATCH } from "./predict.js";

/**
 * What evaluate() returns.
 *
 * @inline
 */
export interface Evaluation {
  /** Mean softmax cross-entropy over every row (test mode: running statistics, no dropout), without the weight penalty. */
  loss: number;
  /** Fraction of rows whose argmax is the label. */
  accuracy: number;
  /** accuracy per class c: the fraction of the rows labelled c predicted c (NaN for a class with no rows). */
  perClass: number[];
  /** Rows scored. */
  count: number;
}

/**
 * Options of model.evaluate(X, y, options).
 *
 * @inline
 */
export interface EvaluateOptions {
  /** Rows scored at a time (default 100). */
  batchSize?: number;
}

/**
 * Scores X (N, ...) a batch at a time with `scores(batch)` (a reused (count, C) buffer) against
 * labels y. X is checked by the caller (its model's checkInput).
 */
export function evaluateRows(
  fn: string,
  X: Tensor,
  y: unknown,
  numClasses: number,
  options: unknown,
  ws: Workspace,
  scores: (batch: Tensor) => Tensor,
): Evaluation {
  const o = checkOptions(fn, "options", options ?? {}, ["batchSize"]) as EvaluateOptions;
  const batchSize = o.batchSize === undefined ? DEFAULT_PREDICT_BATCH : checkInteger(fn, "options.batchSize", o.batchSize, 1);
  const N = X.shape[0];
  checkLabels(fn, y, N, numClasses);
  const labels = y as Labels;
  const rowShape = X.shape.slice(1);
  const row = sizeOf(rowShape);
  const predicted = ws.block("evaluate argmax", batchSize * 4);
  const total = new Array<number>(numClasses).fill(0);
  const right = new Array<number>(numClasses).fill(0);
  let lossSum = 0;
  for (let start = 0; start < N; start += batchSize) {
    const count = Math.min(batchSize, N - start);
    const batch = X.sliceView(start * row, [count, ...rowShape]);
    let s: Tensor;
    try {
      s = scores(batch);
    } finally {
      batch.dispose();
    }
    const C = s.shape[1];
    const labelsPtr = labelsToWasm(fn, labels.slice(start, start + count), count, numClasses);
    lossSum += softmaxLossRows(0, s.ptr, labelsPtr, count, C, s.dtype) * count;
    useFamily(TRAIN_KERNELS);
    realKernels(s.dtype).argmax_rows(predicted, s.ptr, count, C);
    const view = i32(); // re-derived after the kernels ran (memory may have grown)
    const at = predicted >>> 2;
    for (let i = 0; i < count; i++) {
      const label = labels[start + i];
      total[label]++;
      if (view[at + i] === label) right[label]++;
    }
  }
  const correct = right.reduce((a, b) => a + b, 0);
  return { loss: lossSum / N, accuracy: correct / N, perClass: total.map((t, c) => (t === 0 ? NaN : right[c] / t)), count: N };
}
