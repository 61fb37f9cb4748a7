// Spatial batch normalization for NCHW: statistics per channel over N, H and W. The kernels walk
// NCHW directly (each channel is N contiguous runs of H*W values): no transposed copy is made.
// Same semantics, bnParam and cache as BatchNorm, with C in place of D.
import { spatialBatchNormBackward, spatialBatchNormForward } from "../ops/batchnorm.js";
import { allOrNothing, checkSameDtype, checkShape, checkTensor, empty, type Tensor } from "../core/tensor.js";
import { shapeString } from "../core/validate.js";
import {
  checkBatchNormCache,
  checkScaleShift,
  markRunningWritten,
  resolveBatchNormParam,
  type BatchNormCache,
  type BatchNormMode,
  type BatchNormParam,
  type BatchNormState,
} from "./batchnorm.js";

/** What SpatialBatchNorm.backward needs: a BatchNormCache with x (N, C, H, W) and per-channel (C) statistics. */
export type SpatialBatchNormCache = BatchNormCache;

/** Checks x is (N, C, H, W) with N, C, H, W >= 1 and gamma, beta are (C); returns [N, C, H*W]. */
export function spatialBatchNormDims(fn: string, x: unknown, gamma: unknown, beta: unknown): [number, number, number] {
  checkTensor(fn, "x", x, 4);
  const shape = (x as Tensor).shape;
  const [N, C, H, W] = shape;
  if (N < 1 || C < 1 || H < 1 || W < 1) {
    throw new RangeError(`${fn}: x must be (N, C, H, W) with every dimension >= 1 (got shape ${shapeString(shape)})`);
  }
  checkScaleShift(fn, gamma, beta, C, `channel of x ${shapeString(shape)}`);
  checkSameDtype(fn, [
    ["x", x as Tensor],
    ["gamma", gamma as Tensor],
    ["beta", beta as Tensor],
  ]);
  return [N, C, H * W];
}

/**
 * Forward into preallocated buffers; train mode also updates the running statistics in place.
 * out, x: (N, C, H, W) seen as (N, C, S) with S = H*W; mean, invstd: (C) saved for backward;
 * gamma, beta: (C). out may be x itself (then backward cannot be used).
 */
export function spatialBatchNormForwardInto(
  out: Tensor,
  mean: Tensor,
  invstd: Tensor,
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  state: BatchNormState,
  N: number,
  C: number,
  S: number,
): void {
  const p = {
    out: out.ptr,
    mean: mean.ptr,
    invstd: invstd.ptr,
    x: x.ptr,
    gamma: gamma.ptr,
    beta: beta.ptr,
    runningMean: state.runningMean.ptr,
    runningVar: state.runningVar.ptr,
  };
  if (state.mode === "train") markRunningWritten(state);
  spatialBatchNormForward(p, state.mode === "train", state.eps, state.momentum, false, N, C, S, x.dtype);
}

/**
 * Backward into preallocated buffers: dx (N, C, H, W), dgamma, dbeta (C), overwritten.
 * dout, x: (N, C, H, W); gamma, mean, invstd: (C) as saved by forward; mode is the forward's.
 * dx may be dout itself.
 */
export function spatialBatchNormBackwardInto(
  dx: Tensor,
  dgamma: Tensor,
  dbeta: Tensor,
  dout: Tensor,
  x: Tensor,
  gamma: Tensor,
  mean: Tensor,
  invstd: Tensor,
  mode: BatchNormMode,
  N: number,
  C: number,
  S: number,
): void {
  spatialBatchNormBackward(dx.ptr, dgamma.ptr, dbeta.ptr, dout.ptr, x.ptr, gamma.ptr, mean.ptr, invstd.ptr, mode === "train", N, C, S, x.dtype);
}

const spatialBatchNormUnguarded = {
  /** x: (N, C, H, W), gamma, beta: (C) -> out: (N, C, H, W). bnParam as for BatchNorm, stats of shape (C). */
  forward(x: Tensor, gamma: Tensor, beta: Tensor, bnParam: BatchNormParam): [Tensor, SpatialBatchNormCache] {
    const fn = "SpatialBatchNorm.forward";
    const [N, C, S] = spatialBatchNormDims(fn, x, gamma, beta);
    const state = resolveBatchNormParam(fn, bnParam, C, x.dtype);
    const out = empty(x.shape, fn, x.dtype);
    const mean = empty([C], fn, x.dtype);
    const invstd = empty([C], fn, x.dtype);
    spatialBatchNormForwardInto(out, mean, invstd, x, gamma, beta, state, N, C, S);
    return [out, { x, gamma, mean, invstd, mode: state.mode }];
  },

  /** Returns [dx (N, C, H, W), dgamma (C), dbeta (C)]. dout: (N, C, H, W). */
  backward(dout: Tensor, cache: SpatialBatchNormCache): [Tensor, Tensor, Tensor] {
    const fn = "SpatialBatchNorm.backward";
    const { x, gamma, mean, invstd, mode } = checkBatchNormCache(fn, cache, (x) => {
      checkTensor(fn, "cache.x", x, 4);
      return x.shape[1];
    });
    const [N, C, H, W] = x.shape;
    checkTensor(fn, "dout", dout);
    checkShape(fn, "dout", dout, x.shape, "the forward output's shape");
    checkSameDtype(fn, [
      ["dout", dout],
      ["cache.x", x],
    ]);
    const dx = empty(x.shape, fn, x.dtype);
    const dgamma = empty([C], fn, x.dtype);
    const dbeta = empty([C], fn, x.dtype);
    spatialBatchNormBackwardInto(dx, dgamma, dbeta, dout, x, gamma, mean, invstd, mode, N, C, H * W);
    return [dx, dgamma, dbeta];
  },
};

// Each method under allOrNothing; a plain object, so unused it tree-shakes away (see linear.ts).
/**
 * Batch normalization of (N, C, H, W) inputs per channel, over batch and space, with an explicit
 * forward and backward (the course's spatial_batchnorm_forward / spatial_batchnorm_backward;
 * PyTorch's BatchNorm2d). A forward or backward that throws frees what it allocated. For composed
 * models use tl.nn.batchNorm2d.
 *
 * @namespace
 */
export const SpatialBatchNorm: typeof spatialBatchNormUnguarded = {
  forward: (...args) => allOrNothing(() => spatialBatchNormUnguarded.forward(...args)),
  backward: (...args) => allOrNothing(() => spatialBatchNormUnguarded.backward(...args)),
};
