// Each tl.nn module against PyTorch (test/fixtures/torch/layers/, made by Debian's python3-torch
// in float64): forward output, input gradient and parameter gradients of sum(out * dout), in
// float64 (forward within 1e-10, gradients within 1e-8 of the largest entry) and float32.
import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import type { Module } from "../src/nn/module.js";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { relativeError, runModuleOnCase, TORCH_FIXTURES, torchCase, type TorchCase } from "./helpers/torch-fixtures.js";
import { winogradPays, winogradWeightGradientPays } from "../src/ops/conv.js";
import { inputGradientSizes } from "../src/ops/conv-algorithm.js";

beforeAll(() => tl.init({ float64: true }));

const TOLERANCE = {
  float64: { forward: 1e-10, gradient: 1e-8 },
  float32: { forward: 1e-5, gradient: 1e-4 },
} as const;

/** A PyTorch basic block as the fixtures define it (README "The residual block"). */
function basicBlock(cin: number, cout: number, stride: number): Module {
  const body = [
    tl.nn.conv2d(cin, cout, 3, { stride, padding: 1, bias: false }),
    tl.nn.batchNorm2d(cout),
    tl.nn.relu(),
    tl.nn.conv2d(cout, cout, 3, { padding: 1, bias: false }),
    tl.nn.batchNorm2d(cout),
  ];
  const shortcut = stride !== 1 || cin !== cout ? [tl.nn.conv2d(cin, cout, 1, { stride, bias: false }), tl.nn.batchNorm2d(cout)] : undefined;
  return tl.nn.residual(body, shortcut);
}

/** The module (or modules) a case's metadata describes. */
function moduleFor(name: string, c: TorchCase): Module | Module[] {
  const a = c.args as Record<string, never>;
  switch (c.metadata.module) {
    case "torch.nn.Conv2d":
      return tl.nn.conv2d(a.in_channels, a.out_channels, a.kernel_size, { stride: a.stride, padding: a.padding, groups: a.groups, bias: a.bias });
    case "torch.nn.Linear":
      return tl.nn.linear(a.in_features, a.out_features);
    case "torch.nn.BatchNorm1d":
      return tl.nn.batchNorm1d(a.num_features, { eps: a.eps, momentum: a.momentum });
    case "torch.nn.BatchNorm2d":
      return tl.nn.batchNorm2d(a.num_features, { eps: a.eps, momentum: a.momentum });
    case "torch.nn.ReLU":
      return tl.nn.relu();
    case "torch.nn.Tanh":
      return tl.nn.tanh();
    case "torch.nn.Flatten":
      return tl.nn.flatten();
    case "torch.nn.Dropout":
      return tl.nn.dropout(a.p);
    case "torch.nn.Sigmoid":
      return tl.nn.sigmoid();
    case "torch.nn.LeakyReLU":
      return tl.nn.leakyRelu(a.negative_slope);
    case "torch.nn.GELU":
      return tl.nn.gelu({ approximate: a.approximate });
    case "torch.nn.MaxPool2d":
      return tl.nn.maxPool2d(a.kernel_size, { stride: a.stride, padding: a.padding });
    case "torch.nn.AvgPool2d":
      return tl.nn.avgPool2d(a.kernel_size, { stride: a.stride, padding: a.padding, countIncludePad: a.count_include_pad });
    case "torch.nn.AdaptiveAvgPool2d":
      return tl.nn.globalAvgPool();
    case "Residual":
      return name.startsWith("residual_proj") ? basicBlock(5, 6, 2) : basicBlock(6, 6, 1);
    case "ResidualReLU":
      return [basicBlock(5, 6, 2), tl.nn.relu()];
    default:
      throw new Error(`no module for ${c.metadata.module}`);
  }
}

// Every layer fixture, so a new one cannot be left out.
const CASES = readdirSync(join(TORCH_FIXTURES, "layers"))
  .filter((f) => f.endsWith(".safetensors"))
  .map((f) => f.replace(/\.safetensors$/, ""))
  .sort();

describe.each(["float64", "float32"] as const)("tl.nn modules against PyTorch, %s", (dtype) => {
  const tol = TOLERANCE[dtype];
  it("covers every layer fixture", () => expect(CASES.length).toBeGreaterThanOrEqual(40));
  it("the *_winograd fixtures take F(2x2, 3x3): forward, and dx and dw except at pad 2 (whose direct dx brings dw)", () => {
    const names = CASES.filter((n) => n.endsWith("_winograd"));
    expect(names.length).toBe(4);
    for (const name of names) {
      const c = torchCase("layers", name);
      const a = c.args as { out_channels: number; padding?: number };
      const [N, C, H, W] = c.tensors.x.shape;
      const pad = a.padding ?? 0;
      const Ho = H + 2 * pad - 2;
      const Wo = W + 2 * pad - 2;
      const d = { N, C, H, W, F: a.out_channels, HH: 3, WW: 3, stride: 1, pad, Ho, Wo, K: C * 9, P: Ho * Wo };
      expect(winogradPays(d), `${name} forward`).toBe(true);
      expect(winogradPays(inputGradientSizes(d)!), `${name} dx`).toBe(pad !== 2);
      expect(winogradWeightGradientPays(d), `${name} dw`).toBe(true);
    }
  });
  it.each(CASES)("%s: forward, dx and every parameter gradient", (name) => {
    const c = torchCase("layers", name);
    // Max pooling does the same in both modes, but saves its argmax (what backward reads) only in
    // training mode: run it there.
    const run = runModuleOnCase(moduleFor(name, c), c, dtype, c.metadata.mode === "train" || name.startsWith("maxpool"));
    const errors: Record<string, number> = { out: relativeError(run.out, c.tensors.out.data) };
    errors.dx = relativeError(run.dx!, c.tensors.dx.data);
    for (const [param, g] of Object.entries(run.grads)) errors[`grad.${param}`] = relativeError(g, c.tensors[`grad.${param}`].data);
    // Running statistics after a training forward (the variance is PyTorch's unbiased one).
    for (const [buffer, v] of Object.entries(run.buffers)) {
      const after = c.tensors[`${buffer}.after`];
      if (after) errors[`${buffer}.after`] = relativeError(v, after.data);
    }
    const limits = Object.fromEntries(Object.keys(errors).map((k) => [k, k === "out" || k.endsWith(".after") ? tol.forward : tol.gradient]));
    const over = Object.keys(errors).filter((k) => !(errors[k] <= limits[k]));
    expect(over, `${name} (${dtype}) errors ${JSON.stringify(errors)}`).toEqual([]);
  });
});
