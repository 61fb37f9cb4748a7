// What a classification loss compares scores with: integer class labels, or soft labels, an
// (N, C) tensor of probabilities (mixup's yMixed, label smoothing). Validated on the host; the
// loss itself runs in wasm.
import { bytesPerElement } from "../core/dtype.js";
import { labelsToWasm, type Labels } from "../core/labels.js";
import { axpy, fill } from "../ops/elementwise.js";
import { softmaxLossRows } from "../ops/loss.js";
import { sharedScratch } from "../ops/scratch.js";
import { realKernels } from "../core/runtime.js";
import { Tensor, checkTensor, type DType } from "../core/tensor.js";
import { checkNumber, shapeString } from "../core/validate.js";

/** Integer labels (N) or soft labels, a tensor (N, C) whose rows are probabilities. */
export type Targets = Labels | Tensor;

/** How far a soft-label row may sum from 1 (f32 rounding of mixed one-hots is ~1e-7). */
export const SOFT_LABEL_SUM_TOLERANCE = 1e-4;

/** Targets as a kernel sees them: a pointer to i32 labels (N) or to probabilities (N, C) in the scores' dtype. */
export interface WasmTargets {
  soft: boolean;
  ptr: number;
}

/**
 * Checks soft labels: dtype (that of the rows they go with: scores, or images being mixed),
 * shape (n, classes), every value finite and >= 0, every row summing to 1 within
 * SOFT_LABEL_SUM_TOLERANCE (the gradient (softmax - y) / N is the loss's gradient only then).
 */
export function checkSoftLabels(fn: string, y: Tensor, n: number, classes: number, dtype: DType): Tensor {
  checkTensor(fn, "y", y);
  if (y.dtype !== dtype) throw new TypeError(`${fn}: soft labels y are ${y.dtype} but must be ${dtype}, the dtype of the rows they go with`);
  if (y.shape.length !== 2 || y.shape[0] !== n || y.shape[1] !== classes) {
    throw new RangeError(`${fn}: soft labels y must have shape [${n}, ${classes}] (rows of class probabilities; got ${shapeString(y.shape)})`);
  }
  const view = y.view(); // nothing allocates below
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < classes; j++) {
      const v = view[i * classes + j];
      if (!Number.isFinite(v) || v < 0) {
        throw new RangeError(`${fn}: soft labels y[${i}][${j}] is ${v}; probabilities must be finite and >= 0`);
      }
      sum += v;
    }
    if (Math.abs(sum - 1) > SOFT_LABEL_SUM_TOLERANCE) {
      throw new RangeError(`${fn}: soft labels row y[${i}] sums to ${sum}; each row must sum to 1 (within ${SOFT_LABEL_SUM_TOLERANCE})`);
    }
  }
  return y;
}

/** Validates targets for n rows of `classes` scores of `dtype` and hands the kernel a pointer. */
export function targetsToWasm(fn: string, y: unknown, n: number, classes: number, dtype: DType): WasmTargets {
  if (y instanceof Tensor) return { soft: true, ptr: checkSoftLabels(fn, y, n, classes, dtype).ptr };
  return { soft: false, ptr: labelsToWasm(fn, y, n, classes) };
}

/**
 * Mean softmax cross-entropy of scores (n, c) against targets; writes dscores (n, c) unless 0.
 * labelSmoothing eps mixes every target with the uniform distribution: eps/c + (1 - eps)·target.
 */
export function softmaxLossKernel(t: WasmTargets, dscores: number, scores: number, n: number, c: number, dtype: DType, labelSmoothing = 0): number {
  // Integer labels go through the row-split op (threads); soft labels are one call.
  if (!t.soft) return softmaxLossRows(dscores, scores, t.ptr, n, c, dtype, labelSmoothing);
  let y = t.ptr;
  if (labelSmoothing > 0) {
    // The smoothed soft labels in a scratch buffer: eps/c everywhere, plus (1 - eps)·y.
    y = sharedScratch("smoothed soft labels", n * c * bytesPerElement(dtype));
    fill(y, n * c, labelSmoothing / c, dtype);
    axpy(y, t.ptr, n * c, 1 - labelSmoothing, dtype);
  }
  return realKernels(dtype).softmax_loss_soft(dscores, scores, y, n, c);
}

/** Checks a labelSmoothing option: a number in [0, 1]. */
export function checkLabelSmoothing(fn: string, name: string, value: unknown): number {
  return value === undefined ? 0 : checkNumber(fn, name, value, { min: 0, max: 1 });
}
