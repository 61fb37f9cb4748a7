// Host side of the five update rules: split by contiguous ranges of parameters (boundaries on
// multiples of 4; float64 parameters the same way, 8 bytes each). Every parameter's update reads
// only its own w, dw and state (Adam's bias corrections are computed identically in every task),
// so any split gives the same bits.
import { OPTIM_KERNELS, TRAIN_KERNELS, useFamily } from "../core/kernel-families.js";
import { MIN_PARAMS_PER_TASK } from "../core/threads/thresholds.js";
import type { DType } from "../core/dtype.js";
import { splitElements } from "./elementwise.js";

/** w -= lr * dw. w, dw: (n) */
export function sgdUpdate(w: number, dw: number, n: number, lr: number, dtype: DType): void {
  useFamily(OPTIM_KERNELS);
  splitElements(dtype, "sgd", n, MIN_PARAMS_PER_TASK, (i0, i1, B) => [w + i0 * B, dw + i0 * B, i1 - i0, lr]);
}

/** v = mu*v - lr*dw; w += v. w, dw, v: (n) */
export function sgdMomentumUpdate(w: number, dw: number, v: number, n: number, lr: number, mu: number, dtype: DType): void {
  useFamily(OPTIM_KERNELS);
  splitElements(dtype, "sgd_momentum", n, MIN_PARAMS_PER_TASK, (i0, i1, B) => [w + i0 * B, dw + i0 * B, v + i0 * B, i1 - i0, lr, mu]);
}

/** Nesterov: v_prev = v; v = mu*v - lr*dw; w += -mu*v_prev + (1+mu)*v. w, dw, v: (n) */
export function sgdNesterovUpdate(w: number, dw: number, v: number, n: number, lr: number, mu: number, dtype: DType): void {
  useFamily(OPTIM_KERNELS);
  splitElements(dtype, "sgd_nesterov", n, MIN_PARAMS_PER_TASK, (i0, i1, B) => [w + i0 * B, dw + i0 * B, v + i0 * B, i1 - i0, lr, mu]);
}

/** AdaGrad. w, dw, cache: (n) */
export function adagradUpdate(w: number, dw: number, cache: number, n: number, lr: number, eps: number, dtype: DType): void {
  useFamily(OPTIM_KERNELS);
  splitElements(dtype, "adagrad", n, MIN_PARAMS_PER_TASK, (i0, i1, B) => [w + i0 * B, dw + i0 * B, cache + i0 * B, i1 - i0, lr, eps]);
}

/** RMSProp. w, dw, cache: (n) */
export function rmspropUpdate(w: number, dw: number, cache: number, n: number, lr: number, decay: number, eps: number, dtype: DType): void {
  useFamily(OPTIM_KERNELS);
  splitElements(dtype, "rmsprop", n, MIN_PARAMS_PER_TASK, (i0, i1, B) => [w + i0 * B, dw + i0 * B, cache + i0 * B, i1 - i0, lr, decay, eps]);
}

/** Adam at step t (>= 1). w, dw, m, v: (n) */
export function adamUpdate(
  w: number,
  dw: number,
  m: number,
  v: number,
  n: number,
  lr: number,
  b1: number,
  b2: number,
  eps: number,
  t: number,
  dtype: DType,
): void {
  splitElements(dtype, "adam", n, MIN_PARAMS_PER_TASK, (i0, i1, B) => [w + i0 * B, dw + i0 * B, m + i0 * B, v + i0 * B, i1 - i0, lr, b1, b2, eps, t]);
}

/** Moving average: avg += rate * (w - avg). avg, w: (n) */
export function emaUpdate(avg: number, w: number, n: number, rate: number, dtype: DType): void {
  useFamily(TRAIN_KERNELS);
  splitElements(dtype, "ema_update", n, MIN_PARAMS_PER_TASK, (i0, i1, B) => [avg + i0 * B, w + i0 * B, i1 - i0, rate]);
}
