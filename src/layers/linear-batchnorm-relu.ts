// The course's fc - batchnorm - relu sandwich, one cache for the three layers.
import { allOrNothing, type Tensor } from "../core/tensor.js";
import { BatchNorm, type BatchNormCache, type BatchNormParam } from "./batchnorm.js";
import { Linear, checkCache, type LinearCache } from "./linear.js";
import { ReLU, type ReLUCache } from "./relu.js";

/** What LinearBatchNormReLU.backward needs: the three layers' caches. */
export interface LinearBatchNormReLUCache {
  /** The affine layer's cache (x, w, b). */
  fcCache: LinearCache;
  /** The batch normalization's cache: its input is the affine output (N, M). */
  bnCache: BatchNormCache;
  /** The ReLU's cache: its input is the normalized output (N, M). */
  reluCache: ReLUCache;
}

const linearBatchNormReLUUnguarded = {
  /** out = relu(batchnorm(x_flat · w + b)). x: (N, ...), w: (D, M), b, gamma, beta: (M) -> out: (N, M). */
  forward(x: Tensor, w: Tensor, b: Tensor, gamma: Tensor, beta: Tensor, bnParam: BatchNormParam): [Tensor, LinearBatchNormReLUCache] {
    const [a, fcCache] = Linear.forward(x, w, b);
    let an: Tensor, bnCache: BatchNormCache;
    try {
      [an, bnCache] = BatchNorm.forward(a, gamma, beta, bnParam);
    } catch (error) {
      a.dispose(); // a bad bnParam or gamma: nothing escapes
      throw error;
    }
    const [out, reluCache] = ReLU.forward(an);
    return [out, { fcCache, bnCache, reluCache }];
  },

  /** Returns [dx, dw, db, dgamma, dbeta]. Intermediate gradients are freed here. */
  backward(dout: Tensor, cache: LinearBatchNormReLUCache): [Tensor, Tensor, Tensor, Tensor, Tensor] {
    const { fcCache, bnCache, reluCache } = checkCache("LinearBatchNormReLU.backward", cache, [
      "fcCache",
      "bnCache",
      "reluCache",
    ]) as unknown as LinearBatchNormReLUCache;
    const dan = ReLU.backward(dout, reluCache);
    let da: Tensor;
    let dgamma: Tensor;
    let dbeta: Tensor;
    try {
      [da, dgamma, dbeta] = BatchNorm.backward(dan, bnCache);
    } finally {
      dan.dispose();
    }
    try {
      const [dx, dw, db] = Linear.backward(da, fcCache);
      return [dx, dw, db, dgamma, dbeta];
    } catch (error) {
      dgamma.dispose();
      dbeta.dispose();
      throw error;
    } finally {
      da.dispose();
    }
  },
};

// Each method under allOrNothing; a plain object, so unused it tree-shakes away (see linear.ts).
/**
 * Affine layer, batch normalization and ReLU as one layer (the course's affine-batchnorm-relu
 * block of the fully connected net): x (N, ...), w (D, M), b, gamma, beta (M) -> out (N, M). A
 * forward or backward that throws frees what it allocated.
 *
 * @namespace
 */
export const LinearBatchNormReLU: typeof linearBatchNormReLUUnguarded = {
  forward: (...args) => allOrNothing(() => linearBatchNormReLUUnguarded.forward(...args)),
  backward: (...args) => allOrNothing(() => linearBatchNormReLUUnguarded.backward(...args)),
};
