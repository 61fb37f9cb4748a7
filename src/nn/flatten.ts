// Flatten as PyTorch's nn.Flatten(): (N, d1, ..., dk) -> (N, d1·...·dk). No copy: the output is a
// view of the input, and the input's gradient a view of the output's.
import { keep, sizeOf, type Tensor } from "../core/tensor.js";
import { Module, type ModulePlan, type Pass } from "./module.js";

/** Flattens (N, ...) to (N, product of the rest), as a view (PyTorch's nn.Flatten). Made by tl.nn.flatten(). */
export class Flatten extends Module {
  readonly type = "Flatten";
  readonly args = {};
  // Views made once per source buffer and reused (the sources are the model's reused buffers).
  #out: Tensor | null = null;
  #back: Tensor | null = null;

  plan(input: readonly number[]): ModulePlan {
    return { output: [sizeOf(input)] };
  }

  forward(x: Tensor, pass: Pass): Tensor {
    this.#out = viewOf(this.#out, x, [pass.n, ...this.outputShape]);
    return this.#out;
  }

  backward(dy: Tensor, pass: Pass): Tensor | null {
    if (!this.needsInputGrad) return null;
    this.#back = viewOf(this.#back, dy, [pass.n, ...this.inputShape]);
    return this.#back;
  }

  override dispose(): void {
    this.#out?.dispose();
    this.#back?.dispose();
    this.#out = this.#back = null;
  }
}

/** A view of `source` with `shape`: the held one when it still views that very tensor, else a new one. */
export function viewOf(held: Tensor | null, source: Tensor, shape: number[]): Tensor {
  if (held !== null && !held.isDisposed && held.storage === source.storage && held.ptr === source.ptr && sameShape(held.shape, shape)) return held;
  held?.dispose();
  return keep(source.reshape(shape));
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
