// Host side of the batch-norm kernels, split over threads with the same bits for any count.
//   rows (N, D):       by features (each feature's statistics are its own sums over rows);
//   spatial (N, C, S): by channels; when channels are few (C < BN_TARGET_UNITS) each channel's
//                      sums over N·S are cut into chunks of images fixed by the sizes alone,
//                      with f64 partials added in chunk order (assembly/batchnorm.ts, "in chunks").
// float32 and float64 run the same kernels (assembly/batchnorm.ts over `real`), split the same way:
// only the element size differs, and the splits pass element indices, never byte offsets.
import type { DType } from "../core/dtype.js";
import { NORM_KERNELS, useFamily } from "../core/kernel-families.js";
import { runTasks } from "../core/threads/dispatch.js";
import { MIN_NORM_ELEMENTS_PER_TASK } from "../core/threads/thresholds.js";
import { sharedScratch } from "./scratch.js";
import { splitRange, taskCount } from "./split.js";

/** Pointers a batch-norm pass reads and writes (all into wasm memory). */
export interface BatchNormPointers {
  out: number;
  mean: number;
  invstd: number;
  x: number;
  gamma: number;
  beta: number;
  runningMean: number;
  runningVar: number;
}

// Decides the chunking (hence the bits) of the spatial sums, never the thread count: changing it
// changes results. 32 units of work (channels x chunks) keep up to 16 threads busy.
/** Channels x chunks a spatial batch norm aims for; C >= this runs one chunk per channel. */
export const BN_TARGET_UNITS = 32;

/**
 * How each channel's N images are chunked: [G images per chunk, chunks = ceil(N / G)], one chunk
 * when C >= BN_TARGET_UNITS. Sizes only.
 */
export function spatialBatchNormChunks(N: number, C: number): [number, number] {
  const target = C >= BN_TARGET_UNITS ? 1 : Math.max(1, Math.min(N, Math.ceil(BN_TARGET_UNITS / C)));
  const G = Math.ceil(N / target);
  return [G, Math.ceil(N / G)];
}

/**
 * Rows layout forward: train mode (batch statistics, running update) or test mode. momentum is
 * the share of the running statistics kept; unbiased updates the running variance with the
 * unbiased batch variance (PyTorch) instead of the biased one (the course layers).
 */
export function batchNormForward(
  p: BatchNormPointers,
  train: boolean,
  eps: number,
  momentum: number,
  unbiased: boolean,
  N: number,
  D: number,
  dtype: DType,
): void {
  useFamily(NORM_KERNELS);
  // Feature ranges start on multiples of 4, whole strips for either lane width (4 f32, 2 f64).
  const ranges = splitRange(D, taskCount(N * D, MIN_NORM_ELEMENTS_PER_TASK, Math.ceil(D / 4)), 4);
  if (train) {
    runTasks(
      dtype,
      "batchnorm_forward_train_range",
      ranges.map(([j0, j1]) => [p.out, p.mean, p.invstd, p.runningMean, p.runningVar, p.x, p.gamma, p.beta, N, D, eps, momentum, unbiased ? 1 : 0, j0, j1]),
    );
  } else {
    runTasks(
      dtype,
      "batchnorm_forward_test_range",
      ranges.map(([j0, j1]) => [p.out, p.mean, p.invstd, p.x, p.gamma, p.beta, p.runningMean, p.runningVar, N, D, eps, j0, j1]),
    );
  }
}

/** Rows layout backward: dx (N, D), dgamma, dbeta (D) overwritten. */
export function batchNormBackward(
  dx: number,
  dgamma: number,
  dbeta: number,
  dout: number,
  x: number,
  gamma: number,
  mean: number,
  invstd: number,
  batchStats: boolean,
  N: number,
  D: number,
  dtype: DType,
): void {
  useFamily(NORM_KERNELS);
  const ranges = splitRange(D, taskCount(N * D, MIN_NORM_ELEMENTS_PER_TASK, Math.ceil(D / 4)), 4);
  const flag = batchStats ? 1 : 0;
  runTasks(
    dtype,
    "batchnorm_backward_range",
    ranges.map(([j0, j1]) => [dx, dgamma, dbeta, dout, x, gamma, mean, invstd, N, D, flag, j0, j1]),
  );
}

