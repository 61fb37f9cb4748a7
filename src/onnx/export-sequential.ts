// A tl.sequential as an ONNX graph: its test-mode forward pass, module by module.
//
//   Linear            Gemm(h, weight, bias?, transB = 1)      weight (out, in), as PyTorch writes it
//   Conv2d            Conv(h, weight, bias?)                  kernel_shape, strides, pads, group, dilations 1
//   BatchNorm1d / 2d  BatchNormalization(h, weight, bias, running_mean, running_var)   epsilon, momentum (ONNX's: 1 - PyTorch's)
//   ReLU, Tanh, Sigmoid, LeakyReLU                Relu, Tanh, Sigmoid, LeakyRelu(alpha)
//   GELU              the elementwise form torch.onnx.export writes (opset 13 has no Gelu op):
//                     erf:  Mul(Mul(h, Add(Erf(Div(h, sqrt 2)), 1)), 0.5)
//                     tanh: Mul(Mul(h, Add(Tanh(Mul(Add(h, Mul(0.044715, h·h·h)), sqrt(2/pi))), 1)), 0.5)
//   MaxPool2d, AvgPool2d, global average pooling  MaxPool, AveragePool (count_include_pad), GlobalAveragePool
//   Flatten           Flatten(axis = 1)
//   Dropout           nothing (the identity in test mode)
//   Residual          body and shortcut from one tensor, then Add(body, shortcut)
//
// Initializers carry the model's parameter and buffer names (for a model importOnnx made, the
// names of the file it came from), so importOnnx(exportOnnx(model)) names everything alike.
import type { Module } from "../nn/module.js";
import type { Sequential } from "../models/sequential.js";
import type { Tensor } from "../core/tensor.js";
import { OnnxGraph } from "./graph.js";

/** The graph of a Sequential's test-mode forward pass: input "x" (N, ...inputShape), output "scores" (N, classes). */
export function sequentialGraph(fn: string, model: Sequential): OnnxGraph {
  const { inputShape, numClasses } = model.config;
  const g = new OnnxGraph("Sequential", { name: "x", dims: ["N", ...inputShape] }, { name: "scores", dims: ["N", numClasses] });
  // Every tensor first, under its own name: node outputs then take names nothing else has.
  const names = new Map<Module, Map<string, string>>();
  for (const e of model.stateEntries()) {
    if (e.tensor === null) continue;
    if (g.has(e.name))
      throw new RangeError(`${fn}: the model's ${e.kind} ${JSON.stringify(e.name)} has the name of the graph's input; rename it (Sequential option names)`);
    g.constant(e.name, e.shape, values(fn, e.name, e.tensor));
    const own = names.get(e.module) ?? new Map<string, string>();
    own.set(e.local, e.name);
    names.set(e.module, own);
  }
  const tensor = (m: Module, local: string): string => {
    const name = names.get(m)?.get(local);
    if (name === undefined) throw new TypeError(`${fn}: module ${m.path} (${m.type}) has no ${local}`);
    return name;
  };
  const out = emitChain(fn, g, model.modules, "x", "scores", tensor);
  if (out !== "scores") g.node("Identity", [out], "scores");
  return g;
}

type TensorName = (m: Module, local: string) => string;

/** Emits modules in order from value h; the last node is named `last` when given. Returns the chain's output. */
function emitChain(fn: string, g: OnnxGraph, modules: readonly Module[], h: string, last: string | null, tensor: TensorName): string {
  modules.forEach((m, i) => {
    h = emitModule(fn, g, m, h, i === modules.length - 1 ? last : null, tensor);
  });
  return h;
}

