// ReLU: out = max(x, 0); dx = dout * (x > 0).
import { kernels } from "../runtime.js";
import { allOrNothingMethods, checkSameDtype, checkShape, checkTensor, empty, type Tensor } from "../tensor.js";
import { checkCache } from "./linear.js";

/** x: the forward input (any shape), by reference. */
export interface ReLUCache {
  x: Tensor;
}

export const ReLU = allOrNothingMethods({
  forward(x: Tensor): [Tensor, ReLUCache] {
    checkTensor("ReLU.forward", "x", x);
    const out = empty(x.shape, "ReLU.forward", x.dtype);
    reluInto(out, x);
    return [out, { x }];
  },

  backward(dout: Tensor, cache: ReLUCache): Tensor {
    const fn = "ReLU.backward";
    const { x } = checkCache(fn, cache, ["x"]) as unknown as ReLUCache;
    checkTensor(fn, "cache.x", x);
    checkTensor(fn, "dout", dout);
    checkShape(fn, "dout", dout, x.shape, "the forward input's shape");
    checkSameDtype(fn, [["dout", dout], ["cache.x", x]]);
    const dx = empty(x.shape, fn, x.dtype);
    reluBackwardInto(dx, dout, x);
    return dx;
  },
});

/** out = max(x, 0) in x's dtype. out may be x itself. */
export function reluInto(out: Tensor, x: Tensor): void {
  if (x.dtype === "float64") kernels().f64_relu(out.ptr, x.ptr, x.size);
  else kernels().f32_relu(out.ptr, x.ptr, x.size);
}

/** dx = x > 0 ? dout : 0 in x's dtype. dx may be dout itself. */
export function reluBackwardInto(dx: Tensor, dout: Tensor, x: Tensor): void {
  if (x.dtype === "float64") kernels().f64_relu_backward(dx.ptr, dout.ptr, x.ptr, x.size);
  else kernels().f32_relu_backward(dx.ptr, dout.ptr, x.ptr, x.size);
}
