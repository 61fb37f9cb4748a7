// The course's Linear_ReLU sandwich: Linear then ReLU, one cache for both. The ReLU is applied in
// the product's store (one pass, the bits of the two layers); its cache holds the output, which is
// positive exactly where the pre-activation is, so backward's mask is the same.
import { allOrNothing, empty, type Tensor } from "../core/tensor.js";
import { Linear, checkCache, linearDims, linearForwardInto, type LinearCache } from "./linear.js";
import { ReLU, type ReLUCache } from "./relu.js";

/** What LinearReLU.backward needs: the two layers' caches. */
export interface LinearReLUCache {
  /** The affine layer's cache (x, w, b). */
  fcCache: LinearCache;
  /** x: the layer's output (N, M) (backward reads where it is positive). */
  reluCache: ReLUCache;
}

const linearReLUUnguarded = {
  /** out = max(x_flat · w + b, 0). Returns [out (N, M), cache]. */
  forward(x: Tensor, w: Tensor, b: Tensor): [Tensor, LinearReLUCache] {
    const fn = "Linear.forward";
    const [N, D, M] = linearDims(fn, x, w, b);
    const out = empty([N, M], fn, x.dtype);
    linearForwardInto(out, x, w, b, N, D, M, true);
    return [out, { fcCache: { x, w, b }, reluCache: { x: out } }];
  },

  /** Returns [dx, dw, db]. The intermediate ReLU gradient is freed here; the cache is left as it was. */
  backward(dout: Tensor, cache: LinearReLUCache): [Tensor, Tensor, Tensor] {
    const { fcCache, reluCache } = checkCache("LinearReLU.backward", cache, ["fcCache", "reluCache"]) as unknown as LinearReLUCache;
    const da = ReLU.backward(dout, reluCache);
    try {
      return Linear.backward(da, fcCache);
    } finally {
      da.dispose();
    }
  },
};

// Each method under allOrNothing; a plain object, so unused it tree-shakes away (see linear.ts).
/**
 * Affine layer followed by ReLU as one layer (the course's affine_relu_forward /
 * affine_relu_backward): x (N, ...), w (D, M), b (M) -> out (N, M). A forward or backward that
 * throws frees what it allocated.
 *
 * @namespace
 */
export const LinearReLU: typeof linearReLUUnguarded = {
  forward: (...args) => allOrNothing(() => linearReLUUnguarded.forward(...args)),
  backward: (...args) => allOrNothing(() => linearReLUUnguarded.backward(...args)),
};
