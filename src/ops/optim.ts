// Host side of the five update rules: split by contiguous ranges of parameters (boundaries on
// multiples of 4). Every parameter's update reads only its own w, dw and state (Adam's bias
// corrections are computed identically in every task), so any split gives the same bits.
import { MIN_PARAMS_PER_TASK } from "../threads/thresholds.js";
import { splitElements } from "./elementwise.js";

const F = 4;

/** w -= lr * dw. w, dw: (n) */
export function sgdUpdate(w: number, dw: number, n: number, lr: number): void {
  splitElements("f32_sgd", n, MIN_PARAMS_PER_TASK, (i0, i1) => [w + i0 * F, dw + i0 * F, i1 - i0, lr]);
}

/** v = mu*v - lr*dw; w += v. w, dw, v: (n) */
export function sgdMomentumUpdate(w: number, dw: number, v: number, n: number, lr: number, mu: number): void {
  splitElements("f32_sgd_momentum", n, MIN_PARAMS_PER_TASK, (i0, i1) => [w + i0 * F, dw + i0 * F, v + i0 * F, i1 - i0, lr, mu]);
}

/** AdaGrad. w, dw, cache: (n) */
export function adagradUpdate(w: number, dw: number, cache: number, n: number, lr: number, eps: number): void {
  splitElements("f32_adagrad", n, MIN_PARAMS_PER_TASK, (i0, i1) => [w + i0 * F, dw + i0 * F, cache + i0 * F, i1 - i0, lr, eps]);
}

/** RMSProp. w, dw, cache: (n) */
export function rmspropUpdate(w: number, dw: number, cache: number, n: number, lr: number, decay: number, eps: number): void {
  splitElements("f32_rmsprop", n, MIN_PARAMS_PER_TASK, (i0, i1) => [w + i0 * F, dw + i0 * F, cache + i0 * F, i1 - i0, lr, decay, eps]);
}

/** Adam at step t (>= 1). w, dw, m, v: (n) */
export function adamUpdate(w: number, dw: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number, t: number): void {
  splitElements("f32_adam", n, MIN_PARAMS_PER_TASK, (i0, i1) => [w + i0 * F, dw + i0 * F, m + i0 * F, v + i0 * F, i1 - i0, lr, b1, b2, eps, t]);
}
