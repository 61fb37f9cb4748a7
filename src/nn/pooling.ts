// Pooling as PyTorch's modules: MaxPool2d(kernel_size, stride = kernel_size), NCHW, floor mode.
// Backward routes each output's gradient to its window's first maximum (the argmax saved by
// forward).
import { maxPoolBackward, maxPoolForward, type PoolSizes } from "../ops/pool.js";
import type { Tensor } from "../tensor.js";
import { checkInteger, checkOptions } from "../validate.js";
import { Module, shapeError, type ModulePlan, type Pass } from "./module.js";

export interface MaxPool2dOptions {
  /** Step between windows. Default: the kernel size. */
  stride?: number;
}

export class MaxPool2d extends Module {
  readonly type = "MaxPool2d";
  readonly args: { kernel_size: number; stride: number };
  #train = false;

  constructor(kernelSize: number, options: MaxPool2dOptions = {}) {
    super();
    const fn = "nn.maxPool2d";
    checkInteger(fn, "kernelSize", kernelSize, 1);
    const o = checkOptions(fn, "options", options, ["stride"]);
    const stride = o.stride === undefined ? kernelSize : checkInteger(fn, "options.stride", o.stride, 1);
    this.args = { kernel_size: kernelSize, stride };
  }

  plan(input: readonly number[]): ModulePlan {
    const { kernel_size: k, stride } = this.args;
    if (input.length !== 3) throw shapeError(this, "(N, C, H, W) inputs", input);
    const [C, H, W] = input;
    if (H < k || W < k) throw shapeError(this, `images of at least ${k}x${k}`, input);
    return { output: [C, Math.floor((H - k) / stride) + 1, Math.floor((W - k) / stride) + 1] };
  }

  #sizes(n: number): PoolSizes {
    const [C, H, W] = this.inputShape;
    const [, Ho, Wo] = this.outputShape;
    return { planes: n * C, H, W, ph: this.args.kernel_size, pw: this.args.kernel_size, stride: this.args.stride, Ho, Wo };
  }

  forward(x: Tensor, pass: Pass): Tensor {
    const shape = [pass.n, ...this.outputShape];
    const y = pass.ws.get(this.key("y"), shape, pass.dtype);
    this.#train = pass.train && this.needsInputGrad; // inference needs no argmax
    const argmax = this.#train ? pass.ws.get(this.key("argmax"), shape, pass.dtype).ptr : 0;
    maxPoolForward(y.ptr, argmax, x.ptr, this.#sizes(pass.n), pass.dtype);
    return y;
  }

  backward(dy: Tensor, pass: Pass): Tensor | null {
    if (!this.needsInputGrad || !this.#train) return null;
    const dx = pass.ws.get(this.key("dx"), [pass.n, ...this.inputShape], pass.dtype);
    maxPoolBackward(dx.ptr, dy.ptr, pass.ws.get(this.key("argmax"), dy.shape, pass.dtype).ptr, this.#sizes(pass.n), pass.dtype);
    return dx;
  }
}
