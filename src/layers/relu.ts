// ReLU: out = max(x, 0); dx = dout * (x > 0).
import { relu, reluBackward } from "../ops/elementwise.js";
import { allOrNothing, checkShape, checkTensor, empty, type Tensor } from "../tensor.js";
import { checkCache } from "./linear.js";

/** x: the forward input (any shape), by reference. */
export interface ReLUCache {
  x: Tensor;
}

const reluUnguarded = {
  forward(x: Tensor): [Tensor, ReLUCache] {
    checkTensor("ReLU.forward", "x", x);
    const out = empty(x.shape, "ReLU.forward");
    relu(out.ptr, x.ptr, x.size);
    return [out, { x }];
  },

  backward(dout: Tensor, cache: ReLUCache): Tensor {
    const fn = "ReLU.backward";
    const { x } = checkCache(fn, cache, ["x"]) as unknown as ReLUCache;
    checkTensor(fn, "cache.x", x);
    checkTensor(fn, "dout", dout);
    checkShape(fn, "dout", dout, x.shape, "the forward input's shape");
    const dx = empty(x.shape, fn);
    reluBackward(dx.ptr, dout.ptr, x.ptr, x.size);
    return dx;
  },
};

// Each method under allOrNothing; a plain object, so unused it tree-shakes away (see linear.ts).
export const ReLU: typeof reluUnguarded = {
  forward: (...args) => allOrNothing(() => reluUnguarded.forward(...args)),
  backward: (...args) => allOrNothing(() => reluUnguarded.backward(...args)),
};
