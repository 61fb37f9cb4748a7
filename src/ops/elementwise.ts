// Host side of the elementwise kernels (and the counter-based random ones), split over threads
// by contiguous ranges of elements, boundaries on multiples of 4 (whole SIMD blocks). Each
// element's result depends on that element alone (random numbers on the counter offset + i), so
// any split gives the same bits; no kernel needs a range variant: a task is the kernel on a slice.
// The float64 kernels (assembly/f64/) split the same way, 8 bytes per element.
import type { DType } from "../tensor.js";
import { runTasks, type KernelName } from "../threads/dispatch.js";
import { MIN_ELEMENTS_PER_TASK, MIN_TRANSCENDENTAL_PER_TASK } from "../threads/thresholds.js";
import { splitRange, taskCount } from "./split.js";

/** Runs `kernel` over [0, n) in slices: args(i0, i1) is the argument list for elements [i0, i1). */
export function splitElements(kernel: KernelName, n: number, minPerTask: number, args: (i0: number, i1: number) => number[]): void {
  const ranges = splitRange(n, taskCount(n, minPerTask, Math.ceil(n / 4)), 4);
  runTasks(kernel, ranges.map(([i0, i1]) => args(i0, i1)));
}

/** The kernel for dtype (the f32 one or its float64 twin) and the bytes per element. */
export function forDtype(dtype: DType, f32Kernel: KernelName, f64Kernel: KernelName): [KernelName, number] {
  return dtype === "float64" ? [f64Kernel, 8] : [f32Kernel, 4];
}

/** y = max(x, 0). y, x: (n); y may be x. */
export function relu(y: number, x: number, n: number, dtype: DType = "float32"): void {
  const [kernel, B] = forDtype(dtype, "f32_relu", "f64_relu");
  splitElements(kernel, n, MIN_ELEMENTS_PER_TASK, (i0, i1) => [y + i0 * B, x + i0 * B, i1 - i0]);
}

/** dx = x > 0 ? dy : 0. dx, dy, x: (n); dx may be dy. */
export function reluBackward(dx: number, dy: number, x: number, n: number, dtype: DType = "float32"): void {
  const [kernel, B] = forDtype(dtype, "f32_relu_backward", "f64_relu_backward");
  splitElements(kernel, n, MIN_ELEMENTS_PER_TASK, (i0, i1) => [dx + i0 * B, dy + i0 * B, x + i0 * B, i1 - i0]);
}

/** y = a * b elementwise. y, a, b: (n) */
export function mul(y: number, a: number, b: number, n: number, dtype: DType = "float32"): void {
  const [kernel, B] = forDtype(dtype, "f32_mul", "f64_mul");
  splitElements(kernel, n, MIN_ELEMENTS_PER_TASK, (i0, i1) => [y + i0 * B, a + i0 * B, b + i0 * B, i1 - i0]);
}

/** y += alpha * x. y, x: (n) */
export function axpy(y: number, x: number, n: number, alpha: number, dtype: DType = "float32"): void {
  const [kernel, B] = forDtype(dtype, "f32_axpy", "f64_axpy");
  splitElements(kernel, n, MIN_ELEMENTS_PER_TASK, (i0, i1) => [y + i0 * B, x + i0 * B, i1 - i0, alpha]);
}

/** y = alpha * x. y, x: (n) */
export function scale(y: number, x: number, n: number, alpha: number, dtype: DType = "float32"): void {
  const [kernel, B] = forDtype(dtype, "f32_scale", "f64_scale");
  splitElements(kernel, n, MIN_ELEMENTS_PER_TASK, (i0, i1) => [y + i0 * B, x + i0 * B, i1 - i0, alpha]);
}

/** y = value. y: (n) */
export function fill(y: number, n: number, value: number, dtype: DType = "float32"): void {
  const [kernel, B] = forDtype(dtype, "f32_fill", "f64_fill");
  splitElements(kernel, n, MIN_ELEMENTS_PER_TASK, (i0, i1) => [y + i0 * B, i1 - i0, value]);
}

/** y += alpha * sign(x). y, x: (n) */
export function addSign(y: number, x: number, n: number, alpha: number, dtype: DType = "float32"): void {
  const [kernel, B] = forDtype(dtype, "f32_add_sign", "f64_add_sign");
  splitElements(kernel, n, MIN_ELEMENTS_PER_TASK, (i0, i1) => [y + i0 * B, x + i0 * B, i1 - i0, alpha]);
}

/** y = tanh(x). y, x: (n); y may be x. */
export function tanh(y: number, x: number, n: number, dtype: DType = "float32"): void {
  const [kernel, B] = forDtype(dtype, "f32_tanh", "f64_tanh");
  splitElements(kernel, n, MIN_TRANSCENDENTAL_PER_TASK, (i0, i1) => [y + i0 * B, x + i0 * B, i1 - i0]);
}

/** dx = dy * (1 - y²). dx, dy, y: (n) */
export function tanhBackward(dx: number, dy: number, y: number, n: number, dtype: DType = "float32"): void {
  const [kernel, B] = forDtype(dtype, "f32_tanh_backward", "f64_tanh_backward");
  splitElements(kernel, n, MIN_ELEMENTS_PER_TASK, (i0, i1) => [dx + i0 * B, dy + i0 * B, y + i0 * B, i1 - i0]);
}

/** Inverted-dropout mask from counter stream (seed, offset): element i uses counter offset + i. mask: (n) */
export function dropoutMask(mask: number, n: number, p: number, seed: number, offset: number, dtype: DType = "float32"): void {
  const [kernel, B] = forDtype(dtype, "f32_dropout_mask", "f64_dropout_mask");
  splitElements(kernel, n, MIN_ELEMENTS_PER_TASK, (i0, i1) => [mask + i0 * B, i1 - i0, p, seed, offset + i0]);
}
