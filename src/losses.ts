// Classification losses over scores (N, C) and integer labels: [loss (a plain number), dscores].
// dscores has the scores' dtype (float32 or float64).
import { labelsToWasm, type Labels } from "./labels.js";
import { softmaxLossRows, svmLossRows } from "./ops/loss.js";
import { checkTensor, empty, type Tensor } from "./tensor.js";

function lossDims(fn: string, scores: Tensor): [number, number] {
  checkTensor(fn, "scores", scores, 2);
  const [N, C] = scores.shape;
  if (N === 0) throw new RangeError(`${fn}: scores must have at least one row (got shape [0, ${C}])`);
  if (C === 0) throw new RangeError(`${fn}: scores must have at least one class (got shape [${N}, 0])`);
  return [N, C];
}

/** Mean softmax cross-entropy; dscores = (softmax - onehot) / N. Stable: the row max is subtracted. */
export function softmaxLoss(scores: Tensor, y: Labels): [number, Tensor] {
  const fn = "softmaxLoss";
  const [N, C] = lossDims(fn, scores);
  const yPtr = labelsToWasm(fn, y, N, C);
  const dscores = empty([N, C], fn, scores.dtype);
  const loss = softmaxLossRows(dscores.ptr, scores.ptr, yPtr, N, C, scores.dtype);
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
