// The course's conv sandwiches: Conv-ReLU and Conv-ReLU-MaxPool, one cache for the whole stack.
// The intermediate activations live on in the caches (backward needs them); dispose the caches'
// tensors (or use tidy) when done.
import { allOrNothing, type Tensor } from "../core/tensor.js";
import { Conv, type ConvCache, type ConvParam } from "./conv.js";
import { checkCache } from "./linear.js";
import { MaxPool, type MaxPoolCache, type PoolParam } from "./maxpool.js";
import { ReLU, type ReLUCache } from "./relu.js";

/** What ConvReLU.backward needs: the two layers' caches. */
export interface ConvReLUCache {
  /** The convolution's cache (x, w, b, convParam). */
  convCache: ConvCache;
  /** The ReLU's cache: its input is the convolution's output (N, F, Ho, Wo). */
  reluCache: ReLUCache;
}

/** What ConvReLUPool.backward needs: the three layers' caches. */
export interface ConvReLUPoolCache {
  /** The convolution's cache (x, w, b, convParam). */
  convCache: ConvCache;
  /** The ReLU's cache: its input is the convolution's output (N, F, Ho, Wo). */
  reluCache: ReLUCache;
  /** The max pooling's cache: its input is the ReLU's output, with the argmax indices. */
  poolCache: MaxPoolCache;
}

const convReLUUnguarded = {
  /** out = max(conv(x, w) + b, 0). Returns [out (N, F, Ho, Wo), cache]. */
  forward(x: Tensor, w: Tensor, b: Tensor, convParam: ConvParam = {}): [Tensor, ConvReLUCache] {
    const [a, convCache] = Conv.forward(x, w, b, convParam);
    const [out, reluCache] = ReLU.forward(a);
    return [out, { convCache, reluCache }];
  },

  /** Returns [dx, dw, db]. */
  backward(dout: Tensor, cache: ConvReLUCache): [Tensor, Tensor, Tensor] {
    const { convCache, reluCache } = checkCache("ConvReLU.backward", cache, ["convCache", "reluCache"]) as unknown as ConvReLUCache;
    const da = ReLU.backward(dout, reluCache);
    try {
      return Conv.backward(da, convCache);
    } finally {
      da.dispose();
    }
  },
};

// Each method under allOrNothing; a plain object, so unused it tree-shakes away (see linear.ts).
/**
 * Convolution followed by ReLU as one layer (the course's conv_relu_forward / conv_relu_backward):
 * x (N, C, H, W), w (F, C, HH, WW), b (F) -> out (N, F, Ho, Wo). A forward or backward that
 * throws frees what it allocated.
 *
 * @namespace
 */
export const ConvReLU: typeof convReLUUnguarded = {
  forward: (...args) => allOrNothing(() => convReLUUnguarded.forward(...args)),
  backward: (...args) => allOrNothing(() => convReLUUnguarded.backward(...args)),
};

const convReLUPoolUnguarded = {
  /** out = maxpool(max(conv(x, w) + b, 0)). Returns [out (N, F, Hp, Wp), cache]. */
  forward(x: Tensor, w: Tensor, b: Tensor, convParam: ConvParam, poolParam: PoolParam): [Tensor, ConvReLUPoolCache] {
    const [a, convCache] = Conv.forward(x, w, b, convParam);
    let s: Tensor | null = null;
    try {
      const [relu, reluCache] = ReLU.forward(a);
      s = relu;
      const [out, poolCache] = MaxPool.forward(s, poolParam);
      return [out, { convCache, reluCache, poolCache }];
    } catch (error) {
      // A bad poolParam: free what this call made before rethrowing.
      a.dispose();
      s?.dispose();
      throw error;
    }
  },

  /** Returns [dx, dw, db]. */
  backward(dout: Tensor, cache: ConvReLUPoolCache): [Tensor, Tensor, Tensor] {
    const { convCache, reluCache, poolCache } = checkCache("ConvReLUPool.backward", cache, [
      "convCache",
      "reluCache",
      "poolCache",
    ]) as unknown as ConvReLUPoolCache;
    const ds = MaxPool.backward(dout, poolCache);
    let da: Tensor | null = null;
    try {
      da = ReLU.backward(ds, reluCache);
      return Conv.backward(da, convCache);
    } finally {
      ds.dispose();
      da?.dispose();
    }
  },
};

// Each method under allOrNothing; a plain object, so unused it tree-shakes away (see linear.ts).
/**
 * Convolution, ReLU and max pooling as one layer (the course's conv_relu_pool_forward /
 * conv_relu_pool_backward): x (N, C, H, W) -> out (N, F, Hp, Wp). A forward or backward that
 * throws frees what it allocated.
 *
 * @namespace
 */
export const ConvReLUPool: typeof convReLUPoolUnguarded = {
  forward: (...args) => allOrNothing(() => convReLUPoolUnguarded.forward(...args)),
  backward: (...args) => allOrNothing(() => convReLUPoolUnguarded.backward(...args)),
};
