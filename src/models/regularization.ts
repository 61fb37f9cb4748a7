// Weight penalties shared by the models: loss += reg * sum(W²) (or reg * sum|W| for L1) over
// weight matrices only, and the matching gradient added to dW (2·reg·W, or reg·sign(W)).
import { addSign, axpy } from "../ops/elementwise.js";
import { sumAbs, sumSquares } from "../ops/reduce.js";
import type { ParamStore } from "./param-store.js";

/**
 * The weight penalty reg applies to: "l2" adds reg·Σ W², "l1" adds reg·Σ |W| (weights only, not biases).
 *
 * @inline
 */
export type Regularization = "l2" | "l1";

/** Adds the penalty's gradient to each named weight's gradient and returns the penalty. */
export function regularize(store: ParamStore, weights: readonly string[], reg: number, kind: Regularization): number {
  if (reg === 0) return 0;
  const dtype = store.dtype;
  let penalty = 0;
  for (const name of weights) {
    const W = store.params[name];
    const dW = store.grads[name];
    if (kind === "l2") {
      penalty += reg * sumSquares(W.ptr, W.size, dtype);
      axpy(dW.ptr, W.ptr, W.size, 2 * reg, dtype);
    } else {
      penalty += reg * sumAbs(W.ptr, W.size, dtype);
      addSign(dW.ptr, W.ptr, W.size, reg, dtype);
    }
  }
  return penalty;
}