/** Spatial forward (N, C, S): train or test mode; momentum and unbiased as batchNormForward. */
export function spatialBatchNormForward(
  p: BatchNormPointers,
  train: boolean,
  eps: number,
  momentum: number,
  unbiased: boolean,
  N: number,
  C: number,
  S: number,
  dtype: DType,
): void {
  useFamily(NORM_KERNELS);
  const [G, chunks] = train ? spatialBatchNormChunks(N, C) : [N, 1];
  const units = C * chunks;
  const ranges = splitRange(units, taskCount(N * C * S, MIN_NORM_ELEMENTS_PER_TASK, units));
  if (!train) {
    runTasks(
      dtype,
      "spatial_batchnorm_forward_test_range",
      ranges.map(([c0, c1]) => [p.out, p.mean, p.invstd, p.x, p.gamma, p.beta, p.runningMean, p.runningVar, N, C, S, eps, c0, c1]),
    );
  } else if (chunks === 1) {
    // One chunk per channel: the fused kernel (three passes per channel while it is in cache).
    runTasks(
      dtype,
      "spatial_batchnorm_forward_train_range",
      ranges.map(([c0, c1]) => [p.out, p.mean, p.invstd, p.runningMean, p.runningVar, p.x, p.gamma, p.beta, N, C, S, eps, momentum, unbiased ? 1 : 0, c0, c1]),
    );
  } else {
    const sums = sharedScratch("batch norm partial sums", units * 16);
    const squares = sums + units * 8;
    runTasks(
      dtype,
      "spatial_bn_sums_chunks",
      ranges.map(([u0, u1]) => [sums, p.x, N, C, S, G, chunks, u0, u1]),
    );
    runTasks(
      dtype,
      "spatial_bn_squares_chunks",
      ranges.map(([u0, u1]) => [squares, sums, p.x, N, C, S, G, chunks, u0, u1]),
    );
    runTasks(
      dtype,
      "spatial_bn_normalize_chunks",
      ranges.map(([u0, u1]) => [
        p.out,
        p.mean,
        p.invstd,
        p.runningMean,
        p.runningVar,
        sums,
        squares,
        p.x,
        p.gamma,
        p.beta,
        N,
        C,
        S,
        G,
        chunks,
        eps,
        momentum,
        unbiased ? 1 : 0,
        u0,
        u1,
      ]),
    );
  }
}

/** Spatial backward: dx (N, C, S), dgamma, dbeta (C) overwritten. */
export function spatialBatchNormBackward(
  dx: number,
  dgamma: number,
  dbeta: number,
  dout: number,
  x: number,
  gamma: number,
  mean: number,
  invstd: number,
  batchStats: boolean,
  N: number,
  C: number,
  S: number,
  dtype: DType,
): void {
  useFamily(NORM_KERNELS);
  const [G, chunks] = spatialBatchNormChunks(N, C);
  const units = C * chunks;
  const ranges = splitRange(units, taskCount(N * C * S, MIN_NORM_ELEMENTS_PER_TASK, units));
  const flag = batchStats ? 1 : 0;
  if (chunks === 1) {
    runTasks(
      dtype,
      "spatial_batchnorm_backward_range",
      ranges.map(([c0, c1]) => [dx, dgamma, dbeta, dout, x, gamma, mean, invstd, N, C, S, flag, c0, c1]),
    );
    return;
  }
  const sums = sharedScratch("batch norm partial sums", units * 16);
  runTasks(
    dtype,
    "spatial_bn_backward_sums_chunks",
    ranges.map(([u0, u1]) => [sums, dout, x, mean, invstd, N, C, S, G, chunks, u0, u1]),
  );
  runTasks(
    dtype,
    "spatial_bn_backward_dx_chunks",
    ranges.map(([u0, u1]) => [dx, dgamma, dbeta, sums, dout, x, gamma, mean, invstd, N, C, S, G, chunks, flag, u0, u1]),
  );
}
