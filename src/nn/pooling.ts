// Pooling as PyTorch's modules, NCHW, floor mode:
//   MaxPool2d(kernel_size, stride = kernel_size, padding = 0): backward routes each output's
//     gradient to its window's first maximum (the argmax saved by forward). Padding pads with
//     -Infinity: the input is framed in a padded buffer and pooled there.
//   AvgPool2d(kernel_size, stride = kernel_size, padding = 0, count_include_pad = true).
//   AdaptiveAvgPool2d(1): the mean of each channel, output (C, 1, 1) (global average pooling).
import { avgPoolBackward, avgPoolForward, avgPoolSizes, globalAvgPoolBackward, globalAvgPoolForward, type AvgPoolSizes } from "../ops/avgpool.js";
import { fill } from "../ops/elementwise.js";
import { cropPlanes, framePlanes, maxPoolBackward, maxPoolForward, type PoolSizes } from "../ops/pool.js";
import type { Tensor } from "../core/tensor.js";
import { checkInteger, checkOptions } from "../core/validate.js";
import { checkBoolean } from "./linear.js";
import { Module, shapeError, type ModulePlan, type Pass } from "./module.js";

/** Options of tl.nn.maxPool2d (PyTorch's nn.MaxPool2d keyword arguments). */
export interface MaxPool2dOptions {
  /** Step between windows. Default: the kernel size. */
  stride?: number;
  /** Implicit -Infinity padding on every side, at most half the kernel size. Default 0. */
  padding?: number;
}

/** Options of tl.nn.avgPool2d (PyTorch's nn.AvgPool2d keyword arguments, in camelCase). */
export interface AvgPool2dOptions {
  /** Step between windows. Default: the kernel size. */
  stride?: number;
  /** Zero padding on every side, at most half the kernel size. Default 0. */
  padding?: number;
  /** Divide by the whole window (true, PyTorch's default) or by its pixels inside the image. */
  countIncludePad?: boolean;
}

/** Kernel, stride and padding checked as PyTorch does (padding at most half the kernel). */
function windowArgs(fn: string, kernelSize: number, o: { stride?: unknown; padding?: unknown }): { kernel_size: number; stride: number; padding: number } {
  checkInteger(fn, "kernelSize", kernelSize, 1);
  const stride = o.stride === undefined ? kernelSize : checkInteger(fn, "options.stride", o.stride, 1);
  const padding = o.padding === undefined ? 0 : checkInteger(fn, "options.padding", o.padding, 0);
  if (2 * padding > kernelSize) throw new RangeError(`${fn}: options.padding (${padding}) must be at most half of kernelSize (${kernelSize})`);
  return { kernel_size: kernelSize, stride, padding };
}

/** The pooled shape of (C, H, W) inputs, or a shape error naming what fits. */
function pooledShape(m: Module, input: readonly number[], k: number, stride: number, padding: number): number[] {
  if (input.length !== 3) throw shapeError(m, "(N, C, H, W) inputs", input);
  const [C, H, W] = input;
  if (H + 2 * padding < k || W + 2 * padding < k) throw shapeError(m, `images of at least ${k - 2 * padding}x${k - 2 * padding}`, input);
  return [C, Math.floor((H + 2 * padding - k) / stride) + 1, Math.floor((W + 2 * padding - k) / stride) + 1];
}

/**
 * Max pooling over square windows of (N, C, H, W) inputs (PyTorch's nn.MaxPool2d): output
 * (N, C, Ho, Wo) with Ho = floor((H + 2·padding - k) / stride) + 1. Made by tl.nn.maxPool2d(kernelSize, options).
 */
export class MaxPool2d extends Module {
  readonly type = "MaxPool2d";
  readonly args: {
    /** Window size k (square). */
    kernel_size: number;
    /** Step between windows (default: kernel_size). */
    stride: number;
    /** Implicit -Infinity padding on every side, at most k / 2 (default 0). */
    padding: number;
  };
  #train = false;

  constructor(kernelSize: number, options: MaxPool2dOptions = {}) {
    super();
    const fn = "nn.maxPool2d";
    this.args = windowArgs(fn, kernelSize, checkOptions(fn, "options", options, ["stride", "padding"]));
  }

  plan(input: readonly number[]): ModulePlan {
    return { output: pooledShape(this, input, this.args.kernel_size, this.args.stride, this.args.padding) };
  }