function emitModule(fn: string, g: OnnxGraph, m: Module, h: string, last: string | null, tensor: TensorName): string {
  const a = m.args as Record<string, unknown>;
  const name = (op: string, final = true) => (final && last !== null ? last : g.fresh(`${m.path}/${op}`));
  const num = (key: string, fallback?: number): number => {
    const v = a[key] ?? fallback;
    if (typeof v !== "number") throw new TypeError(`${fn}: module ${m.path} (${m.type}) has no number ${key} to export`);
    return v;
  };
  const window = (k: number, stride: number, padding: number) => ({
    kernel_shape: [k, k],
    strides: [stride, stride],
    pads: [padding, padding, padding, padding],
  });
  switch (m.type) {
    case "Linear": {
      const inputs = [h, tensor(m, "weight"), ...(a.bias ? [tensor(m, "bias")] : [])];
      return g.node("Gemm", inputs, name("Gemm"), { transB: 1 });
    }
    case "Conv2d": {
      const [kh, kw] = a.kernel_size as [number, number];
      const p = num("padding");
      const s = num("stride");
      const inputs = [h, tensor(m, "weight"), ...(a.bias ? [tensor(m, "bias")] : [])];
      return g.node("Conv", inputs, name("Conv"), {
        kernel_shape: [kh, kw],
        strides: [s, s],
        pads: [p, p, p, p],
        group: num("groups", 1),
        dilations: [1, 1],
      });
    }
    case "BatchNorm1d":
    case "BatchNorm2d": {
      const inputs = ["weight", "bias", "running_mean", "running_var"].map((local) => tensor(m, local));
      return g.node("BatchNormalization", [h, ...inputs], name("BatchNormalization"), {
        epsilon: { float: num("eps") },
        momentum: { float: 1 - num("momentum") },
      });
    }
    case "ReLU":
      return g.node("Relu", [h], name("Relu"));
    case "Tanh":
      return g.node("Tanh", [h], name("Tanh"));
    case "Sigmoid":
      return g.node("Sigmoid", [h], name("Sigmoid"));
    case "LeakyReLU":
      return g.node("LeakyRelu", [h], name("LeakyRelu"), { alpha: { float: num("negative_slope", 0.01) } });
    case "GELU":
      return gelu(g, m, h, a.approximate === "tanh", last);
    case "Dropout":
      return last !== null ? g.node("Identity", [h], last) : h;
    case "Flatten":
      return g.node("Flatten", [h], name("Flatten"), { axis: 1 });
    case "MaxPool2d":
      return g.node("MaxPool", [h], name("MaxPool"), window(num("kernel_size"), num("stride", num("kernel_size")), num("padding", 0)));
    case "AvgPool2d": {
      const k = num("kernel_size");
      const include = (a.count_include_pad ?? a.countIncludePad ?? true) === true ? 1 : 0;
      return g.node("AveragePool", [h], name("AveragePool"), { ...window(k, num("stride", k), num("padding", 0)), count_include_pad: include });
    }
    case "AdaptiveAvgPool2d":
    case "GlobalAvgPool":
    case "GlobalAvgPool2d":
      return g.node("GlobalAveragePool", [h], name("GlobalAveragePool"));
    case "Residual": {
      const [, body] = m.children().find(([n]) => n === "body")!;
      const shortcut = m.children().find(([n]) => n === "shortcut")?.[1] ?? [];
      const b = emitChain(fn, g, body, h, null, tensor);
      const s = emitChain(fn, g, shortcut, h, null, tensor);
      return g.node("Add", [b, s], name("Add"));
    }
    default:
      throw new TypeError(`${fn}: module ${m.path} (${m.describe()}) has no ONNX form in this exporter`);
  }
}

/** GELU as the elementwise nodes torch.onnx.export writes; constants are float32 scalar initializers. */
function gelu(g: OnnxGraph, m: Module, x: string, tanhForm: boolean, last: string | null): string {
  const c = (label: string, v: number) => g.constant(g.fresh(`${m.path}/${label}`), [], Float32Array.of(v));
  const op = (type: string, inputs: string[]) => g.node(type, inputs, g.fresh(`${m.path}/${type}`));
  let inner: string;
  if (tanhForm) {
    const cube = op("Mul", [x, op("Mul", [x, x])]);
    const sum = op("Add", [x, op("Mul", [c("c0.044715", 0.044715), cube])]);
    inner = op("Tanh", [op("Mul", [c("sqrt(2/pi)", 0.7978845608028654), sum])]);
  } else {
    inner = op("Erf", [op("Div", [x, c("sqrt2", Math.SQRT2)])]);
  }
  const gate = op("Mul", [x, op("Add", [inner, c("one", 1)])]);
  const half = c("half", 0.5);
  return g.node("Mul", [gate, half], last ?? g.fresh(`${m.path}/Mul`));
}

function values(fn: string, name: string, t: Tensor): Float32Array {
  if (t.isDisposed) throw new TypeError(`${fn}: the model was disposed (its ${name} is freed); export it before calling dispose()`);
  return t.toArray() as Float32Array;
}
