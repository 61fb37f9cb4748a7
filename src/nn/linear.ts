// Linear: y = x · Wᵀ + b with W stored (out, in) as PyTorch's nn.Linear stores it, so a
// state_dict loads by name. (The course's tl.Linear keeps its (D, M) layout.)
//   forward:  y (N, out) = x (N, in) · W (out, in)ᵀ + b       gemm "nt"
//   backward: dW (out, in) = dyᵀ · x                           gemm "tn"
//             db (out) = Σ_n dy                                column sums
//             dx (N, in) = dy · W                              gemm "nn"
import { gemm } from "../ops/gemm.js";
import { packedWeights } from "../ops/packed-weights.js";
import { sumRows } from "../ops/reduce.js";
import type { Tensor } from "../core/tensor.js";
import { checkInteger, checkOptions } from "../core/validate.js";
import { defaultInit, type InitOption, checkInitOption, paramInit } from "./init.js";
import { ReLU } from "./activations.js";
import { Module, shapeError, type ModulePlan, type Pass } from "./module.js";

/** Options of tl.nn.linear (PyTorch's `bias` keyword; `init` is tensorlane's). */
export interface LinearOptions {
  /** Add a learned bias. Default true. */
  bias?: boolean;
  /** How the weight starts; default PyTorch's (uniform in ±1/sqrt(in_features)). */
  init?: InitOption;
}

/**
 * Fully connected layer y = x·Wᵀ + b (PyTorch's nn.Linear, the course's affine layer): input
 * (N, in_features), weight (out_features, in_features), bias (out_features), output
 * (N, out_features). Made by tl.nn.linear(inFeatures, outFeatures, options).
 */
export class Linear extends Module {
  readonly type = "Linear";
  readonly args: {
    /** Input features D. */
    in_features: number;
    /** Output features M. */
    out_features: number;
    /** Whether the layer has a learned bias (default true). */
    bias: boolean;
    /** How the weight starts: "pytorch" (default), "kaiming", "xavier" or a normal's std. */
    init: InitOption;
  };
  #x: Tensor | null = null; // the last forward's input, (N, in)

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    const fn = "nn.linear";
    checkInteger(fn, "inFeatures", inFeatures, 1);
    checkInteger(fn, "outFeatures", outFeatures, 1);
    const o = checkOptions(fn, "options", options, ["bias", "init"]);
    const bias = o.bias === undefined ? true : checkBoolean(fn, "options.bias", o.bias);
    this.args = { in_features: inFeatures, out_features: outFeatures, bias, init: checkInitOption(fn, o.init) };
  }

  plan(input: readonly number[]): ModulePlan {
    const { in_features: D, out_features: M, bias, init } = this.args;
    if (input.length !== 1 || input[0] !== D) throw shapeError(this, `(N, ${D}) inputs (flatten images first: tl.nn.flatten())`, input);
    const params = [{ name: "weight", shape: [M, D], init: paramInit(init, D, defaultInit(D)) }];
    if (bias) params.push({ name: "bias", shape: [M], init: defaultInit(D) });
    return { output: [M], params };
  }

  forward(x: Tensor, pass: Pass): Tensor {
    const y = pass.ws.get(this.key("y"), [pass.n, this.args.out_features], pass.dtype);
    this.#product(y, x, pass, false);
    return y;
  }

  /** A ReLU module right after this one is applied in the product's store, into its output buffer. */
  override forwardFused(x: Tensor, next: Module, pass: Pass): Tensor | null {
    if (!(next instanceof ReLU)) return null;
    const y = next.fusedOutput(pass);
    this.#product(y, x, pass, true);
    return y;
  }

  // y (N, out) = x · Wᵀ + b [then max(., 0)], W read from its packing when one is current.
  #product(y: Tensor, x: Tensor, pass: Pass, relu: boolean): void {
    const { in_features: D, out_features: M } = this.args;
    const w = this.params.weight;
    const packedB = packedWeights(w, true, M, D);
    gemm("nt", y.ptr, x.ptr, w.ptr, pass.n, M, D, { bias: this.params.bias?.ptr ?? 0, dtype: pass.dtype, relu, packedB });
    this.#x = x;
  }

  backward(dy: Tensor, pass: Pass): Tensor | null {
    const { in_features: D, out_features: M } = this.args;
    const N = pass.n;
    if (this.trainable) {
      gemm("tn", this.grads.weight.ptr, dy.ptr, this.#x!.ptr, M, D, N, { dtype: pass.dtype });
      if (this.grads.bias) sumRows(this.grads.bias.ptr, dy.ptr, N, M, false, pass.dtype);
    }
    if (!this.needsInputGrad) return null;
    const dx = pass.ws.get(this.key("dx"), [N, D], pass.dtype);
    gemm("nn", dx.ptr, dy.ptr, this.params.weight.ptr, N, D, M, { dtype: pass.dtype });
    return dx;
  }
}

export function checkBoolean(fn: string, name: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new TypeError(`${fn}: ${name} must be true or false (got ${String(value)})`);
  return value;
}
