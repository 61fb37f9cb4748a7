// Classification losses over scores (N, C) and integer labels: [loss (a plain number), dscores].
// dscores has the scores' dtype (float32 or float64).
import { labelsToWasm, type Labels } from "../core/labels.js";
import { svmLossRows } from "../ops/loss.js";
import { checkLabelSmoothing, softmaxLossKernel, targetsToWasm, type Targets } from "./targets.js";
import { checkOptions } from "../core/validate.js";

/** Options of softmaxLoss. */
export interface SoftmaxLossOptions {
  /**
   * Label smoothing eps in [0, 1] (PyTorch's label_smoothing): every target is mixed with the
   * uniform distribution, eps/C + (1 - eps)·target. Default 0.
   */
  labelSmoothing?: number;
}
import { checkTensor, empty, type Tensor } from "../core/tensor.js";

function lossDims(fn: string, scores: Tensor): [number, number] {
  checkTensor(fn, "scores", scores, 2);
  const [N, C] = scores.shape;
  if (N === 0) throw new RangeError(`${fn}: scores must have at least one row (got shape [0, ${C}])`);
  if (C === 0) throw new RangeError(`${fn}: scores must have at least one class (got shape [${N}, 0])`);
  return [N, C];
}

/**
 * Mean softmax cross-entropy, mean_n -sum_c y_nc log softmax(s_n)_c; dscores = (softmax - y) / N.
 * y: integer labels (N), or soft labels, an (N, C) tensor of probabilities (finite, >= 0, each
 * row summing to 1 within 1e-4), e.g. mixup's yMixed. Stable: the row max is subtracted.
 * options.labelSmoothing mixes the targets with the uniform distribution.
 */
export function softmaxLoss(scores: Tensor, y: Targets, options: SoftmaxLossOptions = {}): [number, Tensor] {
  const fn = "softmaxLoss";
  const [N, C] = lossDims(fn, scores);
  const smoothing = checkLabelSmoothing(fn, "options.labelSmoothing", checkOptions(fn, "options", options, ["labelSmoothing"]).labelSmoothing);
  const targets = targetsToWasm(fn, y, N, C, scores.dtype);
  const dscores = empty([N, C], fn, scores.dtype);
  const loss = softmaxLossKernel(targets, dscores.ptr, scores.ptr, N, C, scores.dtype, smoothing);
  return [loss, dscores];
}

/** Mean multiclass hinge loss with margin 1. */
export function svmLoss(scores: Tensor, y: Labels): [number, Tensor] {
  const fn = "svmLoss";
  const [N, C] = lossDims(fn, scores);
  const yPtr = labelsToWasm(fn, y, N, C);
  const dscores = empty([N, C], fn, scores.dtype);
  const loss = svmLossRows(dscores.ptr, scores.ptr, yPtr, N, C, scores.dtype);
  return [loss, dscores];
}
