// Linear (affine) layer: out = x.reshape(N, D) · w + b.
import { gemm } from "../ops/gemm.js";
import { packedWeights } from "../ops/packed-weights.js";
import { sumRows } from "../ops/reduce.js";
import { allOrNothing, checkSameDtype, checkShape, checkTensor, empty, sizeOf, type Tensor } from "../core/tensor.js";
import { shapeString } from "../core/validate.js";

/** What backward needs: the forward inputs, by reference. x: (N, d1, ..., dk), w: (D, M), b: (M) */
export interface LinearCache {
  /** The forward input x, (N, d1, ..., dk) (flattened to (N, D) by the layer). */
  x: Tensor;
  /** The weight w, (D, M). */
  w: Tensor;
  /** The bias b, (M). */
  b: Tensor;
}

/** Checks x, w, b agree; returns [N, D, M]. `prefix` names where they came from ("cache." in backward). */
export function linearDims(fn: string, x: Tensor, w: Tensor, b: Tensor, prefix = ""): [number, number, number] {
  checkTensor(fn, `${prefix}x`, x);
  checkTensor(fn, `${prefix}w`, w, 2);
  checkTensor(fn, `${prefix}b`, b, 1);
  if (x.shape.length < 1) throw new RangeError(`${fn}: ${prefix}x must have a batch dimension (got a scalar)`);
  const [D, M] = w.shape;
  const N = x.shape[0];
  const xD = sizeOf(x.shape.slice(1));
  if (xD !== D) {
    throw new RangeError(
      `${fn}: ${prefix}x has ${xD} features per row (shape ${shapeString(x.shape)}) but ${prefix}w expects ${D} (shape ${shapeString(w.shape)})`,
    );
  }
  checkShape(fn, `${prefix}b`, b, [M], `one bias per output of ${prefix}w ${shapeString(w.shape)}`);
  checkSameDtype(fn, [
    [`${prefix}x`, x],
    [`${prefix}w`, w],
    [`${prefix}b`, b],
  ]);
  return [N, D, M];
}

/**
 * out = x_flat · w + b, or max(x_flat · w + b, 0) with `relu` (applied in the product's store: the
 * bits of the two ops). out: (N, M). w is read from its packing when one is current (packed-weights.ts).
 */
export function linearForwardInto(out: Tensor, x: Tensor, w: Tensor, b: Tensor, N: number, D: number, M: number, relu = false): void {
  const packedB = packedWeights(w, false, M, D);
  gemm("nn", out.ptr, x.ptr, w.ptr, N, M, D, { bias: b.ptr, dtype: out.dtype, relu, packedB });
}

/**
 * dx = dout · wᵀ (skipped when dx is null), dw = x_flatᵀ · dout, db = sum_n dout.
 * dx: (N, D), dw: (D, M), db: (M), dout: (N, M)
 */
export function linearBackwardInto(dx: Tensor | null, dw: Tensor, db: Tensor, dout: Tensor, x: Tensor, w: Tensor, N: number, D: number, M: number): void {
  const dtype = dw.dtype;
  if (dx) gemm("nt", dx.ptr, dout.ptr, w.ptr, N, D, M, { dtype });
  gemm("tn", dw.ptr, x.ptr, dout.ptr, D, M, N, { dtype });
  sumRows(db.ptr, dout.ptr, N, M, false, dtype);
}

const linearUnguarded = {
  /** out = x.reshape(N, -1) · w + b. x: (N, d1, ..., dk), w: (D, M), b: (M) -> out: (N, M) */
  forward(x: Tensor, w: Tensor, b: Tensor): [Tensor, LinearCache] {
    const [N, D, M] = linearDims("Linear.forward", x, w, b);
    const out = empty([N, M], "Linear.forward", x.dtype);
    linearForwardInto(out, x, w, b, N, D, M);
    return [out, { x, w, b }];
  },

  /** Returns [dx (x's original shape), dw (D, M), db (M)]. dout: (N, M) */
  backward(dout: Tensor, cache: LinearCache): [Tensor, Tensor, Tensor] {
    const fn = "Linear.backward";
    const { x, w, b } = checkCache(fn, cache, ["x", "w", "b"]) as unknown as LinearCache;
    const [N, D, M] = linearDims(fn, x, w, b, "cache.");
    checkTensor(fn, "dout", dout);
    checkShape(fn, "dout", dout, [N, M], "the forward output's shape");
    checkSameDtype(fn, [
      ["dout", dout],
      ["cache.x", x],
    ]);
    const dx = empty(x.shape, fn, x.dtype);
    const dw = empty([D, M], fn, x.dtype);
    const db = empty([M], fn, x.dtype);
    linearBackwardInto(dx, dw, db, dout, x, w, N, D, M);
    return [dx, dw, db];
  },
};

// The public object runs each method under allOrNothing: a forward or backward that throws midway
// (say, out of memory at its second buffer) disposes what it allocated. It is a plain object of
// arrow functions, not a call at module scope, so a bundler drops it (and the layer) when unused.
/**
 * The course's affine layer (affine_forward / affine_backward; PyTorch's F.linear with w
 * transposed): out = x.reshape(N, -1) · w + b. A forward or backward that throws frees what it
 * allocated. For composed models use tl.nn.linear.
 *
 * @namespace
 */
export const Linear: typeof linearUnguarded = {
  forward: (...args) => allOrNothing(() => linearUnguarded.forward(...args)),
  backward: (...args) => allOrNothing(() => linearUnguarded.backward(...args)),
};

/** Checks a cache object has the named fields; a clear error instead of "undefined.ptr". */
export function checkCache(fn: string, cache: unknown, fields: readonly string[]): Record<string, unknown> {
  if (cache === null || typeof cache !== "object") {
    throw new TypeError(`${fn}: cache must be the cache returned by forward (got ${cache === null ? "null" : typeof cache})`);
  }
  for (const f of fields) {
    if (!(f in cache)) throw new TypeError(`${fn}: cache is missing "${f}": pass the cache returned by the matching forward`);
  }
  return cache as Record<string, unknown>;
}
