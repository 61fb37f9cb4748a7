// Tanh: out = tanh(x), computed in wasm (within ~0.5 ulp, same bits in every engine);
// dx = dout * (1 - out^2), from the saved output.
import { tanh, tanhBackward } from "../ops/elementwise.js";
import { allOrNothing, checkSameDtype, checkShape, checkTensor, empty, type Tensor } from "../core/tensor.js";
import { checkCache } from "./linear.js";

/** out: the forward output (any shape), by reference. */
export interface TanhCache {
  /** The forward output tanh(x), x's shape (backward computes 1 - out² from it). */
  out: Tensor;
}

/** out = tanh(x). out, x: (n) any shape of the same size; out may be x itself (then backward still works: it needs only out). */
export function tanhForwardInto(out: Tensor, x: Tensor): void {
  tanh(out.ptr, x.ptr, x.size, x.dtype);
}

/** dx = dout * (1 - out^2). dx, dout, out: same size; dx may be dout itself. */
export function tanhBackwardInto(dx: Tensor, dout: Tensor, out: Tensor): void {
  tanhBackward(dx.ptr, dout.ptr, out.ptr, out.size, out.dtype);
}

const tanhUnguarded = {
  /** out = tanh(x), any shape. Returns [out (x's shape), cache]. */
  forward(x: Tensor): [Tensor, TanhCache] {
    checkTensor("Tanh.forward", "x", x);
    const out = empty(x.shape, "Tanh.forward", x.dtype);
    tanhForwardInto(out, x);
    return [out, { out }];
  },

  /** Returns dx = dout·(1 - out²), x's shape. dout: the forward output's shape. */
  backward(dout: Tensor, cache: TanhCache): Tensor {
    const fn = "Tanh.backward";
    const { out } = checkCache(fn, cache, ["out"]) as unknown as TanhCache;
    checkTensor(fn, "cache.out", out);
    checkTensor(fn, "dout", dout);
    checkShape(fn, "dout", dout, out.shape, "the forward output's shape");
    checkSameDtype(fn, [
      ["dout", dout],
      ["cache.out", out],
    ]);
    const dx = empty(out.shape, fn, out.dtype);
    tanhBackwardInto(dx, dout, out);
    return dx;
  },
};

// Each method under allOrNothing; a plain object, so unused it tree-shakes away (see linear.ts).
/**
 * The tanh layer with an explicit forward and backward (the course's tanh layer; PyTorch's
 * torch.tanh). A forward or backward that throws frees what it allocated. For composed models use tl.nn.tanh.
 *
 * @namespace
 */
export const Tanh: typeof tanhUnguarded = {
  forward: (...args) => allOrNothing(() => tanhUnguarded.forward(...args)),
  backward: (...args) => allOrNothing(() => tanhUnguarded.backward(...args)),
};
