// Max-pooling layer, NCHW, no padding. x: (N, C, H, W) -> out: (N, C, Ho, Wo) with
//   Ho = 1 + floor((H - poolHeight) / stride),  Wo = 1 + floor((W - poolWidth) / stride)
// (floor as in PyTorch: rows/columns no window reaches are ignored and get zero gradient).
// Forward saves the argmax of every window (its index in the H·W plane, as an exact float) so
// backward is a scatter-add: the gradient goes to the argmax, and overlapping windows
// (stride < window) accumulate. Ties go to the first maximum in row-major order; NaN propagates.
import { maxPoolBackward, maxPoolForward, type PoolSizes } from "../ops/pool.js";
import { allOrNothing, checkSameDtype, checkShape, checkTensor, empty, type Tensor } from "../core/tensor.js";
import { checkInteger, checkOptions, shapeString } from "../core/validate.js";
import { checkStep } from "./conv.js";
import { checkCache } from "./linear.js";

/** The course's pool_param: window size and stride of MaxPool.forward, all required (no padding). */
export interface PoolParam {
  /** Window height, an integer >= 1, at most H. */
  poolHeight: number;
  /** Window width, an integer >= 1, at most W. */
  poolWidth: number;
  /** Step between windows on both axes, an integer >= 1. */
  stride: number;
}

export interface PoolDims {
  N: number;
  C: number;
  H: number;
  W: number;
  poolHeight: number;
  poolWidth: number;
  stride: number;
  Ho: number;
  Wo: number;
}

/**
 * x: the forward input (N, C, H, W), by reference; argmax: (N, C, Ho, Wo), the winner's index in
 * its H·W plane as an exact integer of x's dtype (owned by the cache).
 */
export interface MaxPoolCache {
  /** The forward input, (N, C, H, W). */
  x: Tensor;
  /** Index of each window's maximum in its H·W plane, (N, C, Ho, Wo), in x's dtype. */
  argmax: Tensor;
  /** The forward's poolParam. */
  poolParam: PoolParam;
}

/** Argmax indices are stored as float32, exact up to 2^24: one plane may hold at most that many pixels. */
const MAX_PLANE = 2 ** 24;

/** Checks poolParam: integers poolHeight, poolWidth, stride >= 1, all required. */
export function checkPoolParam(fn: string, poolParam: unknown, name = "poolParam"): PoolParam {
  if (poolParam === undefined) throw new TypeError(`${fn}: ${name} { poolHeight, poolWidth, stride } is required`);
  const o = checkOptions(fn, name, poolParam, ["poolHeight", "poolWidth", "stride"]);
  const poolHeight = checkInteger(fn, `${name}.poolHeight`, o.poolHeight, 1);
  const poolWidth = checkInteger(fn, `${name}.poolWidth`, o.poolWidth, 1);
  // Bounded like a conv stride: larger is meaningless and would overflow the kernels' i32 indices.
  const stride = checkStep(fn, `${name}.stride`, o.stride, 1);
  return { poolHeight, poolWidth, stride };
}

/** Checks x and poolParam agree and the output is non-empty; returns the sizes. `prefix` as for linearDims. */
export function poolDims(fn: string, x: Tensor, poolParam: unknown, prefix = ""): PoolDims {
  checkTensor(fn, `${prefix}x`, x, 4);
  const { poolHeight, poolWidth, stride } = checkPoolParam(fn, poolParam, `${prefix}poolParam`);
  const [N, C, H, W] = x.shape;
  const xs = shapeString(x.shape);
  if (N === 0 || C === 0 || H === 0 || W === 0) throw new RangeError(`${fn}: ${prefix}x must have no zero-sized dimension (N, C, H, W) (got ${xs})`);
  if (poolHeight > H || poolWidth > W) {
    throw new RangeError(
      `${fn}: the ${poolHeight}x${poolWidth} pooling window is larger than the ${H}x${W} input (${prefix}x ${xs}): the output would be empty`,
    );
  }
  if (H * W > MAX_PLANE) throw new RangeError(`${fn}: one H·W plane may hold at most ${MAX_PLANE} pixels (got ${H}x${W} in ${prefix}x ${xs})`);
  const Ho = 1 + Math.floor((H - poolHeight) / stride);
  const Wo = 1 + Math.floor((W - poolWidth) / stride);
  return { N, C, H, W, poolHeight, poolWidth, stride, Ho, Wo };
}

function poolSizes(d: PoolDims): PoolSizes {
  return { planes: d.N * d.C, H: d.H, W: d.W, ph: d.poolHeight, pw: d.poolWidth, stride: d.stride, Ho: d.Ho, Wo: d.Wo };
}

/**
 * out, argmax: (N, C, Ho, Wo) from x: (N, C, H, W); argmax null: out only (inference, same values).
 * Shapes are trusted (check once with poolDims).
 */
export function maxPoolForwardInto(out: Tensor, argmax: Tensor | null, x: Tensor, d: PoolDims): void {
  maxPoolForward(out.ptr, argmax === null ? 0 : argmax.ptr, x.ptr, poolSizes(d), x.dtype);
}

