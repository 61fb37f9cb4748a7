// Batch normalization for (N, D): per-feature statistics over the batch axis.
// train: mean and BIASED variance of the batch (the seed's torch.var without dim=0, one variance
//        over all elements, is a bug); running = momentum * running + (1 - momentum) * batch
// test:  the running statistics
// out = gamma * (x - mean) / sqrt(var + eps) + beta. Every number is computed in wasm.
import { batchNormBackward, batchNormForward } from "../ops/batchnorm.js";
import { allOrNothing, checkSameDtype, checkShape, checkTensor, empty, keep, zeros, type DType, type Tensor } from "../core/tensor.js";
import { checkEnum, checkNumber, checkOptions, shapeString } from "../core/validate.js";
import { checkCache } from "./linear.js";

/** "train": normalize with the batch's statistics and update the running ones; "test": use the running statistics. */
export type BatchNormMode = "train" | "test";

/** The course's bn_param. forward stores runningMean/runningVar back here (created as zeros). */
export interface BatchNormParam {
  /** Batch statistics and running-statistics update ("train") or the running statistics ("test"). */
  mode: BatchNormMode;
  /** Added to the variance; > 0. Default 1e-5. */
  eps?: number;
  /** Weight of the old running statistics; in [0, 1]. Default 0.9. */
  momentum?: number;
  /** Running mean, (D) for BatchNorm, (C) for SpatialBatchNorm; created as zeros by the first forward when absent, updated in place in train mode. */
  runningMean?: Tensor;
  /** Running variance, (D) for BatchNorm, (C) for SpatialBatchNorm; created as zeros by the first forward when absent, updated in place in train mode. */
  runningVar?: Tensor;
}

/**
 * A checked bnParam with its running statistics present.
 *
 * @inline
 */
export interface BatchNormState {
  /** "train" (batch statistics, running ones updated) or "test" (running statistics); set by loss(). */
  mode: BatchNormMode;
  /** Added to the variance before its square root. */
  eps: number;
  /** Weight of the old running statistics (the course's convention: 0.9 keeps 90%). */
  momentum: number;
  /** Running mean per feature or channel, (D) or (C). */
  runningMean: Tensor;
  /** Running variance per feature or channel, (D) or (C). */
  runningVar: Tensor;
}

/**
 * What backward needs. x and gamma are the forward inputs, by reference; mean and invstd are saved
 * buffers (the batch mean and 1/sqrt(var + eps) in train mode; a copy of the running mean and
 * 1/sqrt(runningVar + eps) in test mode). xhat is not stored: backward recomputes it bit-exactly.
 * x: (N, D) [or (N, C, H, W) for SpatialBatchNorm], gamma, mean, invstd: (D) [or (C)]
 */
export interface BatchNormCache {
  /** The forward input, by reference: (N, D), or (N, C, H, W) for SpatialBatchNorm. */
  x: Tensor;
  /** The scale gamma, (D) or (C), by reference. */
  gamma: Tensor;
  /** The mean the forward normalized with (batch or running), (D) or (C); owned by the cache. */
  mean: Tensor;
  /** 1 / sqrt(var + eps) the forward normalized with, (D) or (C); owned by the cache. */
  invstd: Tensor;
  /** The forward's mode: "test" treats mean and invstd as constants in backward. */
  mode: BatchNormMode;
}

const PARAM_KEYS = ["mode", "eps", "momentum", "runningMean", "runningVar"] as const;

/**
 * Checks bnParam for `features` features (or channels) and returns it with running statistics:
 * when absent they are created as zeros of shape (features) and stored back into bnParam, so the
 * caller sees them next call. Created statistics are kept out of any enclosing tidy (they are
 * state that outlives the step).
 */
