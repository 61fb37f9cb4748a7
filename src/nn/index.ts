// tl.nn: the modules a model is composed of, named and shaped as PyTorch's torch.nn.
//   const net = tl.sequential([tl.nn.conv2d(1, 8, 3, { padding: 1 }), tl.nn.relu(), tl.nn.flatten(),
//     tl.nn.linear(8 * 28 * 28, 10)], { inputShape: [1, 28, 28], seed: 1 });
import { GELU, LeakyReLU, ReLU, Sigmoid, Tanh, type GeluOptions } from "./activations.js";
import { BatchNorm1d, BatchNorm2d, type BatchNormOptions } from "./batchnorm.js";
import { Conv2d, type Conv2dOptions } from "./conv2d.js";
import { Dropout } from "./dropout.js";
import { Flatten } from "./flatten.js";
import { Linear, type LinearOptions } from "./linear.js";
import type { Module } from "./module.js";
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, type AvgPool2dOptions, type MaxPool2dOptions } from "./pooling.js";
import { Residual } from "./residual.js";

export { Module, type ModuleSpec, type Pass, type ModulePlan, type TensorSpec, type Init } from "./module.js";
export { Linear, Conv2d, BatchNorm1d, BatchNorm2d, ReLU, Tanh, Sigmoid, LeakyReLU, GELU, Dropout, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Residual };
export type { LinearOptions, Conv2dOptions, BatchNormOptions, GeluOptions, MaxPool2dOptions, AvgPool2dOptions };
export type { InitOption } from "./init.js";

/** nn.Linear: y = x · Wᵀ + b, weight (outFeatures, inFeatures). */
export function linear(inFeatures: number, outFeatures: number, options?: LinearOptions): Linear {
  return new Linear(inFeatures, outFeatures, options);
}

/**
 * nn.Conv2d: weight (outChannels, inChannels / groups, k, k); options stride, padding, groups, bias.
 * groups = inChannels = outChannels is a depthwise convolution (its own kernels).
 */
export function conv2d(inChannels: number, outChannels: number, kernelSize: number | [number, number], options?: Conv2dOptions): Conv2d {
  return new Conv2d(inChannels, outChannels, kernelSize, options);
}

/** nn.BatchNorm1d over (N, numFeatures). */
export function batchNorm1d(numFeatures: number, options?: BatchNormOptions): BatchNorm1d {
  return new BatchNorm1d(numFeatures, options);
}

/** nn.BatchNorm2d over (N, numFeatures, H, W), statistics per channel. */
export function batchNorm2d(numFeatures: number, options?: BatchNormOptions): BatchNorm2d {
  return new BatchNorm2d(numFeatures, options);
}

/** nn.ReLU. */
export function relu(): ReLU {
  return new ReLU();
}

/** nn.Tanh. */
export function tanh(): Tanh {
  return new Tanh();
}

/** nn.Sigmoid: 1 / (1 + e^-x). */
export function sigmoid(): Sigmoid {
  return new Sigmoid();
}

/** nn.LeakyReLU: x for x > 0, negativeSlope·x otherwise (default slope 0.01). */
export function leakyRelu(negativeSlope = 0.01): LeakyReLU {
  return new LeakyReLU(negativeSlope);
}

/** nn.GELU: x·Φ(x), exact (erf) by default, or the tanh approximation with { approximate: "tanh" }. */
export function gelu(options?: GeluOptions): GELU {
  return new GELU(options);
}

/** nn.Dropout: zeroes each unit with probability p in training (the kept ones scaled by 1/(1-p)); identity in test mode. */
export function dropout(p = 0.5): Dropout {
  return new Dropout(p);
}

/** nn.MaxPool2d(kernelSize, { stride = kernelSize, padding = 0 }): padding pads with -Infinity. */
export function maxPool2d(kernelSize: number, options?: MaxPool2dOptions): MaxPool2d {
  return new MaxPool2d(kernelSize, options);
}

/** nn.AvgPool2d(kernelSize, { stride = kernelSize, padding = 0, countIncludePad = true }). */
export function avgPool2d(kernelSize: number, options?: AvgPool2dOptions): AvgPool2d {
  return new AvgPool2d(kernelSize, options);
}

/** Global average pooling, nn.AdaptiveAvgPool2d(1): (N, C, H, W) -> (N, C, 1, 1), each channel's mean. */
export function globalAvgPool(): AdaptiveAvgPool2d {
  return new AdaptiveAvgPool2d();
}

/** nn.Flatten: (N, ...) -> (N, product of the rest). */
export function flatten(): Flatten {
  return new Flatten();
}

/** A residual block: body(x) + shortcut(x), the shortcut the identity unless given. */
export function residual(body: Module[], shortcut?: Module[]): Residual {
  return new Residual(body, shortcut);
}
