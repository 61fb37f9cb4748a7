// Modules from their specs ({ type, args, children }): how a checkpoint rebuilds a Sequential.
// One entry per module type, named as PyTorch names the class.
import { describe } from "../core/validate.js";
import { GELU, LeakyReLU, ReLU, Sigmoid, Tanh } from "./activations.js";
import { BatchNorm1d, BatchNorm2d } from "./batchnorm.js";
import { Conv2d } from "./conv2d.js";
import { Dropout } from "./dropout.js";
import { Flatten } from "./flatten.js";
import { Linear } from "./linear.js";
import type { Module, ModuleSpec } from "./module.js";
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from "./pooling.js";
import { Residual } from "./residual.js";

type Args = Record<string, never>;
type Children = Record<string, ModuleSpec[]>;

const BUILDERS: Readonly<Record<string, (a: Args, children: Children, where: string) => Module>> = {
  Linear: (a) => new Linear(a.in_features, a.out_features, { bias: a.bias, init: a.init }),
  Conv2d: (a) =>
    new Conv2d(a.in_channels, a.out_channels, a.kernel_size, { stride: a.stride, padding: a.padding, groups: a.groups, bias: a.bias, init: a.init }),
  BatchNorm1d: (a) => new BatchNorm1d(a.num_features, { eps: a.eps, momentum: a.momentum }),
  BatchNorm2d: (a) => new BatchNorm2d(a.num_features, { eps: a.eps, momentum: a.momentum }),
  ReLU: () => new ReLU(),
  Tanh: () => new Tanh(),
  Sigmoid: () => new Sigmoid(),
  LeakyReLU: (a) => new LeakyReLU(a.negative_slope),
  GELU: (a) => new GELU({ approximate: a.approximate }),
  Dropout: (a) => new Dropout(a.p),
  MaxPool2d: (a) => new MaxPool2d(a.kernel_size, { stride: a.stride, padding: a.padding }),
  AvgPool2d: (a) => new AvgPool2d(a.kernel_size, { stride: a.stride, padding: a.padding, countIncludePad: a.count_include_pad }),
  AdaptiveAvgPool2d: (a, _, where) => {
    const size: unknown = a.output_size;
    if (size !== 1 && !(Array.isArray(size) && size.length === 2 && size[0] === 1 && size[1] === 1)) {
      throw new RangeError(`${where}: AdaptiveAvgPool2d is supported with output_size 1 (global average pooling) only (got ${describe(size)})`);
    }
    return new AdaptiveAvgPool2d();
  },
  Flatten: () => new Flatten(),
  Residual: (_, c, where) => new Residual(specList(`${where}.children.body`, c.body), specList(`${where}.children.shortcut`, c.shortcut ?? [])),
};

/** The module a spec describes; a TypeError naming `where` for anything else. */
export function moduleFromSpec(where: string, spec: unknown): Module {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
    throw new TypeError(`${where} must be a module or a module spec { type, args } (got ${describe(spec)})`);
  }
  const { type, args, children } = spec as Partial<ModuleSpec>;
  if (type === undefined)
    throw new TypeError(`${where} must be a module (tl.nn.linear(...), ...) or a module spec { type, args } (got an object without a type)`);
  if (typeof type !== "string" || !Object.hasOwn(BUILDERS, type)) {
    throw new TypeError(`${where}: unknown module type ${describe(type)} (known: ${Object.keys(BUILDERS).join(", ")})`);
  }
  if (args !== undefined && (args === null || typeof args !== "object" || Array.isArray(args))) {
    throw new TypeError(`${where}.args must be an object (got ${describe(args)})`);
  }
  if (children !== undefined && (children === null || typeof children !== "object" || Array.isArray(children))) {
    throw new TypeError(`${where}.children must be an object of module lists (got ${describe(children)})`);
  }
  return BUILDERS[type]((args ?? {}) as Args, (children ?? {}) as Children, where);
}

function specList(where: string, value: unknown): Module[] {
  if (!Array.isArray(value)) throw new TypeError(`${where} must be an array of module specs (got ${describe(value)})`);
  return value.map((s, i) => moduleFromSpec(`${where}[${i}]`, s));
}
