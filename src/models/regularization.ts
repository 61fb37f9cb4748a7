// Weight penalties shared by the models: loss += reg * sum(W²) (or reg * sum|W| for L1) over
// weight matrices only, and the matching gradient added to dW (2·reg·W, or reg·sign(W)).
import { kernels } from "../runtime.js";
import type { ParamStore } from "./param-store.js";

export type Regularization = "l2" | "l1";

/** Adds the penalty's gradient to each named weight's gradient and returns the penalty. */
export function regularize(store: ParamStore, weights: readonly string[], reg: number, kind: Regularization): number {
  if (reg === 0) return 0;
  const k = kernels();
  const f64 = store.dtype === "float64";
  let penalty = 0;
  for (const name of weights) {
    const W = store.params[name];
    const dW = store.grads[name];
    if (kind === "l2") {
      penalty += reg * (f64 ? k.f64_sum_squares : k.f32_sum_squares)(W.ptr, W.size);
      (f64 ? k.f64_axpy : k.f32_axpy)(dW.ptr, W.ptr, W.size, 2 * reg);
    } else {
      penalty += reg * (f64 ? k.f64_sum_abs : k.f32_sum_abs)(W.ptr, W.size);
      (f64 ? k.f64_add_sign : k.f32_add_sign)(dW.ptr, W.ptr, W.size, reg);
    }
  }
  return penalty;
}
