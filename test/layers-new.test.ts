// The new layers' kernels (issue 20) against PyTorch: GELU (erf and tanh), leaky ReLU, sigmoid,
// average pooling (kernel 2 and 3, stride 2, padding 1 counted or not), global average pooling
// and depthwise 3x3 convolution (stride 1 and 2, padding 1, with bias), called through their host
// ops (src/ops/*) on the inputs PyTorch 1.13 recorded in test/fixtures/torch/layers/ (see its
// README), in float64 (forward within 1e-10, gradients within 1e-8, relative to the largest
// reference value) and in float32 from the same inputs rounded (within float32 tolerances).
// TENSORLANE_PRINT_ERRORS=1 prints every measured error.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import type { DType } from "../src/core/dtype.js";
import { avgPoolBackward, avgPoolForward, avgPoolSizes, globalAvgPoolBackward, globalAvgPoolForward } from "../src/ops/avgpool.js";
import { depthwiseBackward, depthwiseForward, depthwiseSizes } from "../src/ops/depthwise.js";
import { add, gelu, geluBackward, leakyRelu, leakyReluBackward, sigmoid, sigmoidBackward } from "../src/ops/elementwise.js";
import { initAndCheckLeaks } from "./helpers.js";

initAndCheckLeaks({ float64: true });

/** Tolerances, relative to the largest |reference value| of the tensor. */
const TOL = {
  float64: { forward: 1e-10, gradient: 1e-8 },
  float32: { forward: 1e-6, gradient: 2e-6 },
} as const;
const DTYPES: DType[] = ["float64", "float32"];

interface Fixture {
  tensors: Record<string, { shape: number[]; data: Float64Array }>;
  args: Record<string, unknown>;
}

function fixture(name: string): Fixture {
  const { tensors, metadata } = tl.decodeSafetensors(readFileSync(new URL(`./fixtures/torch/layers/${name}.safetensors`, import.meta.url)));
  return { tensors: tensors as Fixture["tensors"], args: JSON.parse((metadata as Record<string, string>).args) };
}

/** A tensor of the fixture's values in dtype (float32 rounds them). */
function load(f: Fixture, name: string, dtype: DType): tl.Tensor {
  const t = f.tensors[name];
  expect(t, `fixture tensor ${name}`).toBeDefined();
  return tl.tensor(t.data, t.shape, { dtype });
}

function zeros(shape: tl.Shape, dtype: DType): tl.Tensor {
  return tl.zeros(shape, { dtype });
}