/** dx: (N, C, H, W), overwritten; dout, argmax: (N, C, Ho, Wo), argmax from maxPoolForwardInto with the same dims. */
export function maxPoolBackwardInto(dx: Tensor, dout: Tensor, argmax: Tensor, d: PoolDims): void {
  maxPoolBackward(dx.ptr, dout.ptr, argmax.ptr, poolSizes(d), dx.dtype);
}

/**
 * The kernel writes dx at each argmax index, so an index from a forged or edited cache would write
 * outside dx (into other tensors, or past wasm memory). One pass on the host keeps that out.
 */
function checkArgmax(fn: string, argmax: Tensor, d: PoolDims): void {
  const view = argmax.view(); // nothing allocates below
  const plane = d.H * d.W;
  for (let i = 0; i < argmax.size; i++) {
    const a = view[i];
    if (!(a >= 0 && a < plane && Number.isInteger(a))) {
      throw new RangeError(`${fn}: cache.argmax[${i}] is ${a}, not a position in the ${d.H}x${d.W} plane: pass the cache MaxPool.forward returned, unedited`);
    }
  }
}

/**
 * Caches MaxPool.forward made, with what they held then. backward trusts the argmax of such a
 * cache while it still holds the same x, argmax and pool sizes (its indices came from the kernel),
 * and scans every index only for a cache it did not make (forged, or with a field replaced).
 */
const madeByForward = new WeakMap<object, { x: Tensor; argmax: Tensor; poolHeight: number; poolWidth: number; stride: number }>();

/** Whether backward would skip the argmax scan for this cache (exported for tests). */
export function maxPoolCacheIsTrusted(cache: MaxPoolCache): boolean {
  const made = madeByForward.get(cache);
  const p = cache.poolParam;
  return (
    made !== undefined &&
    made.x === cache.x &&
    made.argmax === cache.argmax &&
    made.poolHeight === p.poolHeight &&
    made.poolWidth === p.poolWidth &&
    made.stride === p.stride
  );
}

const maxPoolUnguarded = {
  /** x: (N, C, H, W), poolParam { poolHeight, poolWidth, stride } -> [out (N, C, Ho, Wo), cache] */
  forward(x: Tensor, poolParam: PoolParam): [Tensor, MaxPoolCache] {
    const fn = "MaxPool.forward";
    const d = poolDims(fn, x, poolParam);
    const out = empty([d.N, d.C, d.Ho, d.Wo], fn, x.dtype);
    const argmax = empty([d.N, d.C, d.Ho, d.Wo], fn, x.dtype);
    maxPoolForwardInto(out, argmax, x, d);
    const { poolHeight, poolWidth, stride } = d;
    const cache: MaxPoolCache = { x, argmax, poolParam: { poolHeight, poolWidth, stride } };
    madeByForward.set(cache, { x, argmax, poolHeight, poolWidth, stride });
    return [out, cache];
  },

  /** Returns dx (N, C, H, W). dout: (N, C, Ho, Wo) */
  backward(dout: Tensor, cache: MaxPoolCache): Tensor {
    const fn = "MaxPool.backward";
    const { x, argmax, poolParam } = checkCache(fn, cache, ["x", "argmax", "poolParam"]) as unknown as MaxPoolCache;
    const d = poolDims(fn, x, poolParam, "cache.");
    checkTensor(fn, "cache.argmax", argmax);
    checkShape(fn, "cache.argmax", argmax, [d.N, d.C, d.Ho, d.Wo], "the forward output's shape");
    checkTensor(fn, "dout", dout);
    checkShape(fn, "dout", dout, [d.N, d.C, d.Ho, d.Wo], "the forward output's shape");
    checkSameDtype(fn, [
      ["dout", dout],
      ["cache.x", x],
      ["cache.argmax", argmax],
    ]);
    if (!maxPoolCacheIsTrusted(cache)) checkArgmax(fn, argmax, d); // O(size) on the host: only for caches forward did not make
    const dx = empty(x.shape, fn, x.dtype);
    maxPoolBackwardInto(dx, dout, argmax, d);
    return dx;
  },
};

// Each method under allOrNothing; a plain object, so unused it tree-shakes away (see linear.ts).
/**
 * Max pooling of (N, C, H, W) inputs with an explicit forward and backward (the course's
 * max_pool_forward_fast / max_pool_backward_fast; PyTorch's F.max_pool2d without padding): out
 * (N, C, Ho, Wo), Ho = 1 + floor((H - poolHeight) / stride). A forward or backward that throws
 * frees what it allocated. For composed models use tl.nn.maxPool2d.
 *
 * @namespace
 */
export const MaxPool: typeof maxPoolUnguarded = {
  forward: (...args) => allOrNothing(() => maxPoolUnguarded.forward(...args)),
  backward: (...args) => allOrNothing(() => maxPoolUnguarded.backward(...args)),
};
