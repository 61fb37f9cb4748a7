// The course's Linear_ReLU sandwich: Linear then ReLU, one cache for both.
import { allOrNothing, type Tensor } from "../tensor.js";
import { Linear, checkCache, type LinearCache } from "./linear.js";
import { ReLU, type ReLUCache } from "./relu.js";

export interface LinearReLUCache {
  fcCache: LinearCache;
  reluCache: ReLUCache;
}

const linearReLUUnguarded = {
  /** out = max(x_flat · w + b, 0). Returns [out (N, M), cache]. */
  forward(x: Tensor, w: Tensor, b: Tensor): [Tensor, LinearReLUCache] {
    const [a, fcCache] = Linear.forward(x, w, b);
    const [out, reluCache] = ReLU.forward(a);
    return [out, { fcCache, reluCache }];
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
export const LinearReLU: typeof linearReLUUnguarded = {
  forward: (...args) => allOrNothing(() => linearReLUUnguarded.forward(...args)),
  backward: (...args) => allOrNothing(() => linearReLUUnguarded.backward(...args)),
};
