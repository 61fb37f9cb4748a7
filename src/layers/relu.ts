// ReLU: out = max(x, 0); dx = dout * (x > 0).
import { relu, reluBackward } from "../ops/elementwise.js";
import { allOrNothing, checkSameDtype, checkShape, checkTensor, empty, type Tensor } from "../core/tensor.js";
import { checkCache } from "./linear.js";

/** x: the forward input (any shape), by reference. */
export interface ReLUCache {
  /** The forward input x, any shape (backward passes dout where x > 0). */
  x: Tensor;
}

const reluUnguarded = {
  /** out = max(x, 0), any shape. Returns [out (x's shape), cache]. */
  forward(x: Tensor): [Tensor, ReLUCache] {
    checkTensor("ReLU.forward", "x", x);
    const out = empty(x.shape, "ReLU.forward", x.dtype);
    reluInto(out, x);
    return [out, { x }];
  },

  /** Returns dx = dout where x > 0, else 0 (x's shape). dout: x's shape. */
  backward(dout: Tensor, cache: ReLUCache): Tensor {
    const fn = "ReLU.backward";
    const { x } = checkCache(fn, cache, ["x"]) as unknown as ReLUCache;
    checkTensor(fn, "cache.x", x);
    checkTensor(fn, "dout", dout);
    checkShape(fn, "dout", dout, x.shape, "the forward input's shape");
    checkSameDtype(fn, [
      ["dout", dout],
      ["cache.x", x],
    ]);
    const dx = empty(x.shape, fn, x.dtype);
    reluBackwardInto(dx, dout, x);
    return dx;
  },
};

/** out = max(x, 0) in x's dtype. out may be x itself. */
export function reluInto(out: Tensor, x: Tensor): void {
  relu(out.ptr, x.ptr, x.size, x.dtype);
}

/** dx = x > 0 ? dout : 0 in x's dtype. dx may be dout itself. */
export function reluBackwardInto(dx: Tensor, dout: Tensor, x: Tensor): void {
  reluBackward(dx.ptr, dout.ptr, x.ptr, x.size, x.dtype);
}

// Each method under allOrNothing; a plain object, so unused it tree-shakes away (see linear.ts).
/**
 * The ReLU layer with an explicit forward and backward (the course's relu_forward /
 * relu_backward; PyTorch's F.relu). A forward or backward that throws frees what it allocated.
 * For composed models use tl.nn.relu.
 *
 * @namespace
 */
export const ReLU: typeof reluUnguarded = {
  forward: (...args) => allOrNothing(() => reluUnguarded.forward(...args)),
  backward: (...args) => allOrNothing(() => reluUnguarded.backward(...args)),
};
