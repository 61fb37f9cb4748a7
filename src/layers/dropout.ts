// Inverted dropout. p is the probability of DROPPING a unit (the course's `mask = rand > p`):
// train: out = x * mask with mask in {0, 1/(1-p)}; test: identity; backward reuses the mask.
import { dropoutMask, mul } from "../ops/elementwise.js";
import { drawSeed } from "../core/random.js";
import { kernels } from "../core/runtime.js";
import { allOrNothing, checkSameDtype, checkShape, checkTensor, empty, type Tensor } from "../core/tensor.js";
import { checkEnum, checkNumber, checkOptions, checkSeed } from "../core/validate.js";
import { checkCache } from "./linear.js";

/** The course's dropout_param: drop probability, mode and an optional seed for Dropout.forward. */
export interface DropoutParam {
  /** Probability of dropping a unit, in [0, 1). */
  p: number;
  /** "train" draws a mask and scales the kept units by 1/(1-p); "test" copies x unchanged. */
  mode: "train" | "test";
  /** Makes the mask reproducible: the mask for seed s is the same in every runtime. */
  seed?: number;
}

/** mask: (x's shape) in {0, 1/(1-p)}, or null in test mode. */
export interface DropoutCache {
  /** x's shape, each element 0 (dropped) or 1/(1-p) (kept); null in test mode. Owned by the cache. */
  mask: Tensor | null;
  /** The forward's drop probability, in [0, 1). */
  p: number;
  /** The forward's mode: backward multiplies by the mask in "train", passes dout through in "test". */
  mode: "train" | "test";
}

/** Checks a dropout parameter object; returns it normalised. */
export function checkDropoutParam(fn: string, param: unknown): DropoutParam {
  const o = checkOptions(fn, "dropoutParam", param, ["p", "mode", "seed"]);
  if (param === undefined) throw new TypeError(`${fn}: dropoutParam { p, mode } is required`);
  const p = checkNumber(fn, "dropoutParam.p", o.p, { min: 0, max: 1, maxExclusive: true, float32: true });
  const mode = checkEnum(fn, "dropoutParam.mode", o.mode, ["train", "test"] as const);
  const seed = o.seed === undefined ? undefined : checkSeed(fn, "dropoutParam.seed", o.seed);
  return { p, mode, seed };
}

/**
 * Fills mask (in its dtype) with the inverted-dropout mask for drop probability p from stream
 * (seed, offset). Both dtypes drop the same units for the same stream.
 */
export function dropoutMaskInto(mask: Tensor, p: number, seed: number, offset: number): void {
  dropoutMask(mask.ptr, mask.size, p, seed, offset, mask.dtype);
}

/** out = a * b elementwise, in their dtype. out may be a or b. */
export function mulInto(out: Tensor, a: Tensor, b: Tensor): void {
  mul(out.ptr, a.ptr, b.ptr, out.size, out.dtype);
}

const dropoutUnguarded = {
  /**
   * Inverted dropout: out = x·mask in "train" mode (mask from dropoutParam.seed, or from the
   * global stream set by tl.setSeed), a copy of x in "test" mode. Returns [out (x's shape), cache].
   */
  forward(x: Tensor, dropoutParam: DropoutParam): [Tensor, DropoutCache] {
    const fn = "Dropout.forward";
    checkTensor(fn, "x", x);
    const { p, mode, seed } = checkDropoutParam(fn, dropoutParam);
    const out = empty(x.shape, fn, x.dtype);
    if (mode === "test") {
      kernels().copy_bytes(out.ptr, x.ptr, x.size * x.itemBytes);
      return [out, { mask: null, p, mode }];
    }
    const mask = empty(x.shape, fn, x.dtype);
    const [s, offset] = seed === undefined ? drawSeed(x.size) : [seed, 0];
    dropoutMaskInto(mask, p, s, offset);
    mulInto(out, x, mask);
    return [out, { mask, p, mode }];
  },

  /** Returns dx = dout·mask ("train") or a copy of dout ("test"), x's shape. */
  backward(dout: Tensor, cache: DropoutCache): Tensor {
    const fn = "Dropout.backward";
    const { mask, mode } = checkCache(fn, cache, ["mask", "mode"]) as unknown as DropoutCache;
    checkEnum(fn, "cache.mode", mode, ["train", "test"] as const);
    checkTensor(fn, "dout", dout);
    const train = mode === "train" && mask !== null;
    if (train) {
      // Checked before dx is allocated, so a bad cache costs nothing.
      checkTensor(fn, "cache.mask", mask);
      checkShape(fn, "dout", dout, mask.shape, "the forward input's shape");
      checkSameDtype(fn, [
        ["dout", dout],
        ["cache.mask", mask],
      ]);
    }
    const dx = empty(dout.shape, fn, dout.dtype);
    if (!train) {
      kernels().copy_bytes(dx.ptr, dout.ptr, dout.size * dout.itemBytes);
      return dx;
    }
    mulInto(dx, dout, mask);
    return dx;
  },
};

// Each method under allOrNothing; a plain object, so unused it tree-shakes away (see linear.ts).
/**
 * The dropout layer with an explicit forward and backward (the course's dropout_forward /
 * dropout_backward; PyTorch's F.dropout). A forward or backward that throws frees what it
 * allocated. For composed models use tl.nn.dropout.
 *
 * @namespace
 */
export const Dropout: typeof dropoutUnguarded = {
  forward: (...args) => allOrNothing(() => dropoutUnguarded.forward(...args)),
  backward: (...args) => allOrNothing(() => dropoutUnguarded.backward(...args)),
};
