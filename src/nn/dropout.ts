// Dropout as PyTorch's nn.Dropout: p is the probability of zeroing a unit; in training the kept
// units are scaled by 1/(1-p) (inverted dropout), in test mode it is the identity. The mask comes
// from the model's seeded stream (its rngState), so a run repeats exactly.
import { dropoutMask, mul } from "../ops/elementwise.js";
import type { Tensor } from "../core/tensor.js";
import { checkNumber } from "../core/validate.js";
import { Module, type ModulePlan, type Pass } from "./module.js";

/**
 * Inverted dropout (PyTorch's nn.Dropout): in training each unit is zeroed with probability p and
 * the kept ones scaled by 1/(1-p); in test mode the identity. Any input shape. Made by tl.nn.dropout(p).
 */
export class Dropout extends Module {
  readonly type = "Dropout";
  readonly args: {
    /** Probability of zeroing a unit, in [0, 1) (default 0.5). */
    p: number;
  };
  #masked = false; // whether the last forward applied a mask

  constructor(p = 0.5) {
    super();
    this.args = { p: checkNumber("nn.dropout", "p", p, { min: 0, max: 1, maxExclusive: true, float32: true }) };
  }

  plan(input: readonly number[]): ModulePlan {
    return { output: [...input] };
  }

  forward(x: Tensor, pass: Pass): Tensor {
    this.#masked = pass.train && this.args.p > 0;
    if (!this.#masked) return x;
    const shape = [pass.n, ...this.outputShape];
    const mask = pass.ws.get(this.key("mask"), shape, pass.dtype);
    const [seed, offset] = pass.draw(mask.size);
    dropoutMask(mask.ptr, mask.size, this.args.p, seed, offset, pass.dtype);
    const y = pass.ws.get(this.key("y"), shape, pass.dtype);
    mul(y.ptr, x.ptr, mask.ptr, y.size, pass.dtype);
    return y;
  }

  backward(dy: Tensor, pass: Pass): Tensor | null {
    if (!this.needsInputGrad) return null;
    if (!this.#masked) return dy;
    const dx = pass.ws.get(this.key("dx"), [pass.n, ...this.inputShape], pass.dtype);
    mul(dx.ptr, dy.ptr, pass.ws.get(this.key("mask"), dx.shape, pass.dtype).ptr, dx.size, pass.dtype);
    return dx;
  }
}
