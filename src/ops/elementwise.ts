// Host side of the elementwise kernels (and the counter-based random ones), split over threads
// by contiguous ranges of elements, boundaries on multiples of 4 (whole SIMD blocks). Each
// element's result depends on that element alone (random numbers on the counter offset + i), so
// any split gives the same bits; no kernel needs a range variant: a task is the kernel on a slice.
// The float64 module's kernels (the same source, built with real = f64) split the same way,
// 8 bytes per element. dtype is every op's last argument and has no default: a float32 kernel
// over float64 bytes would be silent garbage.
import { bytesPerElement, type DType } from "../core/dtype.js";
import { ACTIVATION_KERNELS, TRAIN_KERNELS, useFamily } from "../core/kernel-families.js";
import { runTasks, type KernelName } from "../core/threads/dispatch.js";
import { MIN_ELEMENTS_PER_TASK, MIN_TRANSCENDENTAL_PER_TASK } from "../core/threads/thresholds.js";
import { splitRange, taskCount } from "./split.js";

/**
 * Runs dtype's `kernel` over [0, n) in slices: args(i0, i1, B) is the argument list for elements
 * [i0, i1), B the bytes per element.
 */
export function splitElements(dtype: DType, kernel: KernelName, n: number, minPerTask: number, args: (i0: number, i1: number, B: number) => number[]): void {
  const B = bytesPerElement(dtype);
  const ranges = splitRange(n, taskCount(n, minPerTask, Math.ceil(n / 4)), 4);
  runTasks(
    dtype,
    kernel,
    ranges.map(([i0, i1]) => args(i0, i1, B)),
  );
}

/** y = max(x, 0). y, x: (n); y may be x. */
export function relu(y: number, x: number, n: number, dtype: DType): void {
  splitElements(dtype, "relu", n, MIN_ELEMENTS_PER_TASK, (i0, i1, B) => [y + i0 * B, x + i0 * B, i1 - i0]);
}

/** dx = x > 0 ? dy : 0. dx, dy, x: (n); dx may be dy. */
export function reluBackward(dx: number, dy: number, x: number, n: number, dtype: DType): void {
  splitElements(dtype, "relu_backward", n, MIN_ELEMENTS_PER_TASK, (i0, i1, B) => [dx + i0 * B, dy + i0 * B, x + i0 * B, i1 - i0]);
}

/** y = a * b elementwise. y, a, b: (n) */
export function mul(y: number, a: number, b: number, n: number, dtype: DType): void {
  useFamily(TRAIN_KERNELS);
  splitElements(dtype, "mul", n, MIN_ELEMENTS_PER_TASK, (i0, i1, B) => [y + i0 * B, a + i0 * B, b + i0 * B, i1 - i0]);
}

/** y += alpha * x. y, x: (n) */
export function axpy(y: number, x: number, n: number, alpha: number, dtype: DType): void {
  splitElements(dtype, "axpy", n, MIN_ELEMENTS_PER_TASK, (i0, i1, B) => [y + i0 * B, x + i0 * B, i1 - i0, alpha]);
}

/** y = alpha * x. y, x: (n) */
export function scale(y: number, x: number, n: number, alpha: number, dtype: DType): void {
  splitElements(dtype, "scale", n, MIN_ELEMENTS_PER_TASK, (i0, i1, B) => [y + i0 * B, x + i0 * B, i1 - i0, alpha]);
}

/** y = value. y: (n) */
export function fill(y: number, n: number, value: number, dtype: DType): void {
  splitElements(dtype, "fill", n, MIN_ELEMENTS_PER_TASK, (i0, i1, B) => [y + i0 * B, i1 - i0, value]);
}

/** y += alpha * sign(x). y, x: (n) */
export function addSign(y: number, x: number, n: number, alpha: number, dtype: DType): void {
  useFamily(TRAIN_KERNELS);
  splitElements(dtype, "add_sign", n, MIN_ELEMENTS_PER_TASK, (i0, i1, B) => [y + i0 * B, x + i0 * B, i1 - i0, alpha]);
}

/** y = tanh(x). y, x: (n); y may be x. */
export function tanh(y: number, x: number, n: number, dtype: DType): void {
  useFamily(ACTIVATION_KERNELS);
  splitElements(dtype, "tanh", n, MIN_TRANSCENDENTAL_PER_TASK, (i0, i1, B) => [y + i0 * B, x + i0 * B, i1 - i0]);
}

