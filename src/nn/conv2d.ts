// Conv2d, NCHW, as PyTorch's nn.Conv2d: weight (out, in / groups, kh, kw), optional bias (out),
// one stride and one zero padding for both axes, `groups` independent convolutions over channel
// slices (groups = in = out is a depthwise convolution). Output (out, Ho, Wo) with
// Ho = floor((H + 2·padding - kh) / stride) + 1, likewise Wo.
//
// groups = in = out (a depthwise convolution) runs the depthwise kernels. Other groups > 1: in NCHW
// one image's channels of one group are a contiguous block, so the batch is regrouped with one row
// gather per group (rows of C/g·H·W floats, by index), each group runs the ordinary convolution
// kernels, and the outputs are gathered back the same way.
import { bytesPerElement } from "../core/dtype.js";
import type { ConvSizes } from "../ops/conv.js";
import { convBackward, convBatchNormTable, convForward } from "../ops/conv.js";
import { convolve, convolveBackward } from "../ops/conv-algorithm.js";
import { depthwiseBackward, depthwiseForward, depthwiseSizes, type DepthwiseSizes } from "../ops/depthwise.js";
import { fill } from "../ops/elementwise.js";
import { TRAIN_KERNELS, useFamily } from "../core/kernel-families.js";
import { i32, realKernels } from "../core/runtime.js";
import type { Tensor } from "../core/tensor.js";
import { checkInteger, checkOptions, describe } from "../core/validate.js";
import { defaultInit, checkInitOption, paramInit, type InitOption } from "./init.js";
import { checkBoolean } from "./linear.js";
import { ReLU } from "./activations.js";
import { BatchNorm2d } from "./batchnorm.js";
import { Module, shapeError, type ModulePlan, type Pass } from "./module.js";

/** Options of tl.nn.conv2d (PyTorch's nn.Conv2d keyword arguments; `init` is tensorlane's). */
export interface Conv2dOptions {
  /** Step between windows (both axes). Default 1. */
  stride?: number;
  /** Zero padding on every side. Default 0. */
  padding?: number;
  /** Independent groups of channels: inChannels and outChannels must divide by it. Default 1. */
  groups?: number;
  /** Add a learned bias per output channel. Default true. */
  bias?: boolean;
  /** How the weight starts; default PyTorch's (uniform in ±1/sqrt(fanIn), fanIn = in/groups·kh·kw). */
  init?: InitOption;
}

/**
 * 2-D convolution of (N, C, H, W) inputs (PyTorch's nn.Conv2d, the course's conv layer): weight
 * (out_channels, in_channels / groups, kH, kW), optional bias (out_channels), output
 * (N, out_channels, Ho, Wo) with Ho = floor((H + 2·padding - kH) / stride) + 1. Made by
 * tl.nn.conv2d(inChannels, outChannels, kernelSize, options).
 */
export class Conv2d extends Module {
  readonly type = "Conv2d";
  readonly args: {
    /** Input channels C. */
    in_channels: number;
    /** Output channels (filters) F. */
    out_channels: number;
    /** Kernel height and width [kH, kW]. */
    kernel_size: [number, number];
    /** Step between windows on both axes (default 1). */
    stride: number;
    /** Zero padding on every side (default 0). */
    padding: number;
    /** Independent channel groups; in_channels = out_channels = groups is a depthwise convolution (default 1). */
    groups: number;
    /** Whether the layer has a learned bias per output channel (default true). */
    bias: boolean;
    /** How the weight starts: "pytorch" (default), "kaiming", "xavier" or a normal's std. */
    init: InitOption;
  };
  #x: Tensor | null = null;
  #sizes: ConvSizes | null = null;
  #depthwise: DepthwiseSizes | null = null;
  /** The zero bias buffer as last filled (a conv without bias): filled again only when replaced. */
  #zeroed: Tensor | null = null;

