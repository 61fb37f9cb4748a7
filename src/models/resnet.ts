// tl.models.resnet: a small ResNet for image classification, composed of tl.nn modules (so it is
// a Sequential like any other: parameters named as PyTorch's state_dict, checkpoints, ONNX).
//   stem:   conv 3x3 (inputChannels -> widths[0], padding 1, no bias) - BatchNorm2d - ReLU
//   stages: for each width w of `widths`, blocks[s] basic blocks, the first of stages after the
//           first (or every stage when `downsampleFirst`) with stride 2; each block is ResNet's
//           body(x) + shortcut(x) (conv 3x3 - BN - ReLU - conv 3x3 - BN; the shortcut a strided
//           1x1 conv and a BN when the shape changes, else the identity), then a ReLU; with
//           zeroInitResidual the body's last BN starts with gamma 0
//   head:   global average pooling - flatten - linear (widths.at(-1) -> numClasses)
// (He et al. 2016, "Deep residual learning", the CIFAR variant: 3x3 stem, no max-pool.)
import type { DType } from "../core/dtype.js";
import * as nn from "../nn/index.js";
import type { Module } from "../nn/module.js";
import { checkInteger, checkOptions, describe } from "../core/validate.js";
import { sequential, type Sequential } from "./sequential.js";

/** Options of tl.models.resnet (inputShape is required). */
export interface ResNetOptions {
  /** One image's shape (C, H, W), e.g. [1, 28, 28]. */
  inputShape: [number, number, number];
  /** Classes scored. Default 10. */
  numClasses?: number;
  /** Channels of each stage. Default [16, 32, 64]. */
  widths?: number[];
  /** Basic blocks per stage (one number for every stage, or one per stage). Default 1. */
  blocks?: number | number[];
  /** Whether the first stage also halves the image (for large inputs). Default false. */
  downsampleFirst?: boolean;
  /** How the conv and linear weights start. Default "kaiming" (normal, std sqrt(2 / fanIn)). */
  init?: nn.InitOption;
  /** Seeds the initial parameters. Default: drawn from the global stream. */
  seed?: number;
  /** Parameters, gradients and inputs in "float32" (default) or "float64". */
  dtype?: DType;
  /** Label smoothing of the training loss. Default 0. */
  labelSmoothing?: number;
  /**
   * Whether each block's last batch norm starts with gamma 0, so every block starts as its
   * shortcut (torchvision's zero_init_residual; "Bag of tricks", He et al. 2019). Default false.
   */
  zeroInitResidual?: boolean;
}

const KNOWN = ["inputShape", "numClasses", "widths", "blocks", "downsampleFirst", "init", "seed", "dtype", "labelSmoothing", "zeroInitResidual"];

/** A small ResNet (see the top of the file) as a Sequential. */
export function resnet(options: ResNetOptions): Sequential {
  const fn = "models.resnet";
  const o = checkOptions(fn, "options", options, KNOWN) as unknown as ResNetOptions;
  if (!Array.isArray(o.inputShape) || o.inputShape.length !== 3) {
    throw new TypeError(`${fn}: options.inputShape must be one image's shape [C, H, W] (got ${describe(o.inputShape)})`);
  }
  const [channels] = o.inputShape;
  const numClasses = o.numClasses === undefined ? 10 : checkInteger(fn, "options.numClasses", o.numClasses, 1);
  const widths = o.widths === undefined ? [16, 32, 64] : checkWidths(fn, o.widths);
  const blocks = checkBlocks(fn, o.blocks, widths.length);
  for (const name of ["downsampleFirst", "zeroInitResidual"] as const) {
    if (o[name] !== undefined && typeof o[name] !== "boolean") throw new TypeError(`${fn}: options.${name} must be true or false (got ${describe(o[name])})`);
  }
  const init = o.init ?? "kaiming";
  const modules: Module[] = [nn.conv2d(channels, widths[0], 3, { padding: 1, bias: false, init }), nn.batchNorm2d(widths[0]), nn.relu()];
  let width = widths[0];
  widths.forEach((w, s) => {
    for (let b = 0; b < blocks[s]; b++) {
      const stride = b === 0 && (s > 0 || o.downsampleFirst === true) ? 2 : 1;
      modules.push(basicBlock(width, w, stride, init, o.zeroInitResidual === true), nn.relu());
      width = w;
    }
  });
  modules.push(nn.globalAvgPool(), nn.flatten(), nn.linear(width, numClasses, { init }));
  return sequential(modules, { inputShape: [...o.inputShape], seed: o.seed, dtype: o.dtype, labelSmoothing: o.labelSmoothing });
}

/**
 * ResNet's basic block: body(x) + shortcut(x), the shortcut projecting when the shape changes.
 * zeroInit: the body's last batch norm starts with gamma 0 (the block starts as its shortcut).
 */
export function basicBlock(cin: number, cout: number, stride: number, init: nn.InitOption = "kaiming", zeroInit = false): nn.Residual {
  const body = [
    nn.conv2d(cin, cout, 3, { stride, padding: 1, bias: false, init }),
    nn.batchNorm2d(cout),
    nn.relu(),
    nn.conv2d(cout, cout, 3, { padding: 1, bias: false, init }),
    nn.batchNorm2d(cout, zeroInit ? { weightInit: 0 } : undefined),
  ];
  const shortcut = stride !== 1 || cin !== cout ? [nn.conv2d(cin, cout, 1, { stride, bias: false, init }), nn.batchNorm2d(cout)] : undefined;
  return nn.residual(body, shortcut);
}

function checkWidths(fn: string, value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new TypeError(`${fn}: options.widths must be a non-empty array of channel counts (got ${describe(value)})`);
  return value.map((w, i) => checkInteger(fn, `options.widths[${i}]`, w, 1));
}

function checkBlocks(fn: string, value: unknown, stages: number): number[] {
  if (value === undefined) return new Array<number>(stages).fill(1);
  if (typeof value === "number") return new Array<number>(stages).fill(checkInteger(fn, "options.blocks", value, 1));
  if (!Array.isArray(value) || value.length !== stages) {
    throw new TypeError(`${fn}: options.blocks must be a block count or one per stage (${stages} numbers, as widths) (got ${describe(value)})`);
  }
  return value.map((b, i) => checkInteger(fn, `options.blocks[${i}]`, b, 1));
}