/** max |actual - expected| / max |expected|, the worst element named in the failure message. */
function expectNear(what: string, actual: tl.Tensor, expected: Float64Array, limit: number): void {
  const a = actual.toArray();
  expect(a.length, `${what}: length`).toBe(expected.length);
  let peak = 0;
  for (const v of expected) peak = Math.max(peak, Math.abs(v));
  let worst = 0,
    at = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - expected[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  const rel = worst / Math.max(peak, 1e-300);
  if (process.env.TENSORLANE_PRINT_ERRORS) console.log(`${what.padEnd(40)} ${actual.dtype} relative error ${rel.toExponential(2)} (limit ${limit})`);
  expect(rel, `${what}: relative error ${rel.toExponential(2)} over ${limit} at ${at} (got ${a[at]}, PyTorch ${expected[at]})`).toBeLessThanOrEqual(limit);
}

describe.each(DTYPES)("activations against PyTorch, %s", (dtype) => {
  const tol = TOL[dtype];

  for (const name of ["gelu_erf", "gelu_tanh"]) {
    it(`${name}: forward and backward (the gradient from the forward input)`, () => {
      const f = fixture(name);
      const approximate = f.args.approximate as "none" | "tanh";
      tl.tidy(() => {
        const x = load(f, "x", dtype),
          dout = load(f, "dout", dtype);
        const out = zeros(x.shape, dtype),
          dx = zeros(x.shape, dtype);
        gelu(out.ptr, x.ptr, x.size, approximate, dtype);
        geluBackward(dx.ptr, dout.ptr, x.ptr, x.size, approximate, dtype);
        expectNear(`${name} out`, out, f.tensors.out.data, tol.forward);
        expectNear(`${name} dx`, dx, f.tensors.dx.data, tol.gradient);
      });
    });
  }

  for (const name of ["leaky_relu_0.01", "leaky_relu_0.2"]) {
    it(`${name}: forward and backward, also in place`, () => {
      const f = fixture(name);
      const slope = f.args.negative_slope as number;
      tl.tidy(() => {
        const x = load(f, "x", dtype),
          dout = load(f, "dout", dtype);
        const out = zeros(x.shape, dtype),
          dx = zeros(x.shape, dtype);
        leakyRelu(out.ptr, x.ptr, x.size, slope, dtype);
        leakyReluBackward(dx.ptr, dout.ptr, x.ptr, x.size, slope, dtype);
        expectNear(`${name} out`, out, f.tensors.out.data, tol.forward);
        expectNear(`${name} dx`, dx, f.tensors.dx.data, tol.gradient);
        leakyReluBackward(dout.ptr, dout.ptr, x.ptr, x.size, slope, dtype);
        expectNear(`${name} dx in place`, dout, f.tensors.dx.data, tol.gradient);
      });
    });
  }

  it("sigmoid: forward, and backward from the saved OUTPUT", () => {
    const f = fixture("sigmoid");
    tl.tidy(() => {
      const x = load(f, "x", dtype),
        dout = load(f, "dout", dtype);
      const out = zeros(x.shape, dtype),
        dx = zeros(x.shape, dtype);
      sigmoid(out.ptr, x.ptr, x.size, dtype);
      sigmoidBackward(dx.ptr, dout.ptr, out.ptr, x.size, dtype);
      expectNear("sigmoid out", out, f.tensors.out.data, tol.forward);
      expectNear("sigmoid dx", dx, f.tensors.dx.data, tol.gradient);
    });
  });

  it("add (a residual sum): exact, also with y aliasing a or b", () => {
    tl.tidy(() => {
      const a = tl.randn([7, 143], { seed: 1, dtype }),
        b = tl.randn([7, 143], { seed: 2, dtype });
      const y = zeros(a.shape, dtype);
      add(y.ptr, a.ptr, b.ptr, a.size, dtype);
      const av = a.toArray(),
        bv = b.toArray();
      const want = dtype === "float64" ? av.map((v, i) => v + bv[i]) : new Float32Array(av.map((v, i) => v + bv[i]));
      expect(Array.from(y.toArray())).toEqual(Array.from(want));
      add(a.ptr, a.ptr, b.ptr, a.size, dtype);
      expect(Array.from(a.toArray())).toEqual(Array.from(want));
    });
  });
});

describe.each(DTYPES)("pooling against PyTorch, %s", (dtype) => {
  const tol = TOL[dtype];

  for (const name of ["avgpool_k2s2", "avgpool_k2s2_odd", "avgpool_k3s2p1_incpad", "avgpool_k3s2p1_excpad"]) {
    it(`${name}: forward and backward`, () => {
      const f = fixture(name);
      const k = f.args.kernel_size as number;
      const stride = (f.args.stride as number | null) ?? k;
      const pad = (f.args.padding as number | undefined) ?? 0;
      const countIncludePad = (f.args.count_include_pad as boolean | undefined) ?? true;
      tl.tidy(() => {
        const x = load(f, "x", dtype),
          dout = load(f, "dout", dtype);
        const [N, C, H, W] = x.shape;
        const s = avgPoolSizes("test", N, C, H, W, k, k, stride, stride, pad, pad, countIncludePad);
        expect([N, C, s.Ho, s.Wo]).toEqual(f.tensors.out.shape);
        const out = zeros([N, C, s.Ho, s.Wo], dtype),
          dx = zeros(x.shape, dtype);
        avgPoolForward(out.ptr, x.ptr, s, dtype);
        avgPoolBackward(dx.ptr, dout.ptr, s, dtype);
        expectNear(`${name} out`, out, f.tensors.out.data, tol.forward);
        expectNear(`${name} dx`, dx, f.tensors.dx.data, tol.gradient);
      });
    });
  }

  it("global_avgpool (AdaptiveAvgPool2d(1)): forward and backward", () => {
    const f = fixture("global_avgpool");
    tl.tidy(() => {
      const x = load(f, "x", dtype),
        dout = load(f, "dout", dtype);
      const [N, C, H, W] = x.shape;
      const out = zeros([N, C], dtype),
        dx = zeros(x.shape, dtype);
      globalAvgPoolForward(out.ptr, x.ptr, N * C, H * W, dtype);
      globalAvgPoolBackward(dx.ptr, dout.ptr, N * C, H * W, dtype);
      expectNear("global_avgpool out", out, f.tensors.out.data, tol.forward);
      expectNear("global_avgpool dx", dx, f.tensors.dx.data, tol.gradient);
    });
  });

  it("avgPoolSizes refuses what PyTorch refuses: padding over half the kernel, a window past the padded input", () => {
    expect(() => avgPoolSizes("AvgPool2d", 1, 1, 5, 5, 3, 3, 1, 1, 2, 2, true)).toThrow(/at most half/);
    expect(() => avgPoolSizes("AvgPool2d", 1, 1, 2, 2, 5, 5, 1, 1, 1, 1, true)).toThrow(/does not fit/);
    expect(() => avgPoolSizes("AvgPool2d", 1, 1, 5, 5, 0, 3, 1, 1, 0, 0, true)).toThrow(/kh must be an integer >= 1/);
  });
});

describe.each(DTYPES)("depthwise convolution against PyTorch, %s", (dtype) => {
  const tol = TOL[dtype];

  for (const name of ["depthwise3x3_s1_p1", "depthwise3x3_s2_p1"]) {
    it(`${name}: forward, then dx, dw and db (and without dx and db)`, () => {
      const f = fixture(name);
      const k = f.args.kernel_size as number,
        stride = (f.args.stride as number | undefined) ?? 1,
        pad = f.args.padding as number;
      tl.tidy(() => {
        const x = load(f, "x", dtype),
          w = load(f, "weight", dtype),
          b = load(f, "bias", dtype),
          dout = load(f, "dout", dtype);
        const [N, C, H, W] = x.shape;
        const s = depthwiseSizes("test", N, C, H, W, k, k, stride, stride, pad, pad);
        expect([N, C, s.Ho, s.Wo]).toEqual(f.tensors.out.shape);
        const out = zeros([N, C, s.Ho, s.Wo], dtype);
        const dx = zeros(x.shape, dtype),
          dw = zeros(w.shape, dtype),
          db = zeros([C], dtype);
        depthwiseForward(out.ptr, x.ptr, w.ptr, b.ptr, s, dtype);
        depthwiseBackward(dx.ptr, dw.ptr, db.ptr, dout.ptr, x.ptr, w.ptr, s, dtype);
        expectNear(`${name} out`, out, f.tensors.out.data, tol.forward);
        expectNear(`${name} dx`, dx, f.tensors.dx.data, tol.gradient);
        expectNear(`${name} dw`, dw, f.tensors["grad.weight"].data, tol.gradient);
        expectNear(`${name} db`, db, f.tensors["grad.bias"].data, tol.gradient);
        // dx = 0 and db = 0 skip those outputs and leave dw's bits as they were.
        const dw2 = zeros(w.shape, dtype);
        depthwiseBackward(0, dw2.ptr, 0, dout.ptr, x.ptr, w.ptr, s, dtype);
        expect(Array.from(dw2.toArray())).toEqual(Array.from(dw.toArray()));
        // Without bias: out - b.
        const outNoBias = zeros(out.shape, dtype);
        depthwiseForward(outNoBias.ptr, x.ptr, w.ptr, 0, s, dtype);
        const unbiased = f.tensors.out.data.map((v, i) => v - f.tensors.bias.data[Math.floor(i / (s.Ho * s.Wo)) % C]);
        expectNear(`${name} out without bias`, outNoBias, unbiased, tol.forward * 10);
      });
    });
  }

  it("depthwiseSizes computes PyTorch's output size and refuses a kernel that does not fit", () => {
    expect(depthwiseSizes("t", 2, 3, 28, 28, 3, 3, 2, 2, 1, 1)).toMatchObject({ Ho: 14, Wo: 14 });
    expect(depthwiseSizes("t", 2, 3, 9, 7, 3, 3, 2, 2, 1, 1)).toMatchObject({ Ho: 5, Wo: 4 });
    expect(() => depthwiseSizes("Conv2d", 1, 1, 2, 2, 5, 5, 1, 1, 1, 1)).toThrow(/does not fit/);
    expect(() => depthwiseSizes("Conv2d", 1, 1, 4, 4, 3, 3, 0, 1, 1, 1)).toThrow(/sh must be an integer >= 1/);
  });
});