export function resolveBatchNormParam(fn: string, bnParam: unknown, features: number, dtype: DType = "float32"): BatchNormState {
  if (bnParam === undefined) throw new TypeError(`${fn}: bnParam { mode: "train" | "test", ... } is required`);
  const o = checkOptions(fn, "bnParam", bnParam, PARAM_KEYS);
  const mode = checkEnum(fn, "bnParam.mode", o.mode, ["train", "test"] as const);
  const eps = o.eps === undefined ? 1e-5 : checkNumber(fn, "bnParam.eps", o.eps, { min: 0, minExclusive: true });
  if (dtype === "float32" && Math.fround(eps) === 0) throw new RangeError(`${fn}: bnParam.eps must be > 0 in float32 (got ${eps}, which rounds to 0)`);
  const momentum = o.momentum === undefined ? 0.9 : checkNumber(fn, "bnParam.momentum", o.momentum, { min: 0, max: 1 });
  const given = (name: "runningMean" | "runningVar"): Tensor | undefined => {
    if (o[name] === undefined) return undefined;
    checkTensor(fn, `bnParam.${name}`, o[name], 1);
    checkShape(fn, `bnParam.${name}`, o[name] as Tensor, [features], "one value per feature");
    if ((o[name] as Tensor).dtype !== dtype) {
      throw new TypeError(`${fn}: x is ${dtype} but bnParam.${name} is ${(o[name] as Tensor).dtype}; every tensor in one call must have the same dtype`);
    }
    return o[name] as Tensor;
  };
  // Both are checked before either is created, so a bad one leaves bnParam untouched.
  const mean = given("runningMean");
  const variance = given("runningVar");
  if (mean !== undefined && mean === variance) {
    throw new TypeError(`${fn}: bnParam.runningMean and bnParam.runningVar must be different tensors`);
  }
  const runningMean = mean ?? (o.runningMean = keep(zeros([features], { dtype })));
  const runningVar = variance ?? (o.runningVar = keep(zeros([features], { dtype })));
  return { mode, eps, momentum, runningMean, runningVar };
}

/** Checks gamma and beta are (features). */
export function checkScaleShift(fn: string, gamma: unknown, beta: unknown, features: number, what: string): void {
  checkTensor(fn, "gamma", gamma, 1);
  checkTensor(fn, "beta", beta, 1);
  checkShape(fn, "gamma", gamma as Tensor, [features], `one scale per ${what}`);
  checkShape(fn, "beta", beta as Tensor, [features], `one shift per ${what}`);
}

/** Checks x is (N, D) with N >= 1, D >= 1 and gamma, beta are (D); returns [N, D]. */
export function batchNormDims(fn: string, x: unknown, gamma: unknown, beta: unknown): [number, number] {
  checkTensor(fn, "x", x, 2);
  const [N, D] = (x as Tensor).shape;
  if (N < 1) throw new RangeError(`${fn}: x must have at least one row (got shape ${shapeString((x as Tensor).shape)})`);
  if (D < 1) throw new RangeError(`${fn}: x must have at least one feature (got shape ${shapeString((x as Tensor).shape)})`);
  checkScaleShift(fn, gamma, beta, D, `feature of x ${shapeString((x as Tensor).shape)}`);
  checkSameDtype(fn, [
    ["x", x as Tensor],
    ["gamma", gamma as Tensor],
    ["beta", beta as Tensor],
  ]);
  return [N, D];
}

/**
 * Forward into preallocated buffers. Train mode also updates state.runningMean/runningVar in place.
 * out, x: (N, D); mean, invstd: (D) saved for backward; gamma, beta: (D). out may be x itself
 * (then backward cannot be used).
 */
export function batchNormForwardInto(
  out: Tensor,
  mean: Tensor,
  invstd: Tensor,
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  state: BatchNormState,
  N: number,
  D: number,
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
  batchNormForward(p, state.mode === "train", state.eps, state.momentum, false, N, D, x.dtype);
}

/**
 * Backward into preallocated buffers: dx (N, D), dgamma, dbeta (D), overwritten. dout, x: (N, D);
 * gamma, mean, invstd: (D) as saved by forward. mode is the forward's: a train-mode forward gives
 * the full batch-statistics gradient, a test-mode one treats the statistics as constants.
 * dx may be dout itself.
 */
