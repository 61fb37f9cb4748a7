// What a classification loss compares scores with: integer class labels, or soft labels, an
// (N, C) tensor of probabilities (mixup's yMixed, label smoothing). Validated on the host; the
// loss itself runs in wasm.
import { labelsToWasm, type Labels } from "./labels.js";
import { softmaxLossRows } from "./ops/loss.js";
import { kernels } from "./runtime.js";
import { Tensor, checkTensor, type DType } from "./tensor.js";
import { shapeString } from "./validate.js";

/** Integer labels (N) or soft labels, a tensor (N, C) whose rows are probabilities. */
export type Targets = Labels | Tensor;

/** How far a soft-label row may sum from 1 (f32 rounding of mixed one-hots is ~1e-7). */
export const SOFT_LABEL_SUM_TOLERANCE = 1e-4;

/** Targets as a kernel sees them: a pointer to i32 labels (N) or to f32 probabilities (N, C). */
export interface WasmTargets {
  soft: boolean;
  ptr: number;
}

/**
 * Checks soft labels: dtype (the caller's: the rows they go with), shape (n, classes), every value
 * finite and >= 0, every row summing to 1 within SOFT_LABEL_SUM_TOLERANCE (the gradient
 * (softmax - y) / N is the loss's gradient only then).
 */
export function checkSoftLabels(fn: string, y: Tensor, n: number, classes: number, dtype: DType): Tensor {
  checkTensor(fn, "y", y);
  if (y.dtype !== dtype) throw new TypeError(`${fn}: soft labels y must be a ${dtype} tensor like x (got ${y.dtype})`);
  if (y.shape.length !== 2 || y.shape[0] !== n || y.shape[1] !== classes) {
    throw new RangeError(`${fn}: soft labels y must have shape [${n}, ${classes}] (rows of class probabilities; got ${shapeString(y.shape)})`);
  }
  const view = y.view(); // nothing allocates below
  const start = y.offset;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < classes; j++) {
      const v = view[start + i * classes + j];
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

/** Validates targets for n rows of `classes` scores and hands the kernel a pointer. */
export function targetsToWasm(fn: string, y: unknown, n: number, classes: number): WasmTargets {
  if (y instanceof Tensor) {
    // The loss's soft-label kernel (softmax_loss_soft) is float32 only.
    checkTensor(fn, "y", y);
    if (y.dtype !== "float32") throw new TypeError(`${fn}: soft labels y must be a float32 tensor (got ${y.dtype}); float64 runs take integer labels`);
    return { soft: true, ptr: checkSoftLabels(fn, y, n, classes, "float32").ptr };
  }
  return { soft: false, ptr: labelsToWasm(fn, y, n, classes) };
}

/**
 * Mean softmax cross-entropy of scores (n, c) against targets; writes dscores (n, c) unless 0.
 * Soft labels have a float32 kernel only: float64 scores with soft labels are refused.
 */
export function softmaxLossKernel(t: WasmTargets, dscores: number, scores: number, n: number, c: number, dtype: DType = "float32"): number {
  if (t.soft && dtype !== "float32") throw new TypeError("softmaxLoss: soft labels work with float32 scores only (got float64 scores); use integer labels");
  // Integer labels go through the row-split op (threads); soft labels are one call.
  return t.soft ? kernels().softmax_loss_soft(dscores, scores, t.ptr, n, c) : softmaxLossRows(dscores, scores, t.ptr, n, c, dtype);
}