/** dx = dy * (1 - y²). dx, dy, y: (n) */
export function tanhBackward(dx: number, dy: number, y: number, n: number, dtype: DType): void {
  useFamily(ACTIVATION_KERNELS);
  splitElements(dtype, "tanh_backward", n, MIN_ELEMENTS_PER_TASK, (i0, i1, B) => [dx + i0 * B, dy + i0 * B, y + i0 * B, i1 - i0]);
}

/** Inverted-dropout mask from counter stream (seed, offset): element i uses counter offset + i. mask: (n) */
export function dropoutMask(mask: number, n: number, p: number, seed: number, offset: number, dtype: DType): void {
  useFamily(TRAIN_KERNELS);
  splitElements(dtype, "dropout_mask", n, MIN_ELEMENTS_PER_TASK, (i0, i1, B) => [mask + i0 * B, i1 - i0, p, seed, offset + i0]);
}

/** y = a + b elementwise (a residual sum). y, a, b: (n); y may be a or b. */
export function add(y: number, a: number, b: number, n: number, dtype: DType): void {
  useFamily(TRAIN_KERNELS);
  splitElements(dtype, "add", n, MIN_ELEMENTS_PER_TASK, (i0, i1, B) => [y + i0 * B, a + i0 * B, b + i0 * B, i1 - i0]);
}

/** y = x > 0 ? x : slope·x (PyTorch's LeakyReLU(negative_slope = slope)). y, x: (n); y may be x. */
export function leakyRelu(y: number, x: number, n: number, slope: number, dtype: DType): void {
  useFamily(ACTIVATION_KERNELS);
  splitElements(dtype, "leaky_relu", n, MIN_ELEMENTS_PER_TASK, (i0, i1, B) => [y + i0 * B, x + i0 * B, i1 - i0, slope]);
}

/** dx = x > 0 ? dy : slope·dy, x the forward INPUT. dx, dy, x: (n); dx may be dy. */
export function leakyReluBackward(dx: number, dy: number, x: number, n: number, slope: number, dtype: DType): void {
  useFamily(ACTIVATION_KERNELS);
  splitElements(dtype, "leaky_relu_backward", n, MIN_ELEMENTS_PER_TASK, (i0, i1, B) => [dx + i0 * B, dy + i0 * B, x + i0 * B, i1 - i0, slope]);
}

/** y = 1 / (1 + e^-x). y, x: (n); y may be x. */
export function sigmoid(y: number, x: number, n: number, dtype: DType): void {
  useFamily(ACTIVATION_KERNELS);
  splitElements(dtype, "sigmoid", n, MIN_TRANSCENDENTAL_PER_TASK, (i0, i1, B) => [y + i0 * B, x + i0 * B, i1 - i0]);
}

/** dx = dy·(1 - y)·y, y the forward OUTPUT. dx, dy, y: (n); dx may be dy. */
export function sigmoidBackward(dx: number, dy: number, y: number, n: number, dtype: DType): void {
  useFamily(ACTIVATION_KERNELS);
  splitElements(dtype, "sigmoid_backward", n, MIN_ELEMENTS_PER_TASK, (i0, i1, B) => [dx + i0 * B, dy + i0 * B, y + i0 * B, i1 - i0]);
}

/**
 * GELU's two forms, PyTorch's `approximate`: "none" = 0.5·x·(1 + erf(x/√2)), "tanh" = 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))).
 *
 * @inline
 */
export type GeluApproximate = "none" | "tanh";

function geluMode(approximate: GeluApproximate): number {
  if (approximate === "none") return 0;
  if (approximate === "tanh") return 1;
  throw new TypeError(`gelu: approximate must be "none" or "tanh" (got ${String(approximate)})`);
}

/** y = GELU(x) in the given form. y, x: (n); y may be x. */
export function gelu(y: number, x: number, n: number, approximate: GeluApproximate, dtype: DType): void {
  const mode = geluMode(approximate);
  useFamily(ACTIVATION_KERNELS);
  splitElements(dtype, "gelu", n, MIN_TRANSCENDENTAL_PER_TASK, (i0, i1, B) => [y + i0 * B, x + i0 * B, i1 - i0, mode]);
}

/** dx = dy·GELU'(x), x the forward INPUT. dx, dy, x: (n); dx may be dy. */
export function geluBackward(dx: number, dy: number, x: number, n: number, approximate: GeluApproximate, dtype: DType): void {
  const mode = geluMode(approximate);
  useFamily(ACTIVATION_KERNELS);
  splitElements(dtype, "gelu_backward", n, MIN_TRANSCENDENTAL_PER_TASK, (i0, i1, B) => [dx + i0 * B, dy + i0 * B, x + i0 * B, i1 - i0, mode]);
}