export function batchNormBackwardInto(
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
  D: number,
): void {
  batchNormBackward(dx.ptr, dgamma.ptr, dbeta.ptr, dout.ptr, x.ptr, gamma.ptr, mean.ptr, invstd.ptr, mode === "train", N, D, x.dtype);
}

/** The running statistics are updated in place (Tensor.version). */
export function markRunningWritten(state: BatchNormState): void {
  state.runningMean.markWritten();
  state.runningVar.markWritten();
}

/** Checks a cache's saved buffers against its x (shared by both batch-norm layers). */
export function checkBatchNormCache(fn: string, cache: unknown, features: (x: Tensor) => number): BatchNormCache {
  const c = checkCache(fn, cache, ["x", "gamma", "mean", "invstd", "mode"]) as unknown as BatchNormCache;
  checkTensor(fn, "cache.x", c.x);
  const F = features(c.x);
  for (const name of ["gamma", "mean", "invstd"] as const) {
    checkTensor(fn, `cache.${name}`, c[name], 1);
    checkShape(fn, `cache.${name}`, c[name], [F], "one value per feature");
  }
  checkEnum(fn, "cache.mode", c.mode, ["train", "test"] as const);
  checkSameDtype(fn, [
    ["cache.x", c.x],
    ["cache.gamma", c.gamma],
    ["cache.mean", c.mean],
    ["cache.invstd", c.invstd],
  ]);
  return c;
}

const batchNormUnguarded = {
  /**
   * x: (N, D), gamma, beta: (D) -> out: (N, D). bnParam: { mode, eps = 1e-5, momentum = 0.9,
   * runningMean?, runningVar? }; train mode updates the running statistics (stored back in bnParam).
   */
  forward(x: Tensor, gamma: Tensor, beta: Tensor, bnParam: BatchNormParam): [Tensor, BatchNormCache] {
    const fn = "BatchNorm.forward";
    const [N, D] = batchNormDims(fn, x, gamma, beta);
    const state = resolveBatchNormParam(fn, bnParam, D, x.dtype);
    const out = empty([N, D], fn, x.dtype);
    const mean = empty([D], fn, x.dtype);
    const invstd = empty([D], fn, x.dtype);
    batchNormForwardInto(out, mean, invstd, x, gamma, beta, state, N, D);
    return [out, { x, gamma, mean, invstd, mode: state.mode }];
  },

  /** Returns [dx (N, D), dgamma (D), dbeta (D)]. dout: (N, D). The compact closed form. */
  backward(dout: Tensor, cache: BatchNormCache): [Tensor, Tensor, Tensor] {
    const fn = "BatchNorm.backward";
    const { x, gamma, mean, invstd, mode } = checkBatchNormCache(fn, cache, (x) => {
      checkTensor(fn, "cache.x", x, 2);
      return x.shape[1];
    });
    const [N, D] = x.shape;
    checkTensor(fn, "dout", dout);
    checkShape(fn, "dout", dout, x.shape, "the forward output's shape");
    checkSameDtype(fn, [
      ["dout", dout],
      ["cache.x", x],
    ]);
    const dx = empty([N, D], fn, x.dtype);
    const dgamma = empty([D], fn, x.dtype);
    const dbeta = empty([D], fn, x.dtype);
    batchNormBackwardInto(dx, dgamma, dbeta, dout, x, gamma, mean, invstd, mode, N, D);
    return [dx, dgamma, dbeta];
  },
};

// Each method under allOrNothing; a plain object, so unused it tree-shakes away (see linear.ts).
/**
 * Batch normalization of (N, D) inputs with an explicit forward and backward (the course's
 * batchnorm_forward / batchnorm_backward_alt; PyTorch's F.batch_norm, whose momentum is 1 minus
 * this one's). A forward or backward that throws frees what it allocated. For composed models use
 * tl.nn.batchNorm1d.
 *
 * @namespace
 */
export const BatchNorm: typeof batchNormUnguarded = {
  forward: (...args) => allOrNothing(() => batchNormUnguarded.forward(...args)),
  backward: (...args) => allOrNothing(() => batchNormUnguarded.backward(...args)),
};
