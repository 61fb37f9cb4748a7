// Work thresholds below which a split kernel stays on the calling thread (tasks = 1).
//
// A task on a worker costs a dispatch round trip (wake, run, signal back); a split only pays when
// each task's share takes several round trips' worth of time. The figures below assume a round
// trip of about 10-20 µs (Atomics.wait/notify between Node worker_threads on a loaded 2-core
// machine; the `threads` branch measures the real figure) and this machine's single-core speeds:
// the SIMD GEMM at ~40 GFLOPS (20 M multiply-adds a ms), elementwise kernels at ~1-2 G floats/s,
// tanh/exp-bound kernels ~10x slower. Each constant is the minimum work of ONE task, chosen so a
// task lasts at least ~25-50 µs (2-3 round trips). The lead retunes them after merge with the
// measured round trip; none of them changes a result (splits never change bits).
import { runtime } from "../runtime-state.js";

/**
 * GEMM and conv: multiply-adds per task (~40 µs of the 4x8 microkernel). 1 << 18, which splits the
 * FC bench's 100x100x100 products, was slower: FC training 1.52x against 1.58-1.63x with 2 threads
 * (two runs each, alternating), as the small products' halves cost more than they save.
 */
export const MIN_MACS_PER_TASK = 1 << 20;
/**
 * Conv forward of ONE image split by blocks of its output pixels (batch 1, which image ranges
 * cannot split): multiply-adds per task. Half the GEMM's figure (~20 µs of the 4x8 tile per task),
 * so the small ResNet's 1.8 M multiply-add convs at batch 1 split too; not yet measured on a quiet
 * machine (a busy one makes any split slower): retune with the measured round trip.
 */
export const MIN_CONV_PIXEL_MACS_PER_TASK = 1 << 19;
/** Streaming elementwise kernels (relu, mul, axpy, scale, fill, dropout mask): elements per task. */
export const MIN_ELEMENTS_PER_TASK = 1 << 16;
/** Elementwise kernels with transcendental math (tanh, sigmoid, GELU; random normals): elements per task. */
export const MIN_TRANSCENDENTAL_PER_TASK = 1 << 13;
/** Optimizers (read 2-4 arrays, write 1-3; Adam also divides and takes roots): parameters per task. */
export const MIN_PARAMS_PER_TASK = 1 << 15;
/** Batch norm (3 passes over the data, f64 sums): elements per task. */
export const MIN_NORM_ELEMENTS_PER_TASK = 1 << 15;
/** Softmax / SVM loss (an exp and a log per score): scores per task. */
export const MIN_SCORES_PER_TASK = 1 << 13;
/** Max pooling, im2col-like copies: output elements per task. */
export const MIN_POOL_ELEMENTS_PER_TASK = 1 << 15;
/**
 * Depthwise convolution: multiply-adds per task. Its kernels run at a third to a fifth of the
 * GEMM's rate (a few loads per multiply-add, bench/depthwise.mjs), so a quarter of the GEMM's
 * threshold lasts about as long.
 */
export const MIN_DEPTHWISE_MACS_PER_TASK = 1 << 18;

/**
 * Test hook (not exported from the public index): with `true`, every split kernel splits as far
 * as the thread count allows whatever the size, so small test shapes exercise every split.
 */
export function ignoreThresholds(on: boolean): void {
  runtime.ignoreThresholds = on;
}

/** True while ignoreThresholds(true) is in force. */
export function thresholdsIgnored(): boolean {
  return runtime.ignoreThresholds;
}