  constructor(inChannels: number, outChannels: number, kernelSize: number | [number, number], options: Conv2dOptions = {}) {
    super();
    const fn = "nn.conv2d";
    checkInteger(fn, "inChannels", inChannels, 1);
    checkInteger(fn, "outChannels", outChannels, 1);
    const kernel = checkKernelSize(fn, kernelSize);
    const o = checkOptions(fn, "options", options, ["stride", "padding", "groups", "bias", "init"]);
    const stride = o.stride === undefined ? 1 : checkInteger(fn, "options.stride", o.stride, 1);
    const padding = o.padding === undefined ? 0 : checkInteger(fn, "options.padding", o.padding, 0);
    const groups = o.groups === undefined ? 1 : checkInteger(fn, "options.groups", o.groups, 1);
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new RangeError(`${fn}: inChannels (${inChannels}) and outChannels (${outChannels}) must both divide by options.groups (${groups})`);
    }
    const bias = o.bias === undefined ? true : checkBoolean(fn, "options.bias", o.bias);
    this.args = { in_channels: inChannels, out_channels: outChannels, kernel_size: kernel, stride, padding, groups, bias, init: checkInitOption(fn, o.init) };
  }

  plan(input: readonly number[]): ModulePlan {
    const {
      in_channels: C,
      out_channels: F,
      kernel_size: [kh, kw],
      stride,
      padding,
      groups,
      bias,
      init,
    } = this.args;
    if (input.length !== 3 || input[0] !== C) throw shapeError(this, `(N, ${C}, H, W) inputs`, input);
    const [, H, W] = input;
    if (kh > H + 2 * padding || kw > W + 2 * padding) {
      throw shapeError(this, `images of at least ${kh - 2 * padding}x${kw - 2 * padding} (the ${kh}x${kw} kernel with padding ${padding})`, input);
    }
    const Ho = Math.floor((H + 2 * padding - kh) / stride) + 1;
    const Wo = Math.floor((W + 2 * padding - kw) / stride) + 1;
    const fanIn = (C / groups) * kh * kw;
    const params = [{ name: "weight", shape: [F, C / groups, kh, kw], init: paramInit(init, fanIn, defaultInit(fanIn)) }];
    if (bias) params.push({ name: "bias", shape: [F], init: defaultInit(fanIn) });
    return { output: [F, Ho, Wo], params };
  }

  /** Sizes of one group's convolution for a batch of n (the kernels' ConvSizes). */
  #groupSizes(n: number): ConvSizes {
    if (this.#sizes?.N === n) return this.#sizes;
    const {
      kernel_size: [kh, kw],
      stride,
      padding,
      groups,
    } = this.args;
    const [C, H, W] = this.inputShape;
    const [F, Ho, Wo] = this.outputShape;
    const Cg = C / groups;
    this.#sizes = { N: n, C: Cg, H, W, F: F / groups, HH: kh, WW: kw, stride, pad: padding, Ho, Wo, K: Cg * kh * kw, P: Ho * Wo };
    return this.#sizes;
  }

  /** Whether this is a depthwise convolution (one filter per input channel). */
  get isDepthwise(): boolean {
    const { in_channels: C, out_channels: F, groups } = this.args;
    return groups > 1 && groups === C && F === C;
  }

  #depthwiseSizes(n: number): DepthwiseSizes {
    if (this.#depthwise?.N === n) return this.#depthwise;
    const {
      kernel_size: [kh, kw],
      stride,
      padding,
    } = this.args;
    const [C, H, W] = this.inputShape;
    this.#depthwise = depthwiseSizes(`${this.type} "${this.path}"`, n, C, H, W, kh, kw, stride, stride, padding, padding);
    return this.#depthwise;
  }

  /** A zero bias for a conv without one (the kernels add a bias row). */
  #zeroBias(pass: Pass): Tensor {
    const F = this.args.out_channels;
    const b = pass.ws.get(this.key("zero bias"), [F], pass.dtype);
    if (b !== this.#zeroed) {
      fill(b.ptr, F, 0, pass.dtype);
      this.#zeroed = b;
    }
    return b;
  }

  forward(x: Tensor, pass: Pass): Tensor {
    const y = pass.ws.get(this.key("y"), [pass.n, ...this.outputShape], pass.dtype);
    const w = this.params.weight;
    this.#x = x;
    if (this.isDepthwise) {
      depthwiseForward(y.ptr, x.ptr, w.ptr, this.params.bias?.ptr ?? 0, this.#depthwiseSizes(pass.n), pass.dtype);
      return y;
    }
    const d = this.#groupSizes(pass.n);
    const g = this.args.groups;
    const b = this.params.bias ?? this.#zeroBias(pass);
    if (g === 1) {
      convolve(y.ptr, x.ptr, w, b.ptr, d, false, pass.dtype);
      return y;
    }
    const B = bytesPerElement(pass.dtype);
    const xg = this.#regrouped(pass, "xg", x, d.C * d.H * d.W); // (g, N, C/g, H, W)
    const yg = pass.ws.get(this.key("yg"), [g, pass.n, d.F * d.P], pass.dtype);
    for (let j = 0; j < g; j++) {
      const xj = xg.ptr + j * pass.n * d.C * d.H * d.W * B;
      const wj = w.ptr + j * d.F * d.K * B;
      convForward(yg.ptr + j * pass.n * d.F * d.P * B, xj, wj, b.ptr + j * d.F * B, d, false, pass.dtype);
    }
    this.#ungroup(pass, y, yg, d.F * d.P);
    return y;
  }

  /** In inference, a BatchNorm2d right after this conv runs in the conv's epilogue, into its output buffer. */
  override forwardFused(x: Tensor, next: Module, pass: Pass): Tensor | null {
    if (!(next instanceof BatchNorm2d)) return null;
    return this.#withBatchNorm(x, next, null, pass);
  }

  /** In inference, a BatchNorm2d and a ReLU right after this conv run in the conv's epilogue, into the ReLU's output buffer. */
  override forwardFused3(x: Tensor, next: Module, after: Module, pass: Pass): Tensor | null {
    if (!(next instanceof BatchNorm2d) || !(after instanceof ReLU)) return null;
    return this.#withBatchNorm(x, next, after, pass);
  }

  /**
   * conv, then bn with its running statistics, then relu when given: the bits of the separate
   * inference forwards (conv_forward_images_bn, or conv3x3_winograd's epilogue). Only in
   * inference (pass.infer: test mode, and no backward follows): their intermediate maps and bn's
   * saved statistics are not written.
   */
  #withBatchNorm(x: Tensor, bn: BatchNorm2d, relu: ReLU | null, pass: Pass): Tensor | null {
    if (pass.infer !== true || pass.train || this.args.groups !== 1) return null;
    const F = this.args.out_channels;
    const y = relu !== null ? relu.fusedOutput(pass) : pass.ws.get(bn.key("y"), [pass.n, ...bn.outputShape], pass.dtype);
    const table = pass.ws.get(this.key("bn table"), [4 * F], pass.dtype);
    convBatchNormTable(
      table.ptr,
      bn.params.weight.ptr,
      bn.params.bias.ptr,
      bn.buffers.running_mean.ptr,
      bn.buffers.running_var.ptr,
      bn.args.eps,
      F,
      pass.dtype,
    );
    const w = this.params.weight;
    const d = this.#groupSizes(pass.n);
    const b = this.params.bias ?? this.#zeroBias(pass);
    convolve(y.ptr, x.ptr, w, b.ptr, d, relu !== null, pass.dtype, table.ptr);
    this.#x = x;
    return y;
  }

  backward(dy: Tensor, pass: Pass): Tensor | null {
    const w = this.params.weight;
    const dx = this.needsInputGrad ? pass.ws.get(this.key("dx"), [pass.n, ...this.inputShape], pass.dtype) : null;
    // The direct kernels write dw and db with dx: a frozen conv (here only to pass dx on) has them
    // write aside, and skips them where dx runs by Winograd.
    const dw = this.trainable ? this.grads.weight : pass.ws.get(this.key("dw aside"), w.shape, pass.dtype);
    if (this.isDepthwise) {
      const db = this.grads.bias && this.trainable ? this.grads.bias.ptr : 0;
      depthwiseBackward(dx?.ptr ?? 0, dw.ptr, db, dy.ptr, this.#x!.ptr, w.ptr, this.#depthwiseSizes(pass.n), pass.dtype);
      return dx;
    }
    const d = this.#groupSizes(pass.n);
    const g = this.args.groups;
    const db = this.trainable && this.grads.bias ? this.grads.bias : pass.ws.get(this.key("db aside"), [this.args.out_channels], pass.dtype);
    if (g === 1) {
      convolveBackward(dx?.ptr ?? 0, dw.ptr, db.ptr, dy.ptr, this.#x!.ptr, w, d, pass.dtype, this.trainable);
      return dx;
    }
    const B = bytesPerElement(pass.dtype);
    const xg = pass.ws.get(this.key("xg"), [g, pass.n, d.C * d.H * d.W], pass.dtype); // forward's regrouped input
    const dyg = this.#regrouped(pass, "dyg", dy, d.F * d.P);
    const dxg = dx ? pass.ws.get(this.key("dxg"), [g, pass.n, d.C * d.H * d.W], pass.dtype) : null;
    for (let j = 0; j < g; j++) {
      convBackward(
        dxg ? dxg.ptr + j * pass.n * d.C * d.H * d.W * B : 0,
        dw.ptr + j * d.F * d.K * B,
        db.ptr + j * d.F * B,
        dyg.ptr + j * pass.n * d.F * d.P * B,
        xg.ptr + j * pass.n * d.C * d.H * d.W * B,
        w.ptr + j * d.F * d.K * B,
        d,
        pass.dtype,
      );
    }
    if (dx && dxg) this.#ungroup(pass, dx, dxg, d.C * d.H * d.W);
    return dx;
  }

  /** t (N, g·rowSize...) regrouped as (g, N, rowSize): one gather of rows by index. */
  #regrouped(pass: Pass, name: string, t: Tensor, rowSize: number): Tensor {
    const g = this.args.groups;
    const out = pass.ws.get(this.key(name), [g, pass.n, rowSize], pass.dtype);
    const idx = this.#permutation(pass, "regroup", (r) => (r % pass.n) * g + Math.floor(r / pass.n));
    useFamily(TRAIN_KERNELS);
    realKernels(pass.dtype).gather_rows(out.ptr, t.ptr, idx, g * pass.n, rowSize);
    return out;
  }

  /** grouped (g, N, rowSize) back into t (N, g·rowSize). */
  #ungroup(pass: Pass, t: Tensor, grouped: Tensor, rowSize: number): void {
    const g = this.args.groups;
    const idx = this.#permutation(pass, "ungroup", (r) => (r % g) * pass.n + Math.floor(r / g));
    useFamily(TRAIN_KERNELS);
    realKernels(pass.dtype).gather_rows(t.ptr, grouped.ptr, idx, g * pass.n, rowSize);
  }

  /** int32 row indices idx[r] = source(r) for r < g·N (a few thousand writes: written every call). */
  #permutation(pass: Pass, name: string, source: (r: number) => number): number {
    const count = this.args.groups * pass.n;
    const ptr = pass.ws.block(this.key(name), count * 4);
    const view = i32();
    const at = ptr >>> 2;
    for (let r = 0; r < count; r++) view[at + r] = source(r);
    return ptr;
  }
}

function checkKernelSize(fn: string, value: unknown): [number, number] {
  if (typeof value === "number") {
    checkInteger(fn, "kernelSize", value, 1);
    return [value, value];
  }
  if (Array.isArray(value) && value.length === 2) {
    return [checkInteger(fn, "kernelSize[0]", value[0], 1), checkInteger(fn, "kernelSize[1]", value[1], 1)];
  }
  throw new TypeError(`${fn}: kernelSize must be an integer or [kh, kw] (got ${describe(value)})`);
}