  /** The kernels' sizes: over the padded frame when there is padding. */
  #sizes(n: number): PoolSizes {
    const [C, H, W] = this.inputShape;
    const [, Ho, Wo] = this.outputShape;
    const { kernel_size: k, stride, padding: p } = this.args;
    return { planes: n * C, H: H + 2 * p, W: W + 2 * p, ph: k, pw: k, stride, Ho, Wo };
  }

  forward(x: Tensor, pass: Pass): Tensor {
    const shape = [pass.n, ...this.outputShape];
    const y = pass.ws.get(this.key("y"), shape, pass.dtype);
    this.#train = pass.train && this.needsInputGrad; // inference needs no argmax
    const argmax = this.#train ? pass.ws.get(this.key("argmax"), shape, pass.dtype).ptr : 0;
    const s = this.#sizes(pass.n);
    let source = x.ptr;
    if (this.args.padding > 0) {
      const [, H, W] = this.inputShape;
      const frame = pass.ws.get(this.key("frame"), [s.planes, s.H, s.W], pass.dtype);
      fill(frame.ptr, frame.size, -Infinity, pass.dtype);
      framePlanes(frame.ptr, x.ptr, s.planes, H, W, this.args.padding, pass.dtype);
      source = frame.ptr;
    }
    maxPoolForward(y.ptr, argmax, source, s, pass.dtype);
    return y;
  }

  backward(dy: Tensor, pass: Pass): Tensor | null {
    if (!this.needsInputGrad || !this.#train) return null;
    const dx = pass.ws.get(this.key("dx"), [pass.n, ...this.inputShape], pass.dtype);
    const s = this.#sizes(pass.n);
    const argmax = pass.ws.get(this.key("argmax"), dy.shape, pass.dtype).ptr;
    if (this.args.padding === 0) {
      maxPoolBackward(dx.ptr, dy.ptr, argmax, s, pass.dtype);
      return dx;
    }
    // The gradient of the frame, then its middle (a maximum is never in the -Infinity border).
    const dframe = pass.ws.get(this.key("dframe"), [s.planes, s.H, s.W], pass.dtype);
    maxPoolBackward(dframe.ptr, dy.ptr, argmax, s, pass.dtype);
    const [, H, W] = this.inputShape;
    cropPlanes(dx.ptr, dframe.ptr, s.planes, H, W, this.args.padding, pass.dtype);
    return dx;
  }
}

/**
 * Average pooling over square windows of (N, C, H, W) inputs (PyTorch's nn.AvgPool2d): output
 * (N, C, Ho, Wo) with Ho = floor((H + 2·padding - k) / stride) + 1. Made by tl.nn.avgPool2d(kernelSize, options).
 */
export class AvgPool2d extends Module {
  readonly type = "AvgPool2d";
  readonly args: {
    /** Window size k (square). */
    kernel_size: number;
    /** Step between windows (default: kernel_size). */
    stride: number;
    /** Zero padding on every side, at most k / 2 (default 0). */
    padding: number;
    /** Whether the padding counts in the divisor (true, PyTorch's default) or only pixels inside the image do. */
    count_include_pad: boolean;
  };
  #cached: AvgPoolSizes | null = null;

  constructor(kernelSize: number, options: AvgPool2dOptions = {}) {
    super();
    const fn = "nn.avgPool2d";
    const o = checkOptions(fn, "options", options, ["stride", "padding", "countIncludePad"]);
    const countIncludePad = o.countIncludePad === undefined ? true : checkBoolean(fn, "options.countIncludePad", o.countIncludePad);
    this.args = { ...windowArgs(fn, kernelSize, o), count_include_pad: countIncludePad };
  }

  plan(input: readonly number[]): ModulePlan {
    return { output: pooledShape(this, input, this.args.kernel_size, this.args.stride, this.args.padding) };
  }

  #sizes(n: number): AvgPoolSizes {
    const [C, H, W] = this.inputShape;
    if (this.#cached?.planes !== n * C) {
      const { kernel_size: k, stride: s, padding: p, count_include_pad: include } = this.args;
      this.#cached = avgPoolSizes(`${this.type} "${this.path}"`, n, C, H, W, k, k, s, s, p, p, include);
    }
    return this.#cached;
  }

  forward(x: Tensor, pass: Pass): Tensor {
    const y = pass.ws.get(this.key("y"), [pass.n, ...this.outputShape], pass.dtype);
    avgPoolForward(y.ptr, x.ptr, this.#sizes(pass.n), pass.dtype);
    return y;
  }

  backward(dy: Tensor, pass: Pass): Tensor | null {
    if (!this.needsInputGrad) return null;
    const dx = pass.ws.get(this.key("dx"), [pass.n, ...this.inputShape], pass.dtype);
    avgPoolBackward(dx.ptr, dy.ptr, this.#sizes(pass.n), pass.dtype);
    return dx;
  }
}

/** Global average pooling: PyTorch's nn.AdaptiveAvgPool2d(1), (N, C, H, W) -> (N, C, 1, 1). */
export class AdaptiveAvgPool2d extends Module {
  readonly type = "AdaptiveAvgPool2d";
  readonly args = {
    /** The pooled map's height and width: always 1 (global average pooling). */
    output_size: 1,
  } as const;

  plan(input: readonly number[]): ModulePlan {
    if (input.length !== 3) throw shapeError(this, "(N, C, H, W) inputs", input);
    return { output: [input[0], 1, 1] };
  }

  forward(x: Tensor, pass: Pass): Tensor {
    const [C, H, W] = this.inputShape;
    const y = pass.ws.get(this.key("y"), [pass.n, C, 1, 1], pass.dtype);
    globalAvgPoolForward(y.ptr, x.ptr, pass.n * C, H * W, pass.dtype);
    return y;
  }

  backward(dy: Tensor, pass: Pass): Tensor | null {
    if (!this.needsInputGrad) return null;
    const [C, H, W] = this.inputShape;
    const dx = pass.ws.get(this.key("dx"), [pass.n, C, H, W], pass.dtype);
    globalAvgPoolBackward(dx.ptr, dy.ptr, pass.n * C, H * W, pass.dtype);
    return dx;
  }
}
