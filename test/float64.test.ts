// The float64 mode: tensors, every layer, both losses, the optimizers, the random streams, both
// models, the Solver, the gradient checkers and checkpoints, each checked against an independent
// float64 reference (the course formulas in plain JS: test/properties/reference.ts and the loops
// below) at the tolerances: 1e-10 relative for forward values, 1e-8 for gradients.
import { describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { wasmMemoryBytes } from "../src/core/runtime.js";
import { initAndCheckLeaks, labels } from "./helpers.js";
import * as ref from "./properties/reference.js";

initAndCheckLeaks({ float64: true });

const F64 = { dtype: "float64" } as const;
const FORWARD = 1e-10;
const GRADIENT = 1e-8;

/** A float64 tensor of N(0, 1) values from a seed (kept out of the test's tidy by the caller's scope). */
function randn64(shape: number[], seed: number): tl.Tensor {
  return tl.randn(shape, { seed, dtype: "float64" });
}

function arr(t: tl.Tensor): number[] {
  return Array.from(t.toArray());
}

/**
 * Relative error of `actual` against `expected`, normwise per element: |a - e| / (scale + tiny)
 * where scale is the magnitude the reference value was built from (sum of |terms|) when given,
 * else max |expected|. This is the error measure rounding bounds speak about; elementwise
 * relError would divide by values that cancel to nearly zero.
 */
function relTo(actual: ArrayLike<number>, expected: ArrayLike<number>, scale?: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let peak = 0;
  for (let i = 0; i < expected.length; i++) peak = Math.max(peak, Math.abs(expected[i]));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const s = scale ? Math.max(scale[i], 1e-300) : Math.max(peak, 1e-300);
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / s);
  }
  return worst;
}

function expectBelow(what: string, value: number, limit: number): void {
  expect(value, `${what}: ${value.toExponential(2)} exceeds ${limit}`).toBeLessThanOrEqual(limit);
}

describe("float64 tensors", () => {
  it("carry their dtype through factories, views and copies; toArray gives a Float64Array", () => {
    tl.tidy(() => {
      const t = tl.tensor(
        [
          [1 / 3, 2],
          [3, 4],
        ],
        F64,
      );
      expect(t.dtype).toBe("float64");
      expect(t.toArray()).toBeInstanceOf(Float64Array);
      expect(t.toArray()[0]).toBe(1 / 3); // a float32 would round it
      expect(t.item === undefined).toBe(false);
      expect(tl.tensor([1 / 3]).toArray()[0]).toBe(Math.fround(1 / 3));
      const u = tl.tensor([1, 2, 3, 4, 5, 6], [2, 3], { dtype: "float64" });
      expect(u.shape).toEqual([2, 3]);
      expect(u.reshape([3, 2]).dtype).toBe("float64");
      const s = u.sliceView(2, [3]);
      expect(s.dtype).toBe("float64");
      expect(arr(s)).toEqual([3, 4, 5]);
      expect(u.clone().dtype).toBe("float64");
      expect(arr(u.clone())).toEqual([1, 2, 3, 4, 5, 6]);
      for (const make of [
        tl.zeros([3], F64),
        tl.ones([3], F64),
        tl.full([3], 0.1, F64),
        tl.randn([3], { seed: 1, dtype: "float64" }),
        tl.rand([3], { seed: 1, dtype: "float64" }),
      ]) {
        expect(make.dtype).toBe("float64");
      }
      expect(arr(tl.full([2], 0.1, F64))).toEqual([0.1, 0.1]);
      expect(tl.zeros([2]).dtype).toBe("float32");
      expect(tl.tensor(new Float64Array([0.1]), F64).toArray()[0]).toBe(0.1);
      expect(tl.tensor(new Float64Array([0.1])).toArray()[0]).toBe(Math.fround(0.1)); // float32 by default
      expect(String(tl.tensor([0.5], F64))).toBe("Tensor(shape [1], float64, [0.5])");
    });
  });

  it("set() takes number[], Float32Array, Float64Array and tensors of either dtype", () => {
    tl.tidy(() => {
      const t = tl.zeros([2], F64);
      t.set(new Float64Array([0.1, 0.2]));
      expect(arr(t)).toEqual([0.1, 0.2]);
      t.set(new Float32Array([0.1, 0.2]));
      expect(arr(t)).toEqual([Math.fround(0.1), Math.fround(0.2)]);
      t.set(tl.tensor([0.3, 0.4], F64));
      expect(arr(t)).toEqual([0.3, 0.4]);
      t.set(tl.tensor([0.3, 0.4])); // float32 values, widened exactly
      expect(arr(t)).toEqual([Math.fround(0.3), Math.fround(0.4)]);
      const f = tl.zeros([2]);
      f.set(tl.tensor([0.3, 0.4], F64)); // rounded to nearest
      expect(arr(f)).toEqual([Math.fround(0.3), Math.fround(0.4)]);
      expect(t.item === undefined).toBe(false);
      expect(tl.tensor([0.7], F64).item()).toBe(0.7);
    });
  });

  it("memory() counts 8 bytes per float64 element and views own none", () => {
    const before = tl.memory().bytes;
    const t = tl.zeros([10], F64);
    expect(tl.memory().bytes - before).toBe(80);
    const v = t.reshape([2, 5]);
    expect(tl.memory().bytes - before).toBe(80);
    t.dispose();
    v.dispose();
    expect(tl.memory().bytes).toBe(before);
  });

  it("re-derive their view after wasm memory grows", () => {
    const t = tl.tensor([0.1, 0.2, 0.3], F64);
    expect(arr(t)).toEqual([0.1, 0.2, 0.3]);
    const pages = wasmMemoryBytes();
    const big = tl.zeros([Math.ceil(pages / 8) + 1024], F64); // forces memory.grow
    expect(wasmMemoryBytes()).toBeGreaterThan(pages);
    expect(arr(t)).toEqual([0.1, 0.2, 0.3]);
    t.set([1.5, 2.5, 3.5]);
    expect(arr(t)).toEqual([1.5, 2.5, 3.5]);
    big.dispose();
    t.dispose();
  });

  it("reject a bad dtype with a TypeError naming the function and the option", () => {
    expect(() => tl.zeros([2], { dtype: "float16" as never })).toThrow(/zeros: options.dtype must be "float32" or "float64" \(got "float16"\)/);
    expect(() => tl.tensor([1], { dtype: "int32" as never })).toThrow(TypeError);
    expect(() => tl.randn([2], { dtype: 64 as never })).toThrow(/randn: options.dtype/);
    expect(() => new tl.FullyConnectedNet({ hiddenDims: [2], dtype: "double" as never })).toThrow(/FullyConnectedNet: dtype/);
    tl.tidy(() => {
      const t = tl.zeros([2, 2], F64);
      expect(() => t.set(tl.zeros([3], F64))).toThrow(/got a float64 tensor of shape \[3\]/); // errors say a tensor is float64
    });
  });
});

describe("mixing dtypes in one call", () => {
  it("is a TypeError naming both tensors and their dtypes, and leaves nothing behind", () => {
    tl.tidy(() => {
      const x64 = randn64([2, 3], 1);
      const w32 = tl.randn([3, 4], { seed: 2 });
      const b32 = tl.zeros([4]);
      const before = tl.memory();
      expect(() => tl.Linear.forward(x64, w32, b32)).toThrow(/Linear\.forward: x is float64 but w is float32/);
      expect(tl.memory()).toEqual(before);
      const [h, cache] = tl.ReLU.forward(x64);
      expect(h.dtype).toBe("float64");
      expect(() => tl.ReLU.backward(tl.zeros([2, 3]), cache)).toThrow(/ReLU\.backward: dout is float32 but cache\.x is float64/);
      expect(() => tl.adam(x64, tl.zeros([2, 3]))).toThrow(/adam: w is float64 but dw is float32/);
      expect(() => tl.sgdMomentum(x64, tl.zeros([2, 3], F64), { velocity: tl.zeros([2, 3]) })).toThrow(/config\.velocity is float32/);
      const img = randn64([1, 1, 4, 4], 3);
      expect(() => tl.Conv.forward(img, tl.zeros([2, 1, 3, 3]), tl.zeros([2], F64))).toThrow(/Conv\.forward: x is float64 but w is float32/);
      expect(() => tl.BatchNorm.forward(x64, tl.ones([3]), tl.zeros([3]), { mode: "train" })).toThrow(/BatchNorm\.forward: x is float64 but gamma is float32/);
      expect(() => tl.BatchNorm.forward(x64, tl.ones([3], F64), tl.zeros([3], F64), { mode: "train", runningMean: tl.zeros([3]) })).toThrow(
        /x is float64 but bnParam\.runningMean is float32/,
      );
      const net = new tl.FullyConnectedNet({ hiddenDims: [4], inputDim: 3, numClasses: 2, seed: 1 });
      try {
        expect(() => net.loss(x64, [0, 1])).toThrow(/FullyConnectedNet\.loss: X is float64 but the model's parameters are float32/);
      } finally {
        net.dispose();
      }
    });
  });
});

describe("float64 layers against the course formulas in plain float64 JS", () => {
  it("Linear forward and backward", () => {
    tl.tidy(() => {
      const [N, D, M] = [5, 7, 3];
      const x = randn64([N, D], 10),
        w = randn64([D, M], 11),
        b = randn64([M], 12),
        dout = randn64([N, M], 13);
      const [out, cache] = tl.Linear.forward(x, w, b);
      expect(out.dtype).toBe("float64");
      const r = ref.linear(arr(x), arr(w), arr(b), N, D, M);
      expectBelow("out", relTo(arr(out), r.out, r.scale), FORWARD);
      const [dx, dw, db] = tl.Linear.backward(dout, cache);
      const rdx = ref.matmul(arr(dout), ref.transpose(arr(w), D, M), N, M, D);
      const rdw = ref.matmul(ref.transpose(arr(x), N, D), arr(dout), D, N, M);
      const g = arr(dout);
      const rdb = Array.from({ length: M }, (_, m) => g.filter((_, i) => i % M === m).reduce((s, v) => s + v, 0));
      expectBelow("dx", relTo(arr(dx), rdx.out, rdx.scale), GRADIENT);
      expectBelow("dw", relTo(arr(dw), rdw.out, rdw.scale), GRADIENT);
      expectBelow("db", relTo(arr(db), rdb), GRADIENT);
      expect([dx.dtype, dw.dtype, db.dtype]).toEqual(["float64", "float64", "float64"]);
    });
  });

  it.each([
    { N: 2, C: 3, H: 5, W: 7, F: 4, HH: 3, WW: 3, stride: 1, pad: 1 },
    { N: 1, C: 2, H: 9, W: 8, F: 5, HH: 3, WW: 2, stride: 2, pad: 1 },
    { N: 2, C: 3, H: 4, W: 4, F: 2, HH: 1, WW: 1, stride: 1, pad: 0 },
    { N: 1, C: 1, H: 7, W: 7, F: 3, HH: 4, WW: 4, stride: 3, pad: 2 },
  ])("Conv forward and backward, $HH x $WW stride $stride pad $pad", (s) => {
    tl.tidy(() => {
      const x = randn64([s.N, s.C, s.H, s.W], 20),
        w = randn64([s.F, s.C, s.HH, s.WW], 21),
        b = randn64([s.F], 22);
      const [Ho, Wo] = ref.convOut(s);
      const dout = randn64([s.N, s.F, Ho, Wo], 23);
      const r = ref.conv(arr(x), arr(w), arr(b), s, arr(dout));
      const [out, cache] = tl.Conv.forward(x, w, b, { stride: s.stride, pad: s.pad });
      expectBelow("out", relTo(arr(out), r.out, r.scale), FORWARD);
      const [dx, dw, db] = tl.Conv.backward(dout, cache);
      expectBelow("dx", relTo(arr(dx), r.dx, r.dxScale), GRADIENT);
      expectBelow("dw", relTo(arr(dw), r.dw, r.dwScale), GRADIENT);
      expectBelow("db", relTo(arr(db), r.db, r.dbScale), GRADIENT);
      expect(out.dtype).toBe("float64");
    });
  });

  it.each([
    { N: 2, C: 3, H: 6, W: 6, ph: 2, pw: 2, stride: 2 },
    { N: 1, C: 2, H: 7, W: 5, ph: 3, pw: 2, stride: 1 },
  ])("MaxPool $ph x $pw stride $stride: exact values and gradients", (s) => {
    tl.tidy(() => {
      const x = randn64([s.N, s.C, s.H, s.W], 30);
      const r0 = ref.maxPool(arr(x), s, []);
      const dout = randn64([s.N, s.C, r0.Ho, r0.Wo], 31);
      const r = ref.maxPool(arr(x), s, arr(dout));
      const [out, cache] = tl.MaxPool.forward(x, { poolHeight: s.ph, poolWidth: s.pw, stride: s.stride });
      expect(arr(out)).toEqual(r.out); // a max is exact
      const dx = tl.MaxPool.backward(dout, cache);
      expectBelow("dx", relTo(arr(dx), r.dx), 1e-15);
      expect(cache.argmax.dtype).toBe("float64");
    });
  });

  it("BatchNorm and SpatialBatchNorm: train forward, running statistics, backward; test mode", () => {
    tl.tidy(() => {
      const [N, D] = [6, 5];
      const x = tl.tensor(
        arr(randn64([N, D], 40)).map((v, i) => 3 * v + (i % D)),
        [N, D],
        F64,
      );
      const gamma = randn64([D], 41),
        beta = randn64([D], 42),
        dout = randn64([N, D], 43);
      const rm = randn64([D], 44),
        rv = tl.tensor(
          arr(randn64([D], 45)).map((v) => v * v + 0.5),
          F64,
        );
      const r = ref.batchNorm(arr(x), arr(gamma), arr(beta), arr(dout), (e) => e % D, D, 1e-5, 0.9, arr(rm), arr(rv));
      const bnParam: tl.BatchNormParam = { mode: "train", runningMean: rm, runningVar: rv };
      const [out, cache] = tl.BatchNorm.forward(x, gamma, beta, bnParam);
      expectBelow("out", relTo(arr(out), r.out), FORWARD);
      expectBelow("runningMean", relTo(arr(rm), r.runningMean), FORWARD);
      expectBelow("runningVar", relTo(arr(rv), r.runningVar), FORWARD);
      const [dx, dgamma, dbeta] = tl.BatchNorm.backward(dout, cache);
      expectBelow("dx", relTo(arr(dx), r.dx), GRADIENT);
      expectBelow("dgamma", relTo(arr(dgamma), r.dgamma), GRADIENT);
      expectBelow("dbeta", relTo(arr(dbeta), r.dbeta), GRADIENT);
      // Test mode: (x - runningMean) / sqrt(runningVar + eps) * gamma + beta.
      const [tout] = tl.BatchNorm.forward(x, gamma, beta, { ...bnParam, mode: "test" });
      const m = arr(rm),
        v = arr(rv),
        g = arr(gamma),
        bt = arr(beta);
      expectBelow(
        "test out",
        relTo(
          arr(tout),
          arr(x).map((xv, e) => g[e % D] * ((xv - m[e % D]) / Math.sqrt(v[e % D] + 1e-5)) + bt[e % D]),
        ),
        FORWARD,
      );
      // Running statistics created by forward take x's dtype.
      const fresh: tl.BatchNormParam = { mode: "train" };
      tl.BatchNorm.forward(x, gamma, beta, fresh);
      expect(fresh.runningMean!.dtype).toBe("float64");
      fresh.runningMean!.dispose();
      fresh.runningVar!.dispose();

      const [n, C, H, W] = [2, 3, 4, 5];
      const xs = randn64([n, C, H, W], 46),
        gs = randn64([C], 47),
        bs = randn64([C], 48),
        ds = randn64([n, C, H, W], 49);
      const feature = (e: number) => Math.floor(e / (H * W)) % C;
      const zero = new Array<number>(C).fill(0),
        one = new Array<number>(C).fill(1);
      const rs = ref.batchNorm(arr(xs), arr(gs), arr(bs), arr(ds), feature, C, 1e-5, 0.9, zero, one);
      const sp: tl.BatchNormParam = { mode: "train", runningMean: tl.zeros([C], F64), runningVar: tl.ones([C], F64) };
      const [sout, scache] = tl.SpatialBatchNorm.forward(xs, gs, bs, sp);
      expectBelow("spatial out", relTo(arr(sout), rs.out), FORWARD);
      expectBelow("spatial runningVar", relTo(arr(sp.runningVar!), rs.runningVar), FORWARD);
      const [sdx, sdg, sdb] = tl.SpatialBatchNorm.backward(ds, scache);
      expectBelow("spatial dx", relTo(arr(sdx), rs.dx), GRADIENT);
      expectBelow("spatial dgamma", relTo(arr(sdg), rs.dgamma), GRADIENT);
      expectBelow("spatial dbeta", relTo(arr(sdb), rs.dbeta), GRADIENT);
    });
  });

  it("softmaxLoss with soft labels in float64: loss and dscores against the float64 formula; float32 labels with float64 scores are a TypeError", () => {
    tl.tidy(() => {
      const [N, C] = [6, 5];
      const scores = tl.tensor(
        arr(randn64([N, C], 60)).map((v) => 3 * v),
        [N, C],
        F64,
      );
      // Rows mixing two classes 0.3 / 0.7 (mixup-style), exactly representable sums.
      const soft = new Float64Array(N * C);
      for (let n = 0; n < N; n++) {
        soft[n * C + (n % C)] += 0.3;
        soft[n * C + ((n + 2) % C)] += 0.7;
      }
      const y = tl.tensor(soft, [N, C], F64);
      const [loss, d] = tl.softmaxLoss(scores, y);
      const s = arr(scores);
      let want = 0;
      const dWant = new Array<number>(N * C);
      for (let n = 0; n < N; n++) {
        const row = s.slice(n * C, n * C + C);
        const top = Math.max(...row);
        const sum = row.reduce((t, v) => t + Math.exp(v - top), 0);
        for (let c = 0; c < C; c++) {
          const logP = row[c] - top - Math.log(sum);
          want -= (soft[n * C + c] * logP) / N;
          dWant[n * C + c] = (Math.exp(logP) - soft[n * C + c]) / N;
        }
      }
      expectBelow("soft-label loss", Math.abs(loss - want) / Math.abs(want), FORWARD);
      expectBelow("soft-label dscores", relTo(arr(d), dWant), GRADIENT);
      expect(d.dtype).toBe("float64");
      const y32 = tl.tensor(soft, [N, C]);
      expect(() => tl.softmaxLoss(scores, y32)).toThrow(/softmaxLoss: soft labels y are float32 but must be float64, the dtype of the rows they go with/);
    });
  });

  it("softmaxLoss and svmLoss: loss and dscores", () => {
    tl.tidy(() => {
      const [N, C] = [7, 5];
      const scores = tl.tensor(
        arr(randn64([N, C], 50)).map((v) => 4 * v),
        [N, C],
        F64,
      );
      const y = Array.from(labels(N, C, 51));
      const s = arr(scores);
      const [loss, d] = tl.softmaxLoss(scores, y);
      const r = ref.softmaxLoss(s, y, N, C);
      expectBelow("softmax loss", Math.abs(loss - r.loss) / Math.abs(r.loss), FORWARD);
      expectBelow("softmax dscores", relTo(arr(d), r.d), GRADIENT);
      expect(d.dtype).toBe("float64");
      // The hinge loss in float64 (reference.ts's rounds margins to float32, as the f32 kernel does).
      let svm = 0;
      const dsvm = new Array<number>(N * C).fill(0);
      for (let n = 0; n < N; n++) {
        for (let c = 0; c < C; c++) {
          if (c === y[n]) continue;
          const margin = s[n * C + c] - s[n * C + y[n]] + 1;
          if (margin > 0) {
            svm += margin;
            dsvm[n * C + c] += 1 / N;
            dsvm[n * C + y[n]] -= 1 / N;
          }
        }
      }
      const [sl, sd] = tl.svmLoss(scores, y);
      expectBelow("svm loss", Math.abs(sl - svm / N) / (svm / N), FORWARD);
      expectBelow("svm dscores", relTo(arr(sd), dsvm), GRADIENT);
    });
  });

  it("ReLU, Tanh (against Math.tanh) and Dropout", () => {
    tl.tidy(() => {
      const x = tl.tensor([...arr(randn64([37], 60)).map((v) => 3 * v), 0, -0, 1e-300, -25, 25, 1e-8], F64);
      const xs = arr(x);
      const [r] = tl.ReLU.forward(x);
      expect(arr(r)).toEqual(xs.map((v) => Math.max(v, 0)));
      const [t, tc] = tl.Tanh.forward(x);
      const tv = arr(t);
      let worst = 0;
      xs.forEach((v, i) => (worst = Math.max(worst, Math.abs(tv[i] - Math.tanh(v)) / Math.max(Math.abs(Math.tanh(v)), 1e-300))));
      expectBelow("tanh vs Math.tanh (relative)", worst, 1e-15);
      expect(Object.is(tv[38], -0)).toBe(true);
      const dout = randn64([x.size], 61);
      const dx = tl.Tanh.backward(dout, tc);
      expectBelow(
        "tanh backward",
        relTo(
          arr(dx),
          arr(dout).map((g, i) => g * (1 - tv[i] * tv[i])),
        ),
        GRADIENT,
      );
      // Dropout: the float64 mask drops exactly the units the float32 mask drops for the same stream.
      const ones64 = tl.ones([2000], F64),
        ones32 = tl.ones([2000]);
      const [d64] = tl.Dropout.forward(ones64, { p: 0.3, mode: "train", seed: 9 });
      const [d32] = tl.Dropout.forward(ones32, { p: 0.3, mode: "train", seed: 9 });
      const a64 = arr(d64),
        a32 = arr(d32);
      expect(a64.map((v) => v === 0)).toEqual(a32.map((v) => v === 0));
      expect(a64.every((v) => v === 0 || v === 1 / (1 - 0.3))).toBe(true);
      const dropped = a64.filter((v) => v === 0).length / a64.length;
      expect(Math.abs(dropped - 0.3)).toBeLessThan(0.04);
    });
  });
});

// Layer checks use the notebooks' h = 1e-5 and their elementwise rel_error; model checks the
// issue's h = 1e-6 and checkModelGradients' scaled error.
describe("float64 numeric gradient checks, as in the notebooks", () => {
  const check = (what: string, f: () => tl.Tensor, x: tl.Tensor, dout: tl.Tensor, analytic: tl.Tensor): void => {
    const numeric = tl.evalNumericalGradientArray(f, x, dout, { h: 1e-5 });
    expect(numeric).toBeInstanceOf(Float64Array);
    const e = tl.relError(numeric, analytic);
    const scaled = tl.scaledError(numeric, analytic);
    console.log(`float64 gradient check ${what}: relError ${e.toExponential(2)}, scaledError ${scaled.toExponential(2)}`);
    // Normwise the analytic gradients agree to about 5e-11; the elementwise rel_error reaches
    // about 1e-8 on the smallest elements (differencing noise over |g| ~ 1e-2), as in the
    // notebooks. A wrong gradient scores 1e-3 or more on both.
    expectBelow(`${what} scaledError`, scaled, 1e-9);
    expectBelow(`${what} relError`, e, 5e-8);
  };

  it("every layer and sandwich agrees with central differences (1e-9 normwise, 5e-8 elementwise)", () => {
    tl.tidy(() => {
      const x = randn64([3, 2, 4, 4], 70),
        w = randn64([3, 2, 3, 3], 71),
        b = randn64([3], 72);
      const cp = { stride: 1, pad: 1 },
        pp = { poolHeight: 2, poolWidth: 2, stride: 2 };
      const dconv = randn64([3, 3, 4, 4], 73),
        dpool = randn64([3, 3, 2, 2], 74);
      const fwd =
        <T>(f: () => [tl.Tensor, T]) =>
        () =>
          f()[0];
      const [, c] = tl.Conv.forward(x, w, b, cp);
      let [dx, dw, db] = tl.Conv.backward(dconv, c);
      check(
        "Conv dx",
        fwd(() => tl.Conv.forward(x, w, b, cp)),
        x,
        dconv,
        dx,
      );
      check(
        "Conv dw",
        fwd(() => tl.Conv.forward(x, w, b, cp)),
        w,
        dconv,
        dw,
      );
      check(
        "Conv db",
        fwd(() => tl.Conv.forward(x, w, b, cp)),
        b,
        dconv,
        db,
      );
      const [, crp] = tl.ConvReLUPool.forward(x, w, b, cp, pp);
      [dx, dw] = tl.ConvReLUPool.backward(dpool, crp);
      check(
        "ConvReLUPool dx",
        fwd(() => tl.ConvReLUPool.forward(x, w, b, cp, pp)),
        x,
        dpool,
        dx,
      );
      check(
        "ConvReLUPool dw",
        fwd(() => tl.ConvReLUPool.forward(x, w, b, cp, pp)),
        w,
        dpool,
        dw,
      );
      const [, cr] = tl.ConvReLU.forward(x, w, b, cp);
      [, dw] = tl.ConvReLU.backward(dconv, cr);
      check(
        "ConvReLU dw",
        fwd(() => tl.ConvReLU.forward(x, w, b, cp)),
        w,
        dconv,
        dw,
      );
      const [, mp] = tl.MaxPool.forward(x, pp);
      check(
        "MaxPool dx",
        fwd(() => tl.MaxPool.forward(x, pp)),
        x,
        randn64([3, 2, 2, 2], 75),
        tl.MaxPool.backward(randn64([3, 2, 2, 2], 75), mp),
      );

      const h = randn64([4, 5], 80),
        W = randn64([5, 6], 81),
        bb = randn64([6], 82),
        g = randn64([6], 83),
        be = randn64([6], 84);
      const d6 = randn64([4, 6], 85);
      const bnp = (): tl.BatchNormParam => ({ mode: "train", runningMean: tl.zeros([6], F64), runningVar: tl.ones([6], F64) });
      const [, lbr] = tl.LinearBatchNormReLU.forward(h, W, bb, g, be, bnp());
      const [ldx, ldw, , ldg, ldb] = tl.LinearBatchNormReLU.backward(d6, lbr);
      check(
        "LinearBatchNormReLU dx",
        fwd(() => tl.LinearBatchNormReLU.forward(h, W, bb, g, be, bnp())),
        h,
        d6,
        ldx,
      );
      check(
        "LinearBatchNormReLU dw",
        fwd(() => tl.LinearBatchNormReLU.forward(h, W, bb, g, be, bnp())),
        W,
        d6,
        ldw,
      );
      check(
        "LinearBatchNormReLU dgamma",
        fwd(() => tl.LinearBatchNormReLU.forward(h, W, bb, g, be, bnp())),
        g,
        d6,
        ldg,
      );
      check(
        "LinearBatchNormReLU dbeta",
        fwd(() => tl.LinearBatchNormReLU.forward(h, W, bb, g, be, bnp())),
        be,
        d6,
        ldb,
      );
      const [, lr] = tl.LinearReLU.forward(h, W, bb);
      check(
        "LinearReLU dx",
        fwd(() => tl.LinearReLU.forward(h, W, bb)),
        h,
        d6,
        tl.LinearReLU.backward(d6, lr)[0],
      );
      const x4 = randn64([2, 3, 3, 2], 86),
        g3 = randn64([3], 87),
        b3 = randn64([3], 88),
        d4 = randn64([2, 3, 3, 2], 89);
      const sbp = (): tl.BatchNormParam => ({ mode: "train", runningMean: tl.zeros([3], F64), runningVar: tl.ones([3], F64) });
      const [, sbc] = tl.SpatialBatchNorm.forward(x4, g3, b3, sbp());
      check(
        "SpatialBatchNorm dx",
        fwd(() => tl.SpatialBatchNorm.forward(x4, g3, b3, sbp())),
        x4,
        d4,
        tl.SpatialBatchNorm.backward(d4, sbc)[0],
      );
      const [, tc] = tl.Tanh.forward(h);
      check(
        "Tanh dx",
        fwd(() => tl.Tanh.forward(h)),
        h,
        randn64([4, 5], 90),
        tl.Tanh.backward(randn64([4, 5], 90), tc),
      );
      const dp = { p: 0.4, mode: "train" as const, seed: 3 };
      const [, dc] = tl.Dropout.forward(h, dp);
      check(
        "Dropout dx",
        fwd(() => tl.Dropout.forward(h, dp)),
        h,
        randn64([4, 5], 91),
        tl.Dropout.backward(randn64([4, 5], 91), dc),
      );

      const scores = randn64([4, 6], 92);
      const y = [0, 5, 2, 2];
      for (const [name, loss] of [
        ["softmaxLoss", tl.softmaxLoss],
        ["svmLoss", tl.svmLoss],
      ] as const) {
        const [, d] = loss(scores, y);
        const numeric = tl.evalNumericalGradient(
          () => {
            const [l, dd] = loss(scores, y);
            dd.dispose();
            return l;
          },
          scores,
          { h: 1e-5 },
        );
        expectBelow(`${name} relError`, tl.relError(numeric, d), GRADIENT);
      }
      void c;
      void db;
    });
  });

  it("checkModelGradients on a float64 FullyConnectedNet (batch norm, dropout, L2) reports at most 1e-7 on every parameter", () => {
    const net = new tl.FullyConnectedNet({
      hiddenDims: [20, 30],
      inputDim: 15,
      numClasses: 10,
      dropout: 0.25,
      normalization: "batchnorm",
      reg: 3.14,
      weightScale: 5e-2,
      seed: 11,
      dtype: "float64",
    });
    const X = randn64([4, 15], 100);
    try {
      expect(net.params.W1.dtype).toBe("float64");
      expect(net.buffers.runningMean1.dtype).toBe("float64");
      const errors = tl.checkModelGradients(net, X, [1, 7, 3, 9], { h: 1e-6 });
      console.log(
        "float64 FullyConnectedNet gradient check:",
        Object.entries(errors)
          .map(([k, v]) => `${k} ${v.toExponential(2)}`)
          .join(", "),
      );
      expect(Object.keys(errors)).toEqual(Object.keys(net.params));
      for (const [name, e] of Object.entries(errors)) expectBelow(name, e, 1e-7);
    } finally {
      X.dispose();
      net.dispose();
    }
  });

  it.each([false, true])("checkModelGradients on a float64 DeepConvNet (batchnorm %s) reports at most 1e-7", (batchnorm) => {
    const net = new tl.DeepConvNet({
      inputDims: [2, 6, 6],
      numFilters: [3, 4],
      maxPools: [0],
      batchnorm,
      numClasses: 3,
      weightScale: "kaiming",
      reg: 0.01,
      seed: 5,
      dtype: "float64",
    });
    const X = randn64([3, 2, 6, 6], 101);
    try {
      // With batch norm, the conv biases b1, b2 have an exactly-zero gradient (the batch mean
      // cancels them): any error measure of rounding noise against zero is meaningless, so the
      // check skips them there (it is what the notebooks see too).
      const names = Object.keys(net.params).filter((n) => !(batchnorm && /^b[12]$/.test(n)));
      const errors = tl.checkModelGradients(net, X, [0, 2, 1], { h: 1e-6, names });
      console.log(
        `float64 DeepConvNet (batchnorm ${batchnorm}) gradient check:`,
        Object.entries(errors)
          .map(([k, v]) => `${k} ${v.toExponential(2)}`)
          .join(", "),
      );
      expect(Object.keys(errors).length).toBe(batchnorm ? 8 : 6);
      for (const [name, e] of Object.entries(errors)) expectBelow(name, e, 1e-7);
    } finally {
      X.dispose();
      net.dispose();
    }
  });

  it("a wrong gradient still fails loudly in float64", () => {
    tl.tidy(() => {
      const x = randn64([3, 4], 110);
      const numeric = tl.evalNumericalGradient(
        () => {
          const s = x.toArray();
          return Array.from(s).reduce((a, v) => a + v * v * v, 0);
        },
        x,
        { h: 1e-5 },
      );
      const right = arr(x).map((v) => 3 * v * v);
      const wrong = arr(x).map((v) => 3 * v * v * 1.001);
      expectBelow("right", tl.relError(numeric, right), 1e-8);
      expect(tl.relError(numeric, wrong)).toBeGreaterThan(1e-4);
    });
  });
});

describe("float64 optimizers against the update formulas in float64 JS", () => {
  const W0 = [0.5, -1.25, 2, 0.1, -0.3, 3];
  const DW = [
    [0.1, -0.3, 0.25, 1.5, -2, 0],
    [-0.2, 0.4, 0.05, -1, 1, 0.3],
    [0.3, 0.3, -0.3, 0.2, 0, -0.1],
  ];

  function reference(rule: string, lr: number): number[] {
    const w = [...W0];
    const s1 = w.map(() => 0),
      s2 = w.map(() => 0);
    DW.forEach((g, step) => {
      const t = step + 1;
      w.forEach((_, i) => {
        const d = g[i];
        if (rule === "sgd") w[i] -= lr * d;
        else if (rule === "sgdMomentum") {
          s1[i] = 0.9 * s1[i] - lr * d;
          w[i] += s1[i];
        } else if (rule === "adagrad") {
          s1[i] += d * d;
          w[i] -= (lr * d) / (Math.sqrt(s1[i]) + 1e-5);
        } else if (rule === "rmsprop") {
          s1[i] = 0.99 * s1[i] + (1 - 0.99) * d * d;
          w[i] -= (lr * d) / (Math.sqrt(s1[i]) + 1e-8);
        } else {
          s1[i] = 0.9 * s1[i] + (1 - 0.9) * d;
          s2[i] = 0.999 * s2[i] + (1 - 0.999) * d * d;
          w[i] -= (lr * (s1[i] / (1 - 0.9 ** t))) / (Math.sqrt(s2[i] / (1 - 0.999 ** t)) + 1e-8);
        }
      });
    });
    return w;
  }

  it.each(["sgd", "sgdMomentum", "adagrad", "rmsprop", "adam"] as const)("%s: three steps, state tensors float64", (rule) => {
    tl.tidy(() => {
      const w = tl.tensor(W0, F64);
      let config: tl.OptimConfig = { learningRate: 0.1 };
      for (const g of DW) [, config] = tl.updateRules[rule](w, tl.tensor(g, F64), config);
      expectBelow(rule, relTo(arr(w), reference(rule, 0.1)), 1e-14);
      for (const value of Object.values(config)) {
        if (value instanceof tl.Tensor) {
          expect(value.dtype).toBe("float64");
          value.dispose();
        }
      }
    });
  });
});

describe("float64 random streams", () => {
  it("randn, rand and kaimingInitializer draw from the same counter-based stream as float32", () => {
    tl.tidy(() => {
      const a64 = arr(tl.randn([1001], { seed: 42, dtype: "float64" }));
      const a32 = arr(tl.randn([1001], { seed: 42 }));
      expect(a64.map(Math.fround)).toEqual(a32); // the same draws, rounded differently
      expect(a64.some((v, i) => v !== a32[i])).toBe(true);
      const u = arr(tl.rand([1000], { seed: 3, dtype: "float64" }));
      expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
      expect(u.some((v) => v !== Math.fround(v))).toBe(true); // 53 random bits, not 24
      const mean = u.reduce((s, v) => s + v, 0) / u.length;
      expect(Math.abs(mean - 0.5)).toBeLessThan(0.03);
      const k64 = tl.kaimingInitializer(30, 20, null, true, { seed: 4, dtype: "float64" });
      const k32 = tl.kaimingInitializer(30, 20, null, true, { seed: 4 });
      expect(k64.dtype).toBe("float64");
      expect(
        arr(k64)
          .map(Math.fround)
          .every((v, i) => Math.abs(v - k32.toArray()[i]) <= 2 ** -20 * Math.abs(v)),
      ).toBe(true);
      const k = tl.kaimingInitializer(3, 4, 3, true, { dtype: "float64" });
      expect(k.shape).toEqual([4, 3, 3, 3]);
    });
  });
});

describe("float64 models and the Solver", () => {
  it("a float64 FullyConnectedNet and DeepConvNet train with the Solver; scores and state stay float64", () => {
    const N = 60;
    const X = randn64([N, 8], 120);
    const xv = arr(X);
    const y = Int32Array.from({ length: N }, (_, i) => (xv[i * 8] > 0 ? 1 : 0) + (xv[i * 8 + 1] > 0 ? 1 : 0));
    const net = new tl.FullyConnectedNet({ hiddenDims: [16], inputDim: 8, numClasses: 3, weightScale: "kaiming", seed: 2, dtype: "float64" });
    const solver = new tl.Solver(
      net,
      { XTrain: X, yTrain: y, XVal: X, yVal: y },
      {
        updateRule: "adam",
        optimConfig: { learningRate: 1e-2 },
        numEpochs: 10,
        batchSize: 20,
        seed: 1,
        verbose: false,
      },
    );
    try {
      solver.train();
      const losses = solver.lossHistory;
      expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.7);
      expect(solver.bestValAcc).toBeGreaterThan(0.7);
      expect(solver.optimConfigs.all.m!.dtype).toBe("float64");
      expect(Object.values(solver.bestState())[0]).toBeInstanceOf(Float64Array);
      const scores = net.loss(X);
      expect(scores.dtype).toBe("float64");
      scores.dispose();
    } finally {
      solver.dispose();
      net.dispose();
      X.dispose();
    }
    const conv = new tl.DeepConvNet({ inputDims: [1, 8, 8], numFilters: [4], maxPools: [0], numClasses: 3, weightScale: "kaiming", seed: 3, dtype: "float64" });
    const img = randn64([2, 1, 8, 8], 121);
    try {
      const [loss, grads] = conv.loss(img, [0, 2]);
      expect(Number.isFinite(loss)).toBe(true);
      expect(grads.W1.dtype).toBe("float64");
      expect(conv.config.dtype).toBe("float64");
    } finally {
      img.dispose();
      conv.dispose();
    }
  });

  it("safetensors round-trips F64 tensors; a checkpoint whose tensor dtype disagrees with its model's dtype is refused", () => {
    const values = new Float64Array([0.1, -1 / 3, 1e-300, Number.MAX_VALUE]);
    const bytes = tl.encodeSafetensors({ w: { shape: [2, 2], data: values }, f: { shape: [1], data: new Float32Array([0.5]) } });
    const back = tl.decodeSafetensors(bytes);
    expect(back.tensors.w.data).toBeInstanceOf(Float64Array);
    expect(Array.from(back.tensors.w.data)).toEqual(Array.from(values));
    expect(back.tensors.f.data).toBeInstanceOf(Float32Array);
    // A float32 model's file, relabelled float64 in its metadata: the F32 tensors no longer fit.
    const net = new tl.FullyConnectedNet({ hiddenDims: [3], inputDim: 2, numClasses: 2, seed: 1 });
    try {
      const file = tl.decodeSafetensors(tl.saveCheckpoint({ model: net }));
      const model = JSON.parse(file.metadata.model);
      model.config.dtype = "float64";
      // Resealed (fresh metadata checksums): a consistent file whose config and tensors disagree.
      const forged = tl.encodeSafetensors(file.tensors, tl.internal.sealCheckpoint(file.tensors, { ...file.metadata, model: JSON.stringify(model) }));
      expect(() => tl.loadCheckpoint(forged)).toThrow(/tensor "W1" is F32 but the model config \(dtype float64\) gives parameter W1 the dtype F64/);
    } finally {
      net.dispose();
    }
  });

  it("checkpoints store float64 tensors as F64 and load them back as float64, bit for bit", () => {
    const net = new tl.FullyConnectedNet({ hiddenDims: [5], inputDim: 4, numClasses: 3, normalization: "batchnorm", seed: 8, dtype: "float64" });
    try {
      const X = randn64([6, 4], 130);
      net.loss(X, [0, 1, 2, 0, 1, 2]); // moves the running statistics
      const bytes = tl.saveCheckpoint({ model: net });
      const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true))));
      expect(header.W1.dtype).toBe("F64");
      expect(header["buffers.runningMean1"].dtype).toBe("F64");
      const ck = tl.loadCheckpoint(bytes);
      try {
        expect(ck.model.params.W1.dtype).toBe("float64");
        for (const [name, t] of Object.entries(net.params)) expect(arr(ck.model.params[name]), name).toEqual(arr(t));
        expect(arr(ck.model.buffers!.runningVar1)).toEqual(arr(net.buffers.runningVar1));
        const a = net.loss(X),
          b = ck.model.loss(X);
        expect(arr(b)).toEqual(arr(a));
        a.dispose();
        b.dispose();
      } finally {
        ck.model.dispose();
        X.dispose();
      }
    } finally {
      net.dispose();
    }
  });

  it("predict() on float64 models is the argmax of the float64 scores (first maximum on ties), for any batch size", () => {
    const fc = new tl.FullyConnectedNet({ hiddenDims: [9], inputDim: 6, numClasses: 5, weightScale: "kaiming", seed: 21, dtype: "float64" });
    const conv = new tl.DeepConvNet({
      inputDims: [2, 6, 6],
      numFilters: [3],
      maxPools: [0],
      numClasses: 4,
      weightScale: "kaiming",
      seed: 25,
      dtype: "float64",
    });
    const cases: [tl.FullyConnectedNet | tl.DeepConvNet, tl.Tensor][] = [
      [fc, randn64([23, 6], 140)],
      [conv, randn64([11, 2, 6, 6], 141)],
    ];
    try {
      for (const [model, X] of cases) {
        const scores = model.loss(X);
        const [N, C] = scores.shape;
        const v = arr(scores);
        const expected = Array.from({ length: N }, (_, i) => {
          let best = 0;
          for (let j = 1; j < C; j++) if (v[i * C + j] > v[i * C + best]) best = j;
          return best;
        });
        scores.dispose();
        for (const batchSize of [1, 4, 100])
          expect(Array.from(model.predict(X, { batchSize })), `${model.constructor.name} batchSize ${batchSize}`).toEqual(expected);
        expect(new Set(expected).size, `${model.constructor.name}: ${expected.join("")} from ${v.slice(0, 8).join(", ")}`).toBeGreaterThan(1); // not a constant answer
      }
    } finally {
      for (const [model, X] of cases) {
        model.dispose();
        X.dispose();
      }
    }
  });

  it("Solver.state() holds Float64Arrays for a float64 model, and restoreState() continues the run bit for bit", () => {
    const X = randn64([40, 6], 150);
    const xv = arr(X);
    const y = Int32Array.from({ length: 40 }, (_, i) => (xv[i * 6] > 0 ? 1 : 0) + (xv[i * 6 + 5] > 0 ? 1 : 0));
    const data = { XTrain: X, yTrain: y, XVal: X, yVal: y };
    const net = () => new tl.FullyConnectedNet({ hiddenDims: [7], inputDim: 6, numClasses: 3, dropout: 0.2, seed: 23, dtype: "float64" });
    const options: tl.SolverOptions = { updateRule: "adam", optimConfig: { learningRate: 1e-2 }, batchSize: 10, numEpochs: 2, verbose: false, seed: 6 };
    const a = net(),
      b = net();
    const straight = new tl.Solver(a, data, { ...options, numEpochs: 4 });
    const first = new tl.Solver(b, data, options);
    let resumed: tl.Solver | null = null;
    try {
      straight.train();
      let state: tl.SolverState | null = null;
      let last: Float32Array | Float64Array | null = null;
      let rng = 0;
      first.onProgress = (e) => {
        if (e.iteration === 5) {
          state = first.state();
          last = b.paramStore.flat.toArray();
          rng = b.rngState;
        }
      };
      first.train();
      const saved = state! as tl.SolverState;
      expect(saved.optimConfigs.all.tensors.m.data).toBeInstanceOf(Float64Array);
      expect(Object.values(saved.best!)[0]).toBeInstanceOf(Float64Array);
      expect(last).toBeInstanceOf(Float64Array);
      b.paramStore.flat.set(last!);
      b.rngState = rng;
      resumed = new tl.Solver(b, data, { ...options, numEpochs: 4 });
      // A float32 array where the float64 state belongs is refused, naming both.
      const m = saved.optimConfigs.all.tensors.m;
      expect(() =>
        resumed!.restoreState({
          ...saved,
          optimConfigs: {
            all: { ...saved.optimConfigs.all, tensors: { ...saved.optimConfigs.all.tensors, m: { shape: m.shape, data: Float32Array.from(m.data) } } },
          },
        }),
      ).toThrow(/tensors\.m must hold \d+ float64 values \(a Float64Array/);
      resumed.restoreState(structuredClone(saved));
      expect(resumed.optimConfigs.all.m!.dtype).toBe("float64");
      resumed.train();
      expect(resumed.lossHistory).toEqual(straight.lossHistory);
      expect(Array.from(b.paramStore.flat.toArray())).toEqual(Array.from(a.paramStore.flat.toArray()));
    } finally {
      for (const s of [straight, first, resumed]) s?.dispose();
      a.dispose();
      b.dispose();
      X.dispose();
    }
  });

  it("a float64 run saved mid-way in a checkpoint (F64 optimizer state) resumes bit for bit", () => {
    const X = randn64([40, 6], 160);
    const xv = arr(X);
    const y = Int32Array.from({ length: 40 }, (_, i) => (xv[i * 6 + 1] > 0 ? 2 : 0) + (xv[i * 6 + 2] > 0 ? 1 : 0));
    const data = { XTrain: X, yTrain: y, XVal: X, yVal: y };
    const net = () => new tl.FullyConnectedNet({ hiddenDims: [8], inputDim: 6, numClasses: 4, normalization: "batchnorm", seed: 24, dtype: "float64" });
    const options: tl.SolverOptions = {
      updateRule: "sgdMomentum",
      optimConfig: { learningRate: 5e-2 },
      lrDecay: 0.9,
      batchSize: 10,
      numEpochs: 3,
      verbose: false,
      seed: 7,
    };
    const run = (model: tl.FullyConnectedNet, numEpochs: number, from?: tl.LoadedCheckpoint) => {
      const solver = new tl.Solver(model, data, { ...options, numEpochs });
      from?.resume(solver);
      const checkpoints: Uint8Array[] = [];
      solver.onProgress = (e) => {
        if (e.iteration % solver.iterationsPerEpoch === 0) checkpoints.push(tl.saveCheckpoint({ model, solver }));
      };
      solver.train();
      return { solver, checkpoints };
    };
    const straight = run(net(), 3);
    const first = run(net(), 1);
    const ck = tl.loadCheckpoint(first.checkpoints[0]);
    const resumed = run(ck.model as tl.FullyConnectedNet, 3, ck);
    try {
      const header = tl.decodeSafetensors(first.checkpoints[0]).tensors;
      expect(header["resume.optim.all.velocity"].data).toBeInstanceOf(Float64Array);
      expect(resumed.solver.lossHistory).toEqual(straight.solver.lossHistory);
      expect(resumed.checkpoints.at(-1)).toEqual(straight.checkpoints.at(-1));
    } finally {
      for (const r of [straight, first, resumed]) {
        r.solver.dispose();
        (r.solver.model as tl.FullyConnectedNet).dispose();
      }
      X.dispose();
    }
  });
});

describe("float64 augmentation and test-time flips (the kernels exist in both dtypes now)", () => {
  /** (N, C, H, W) with every value a distinct integer 1 + flat index (exact in both dtypes). */
  function distinct(shape: number[], dtype: tl.DType): tl.Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    return tl.tensor(
      Float64Array.from({ length: n }, (_, i) => 1 + i),
      shape,
      { dtype },
    );
  }

  it("randomFlip, randomCrop and cutout: float64 in, float64 out, the same draws (hence values) as float32", () => {
    const shape = [16, 3, 5, 6];
    const x32 = distinct(shape, "float32"),
      x64 = distinct(shape, "float64");
    const ops: [string, (x: tl.Tensor) => tl.Tensor][] = [
      ["randomFlip", (x) => tl.randomFlip(x, { seed: 21 })],
      ["randomCrop", (x) => tl.randomCrop(x, { padding: 2, seed: 21 })],
      ["cutout", (x) => tl.cutout(x, { size: 3, seed: 21 })],
    ];
    try {
      for (const [name, op] of ops) {
        const a = op(x32),
          b = op(x64);
        expect(b.dtype, name).toBe("float64");
        expect(arr(b), name).toEqual(arr(a));
        expect(arr(b), `${name} changes something`).not.toEqual(arr(x64));
        a.dispose();
        b.dispose();
      }
      // Into a buffer of the other dtype: refused, naming both.
      const out32 = tl.zeros(shape);
      expect(() => tl.randomFlip(x64, { seed: 1, out: out32 })).toThrow(/randomFlip: x is float64 but options.out is float32/);
      out32.dispose();
    } finally {
      x32.dispose();
      x64.dispose();
    }
  });

  it("mixup: the float32 λ and partners, rows mixed in float64 (λ x_i + (1 - λ) x_j), float64 soft labels in and out", () => {
    const N = 12,
      C = 5;
    const shape = [N, 2, 2, 3];
    const x32 = distinct(shape, "float32"),
      x64 = distinct(shape, "float64");
    const y = Int32Array.from({ length: N }, (_, i) => i % C);
    const [a32, b32] = [tl.zeros(shape), tl.zeros([N, C])];
    const [a64, b64] = [tl.zeros(shape, F64), tl.zeros([N, C], F64)];
    let second: tl.Tensor[] = [];
    try {
      tl.mixup(x32, y, { alpha: 0.4, numClasses: C, seed: 9, out: [a32, b32] });
      tl.mixup(x64, y, { alpha: 0.4, numClasses: C, seed: 9, out: [a64, b64] });
      // One λ for both dtypes: it is drawn in the core module, whatever the rows' dtype.
      const lam = tl.internal.mixupLambda(0.4, 9);
      // The partner j of image i: the one image whose float64 mix a x_i + b x_j gives its rows exactly.
      const xs = arr(x64),
        xm = arr(a64),
        ym = arr(b64),
        ym32 = arr(b32);
      const per = 12;
      const partner = (i: number): number => {
        for (let j = 0; j < N; j++) {
          const want = xs.slice(i * per, (i + 1) * per).map((v, k) => lam * v + (1 - lam) * xs[j * per + k]);
          if (want.every((v, k) => v === xm[i * per + k])) return j;
        }
        return -1;
      };
      for (let i = 0; i < N; i++) {
        const j = partner(i);
        expect(j, `image ${i}: a x_i + b x_j in float64 for some j`).toBeGreaterThanOrEqual(0);
        const row = Array.from({ length: C }, (_, c) => (c === i % C ? lam : 0) + (c === j % C ? 1 - lam : 0));
        expect(ym.slice(i * C, (i + 1) * C), `labels of image ${i}`).toEqual(row);
        ym32.slice(i * C, (i + 1) * C).forEach((v, c) => expect(Math.abs(v - row[c]), `float32 labels of image ${i}: the same partner`).toBeLessThan(1e-7));
      }
      // Soft float64 labels mix again; float32 ones with float64 images are refused.
      second = tl.mixup(a64, b64, { alpha: 1, seed: 2 });
      expect(second.map((t) => t.dtype)).toEqual(["float64", "float64"]);
      const rows = arr(second[1]);
      for (let i = 0; i < N; i++) expect(Math.abs(rows.slice(C * i, C * i + C).reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-12);
      expect(() => tl.mixup(x64, b32, { alpha: 1, seed: 2 })).toThrow(
        /mixup: soft labels y are float32 but must be float64, the dtype of the rows they go with/,
      );
      expect(() => tl.mixup(x64, y, { alpha: 1, numClasses: C, seed: 2, out: [a32, b64] })).toThrow(/mixup: x is float64 but options.out\[0\] is float32/);
      expect(() => tl.mixup(x64, y, { alpha: 1, numClasses: C, seed: 2, out: [a64, b32] })).toThrow(/mixup: x is float64 but options.out\[1\] is float32/);
    } finally {
      for (const t of [x32, x64, a32, b32, a64, b64, ...second]) t.dispose();
    }
  });

  it('predict(X, { tta: "flip" }) on a float64 DeepConvNet: the argmax of scores(x) + scores(mirror of x), in float64', () => {
    const [N, C, H, W, K] = [17, 2, 6, 7, 4];
    const net = new tl.DeepConvNet({
      inputDims: [C, H, W],
      numFilters: [4, 3],
      maxPools: [0],
      normalization: "batchnorm",
      numClasses: K,
      weightScale: "kaiming",
      seed: 5,
      dtype: "float64",
    });
    const X = randn64([N, C, H, W], 6);
    const x = arr(X);
    const mirrored = new Float64Array(x.length);
    for (let r = 0; r < N * C * H; r++) for (let j = 0; j < W; j++) mirrored[r * W + j] = x[r * W + W - 1 - j];
    const M = tl.tensor(mirrored, [N, C, H, W], F64);
    const a = net.loss(X),
      b = net.loss(M);
    try {
      const sa = arr(a),
        sb = arr(b);
      const sum = sa.map((v, i) => v + sb[i]);
      const argmax = (s: number[]) =>
        Array.from({ length: N }, (_, i) => {
          let best = 0;
          for (let k = 1; k < K; k++) if (s[i * K + k] > s[i * K + best]) best = k;
          return best;
        });
      expect(argmax(sum)).not.toEqual(argmax(sa)); // the flip changes some answers
      for (const batchSize of [1, 5, 100]) expect(Array.from(net.predict(X, { batchSize, tta: "flip" })), `batchSize ${batchSize}`).toEqual(argmax(sum));
    } finally {
      for (const t of [X, M, a, b]) t.dispose();
      net.dispose();
    }
  });

  it("a float64 Solver with randomFlip, randomCrop and cutout trains, reproduces bit for bit and differs from the plain run", () => {
    const X = randn64([60, 1, 6, 6], 170);
    const xv = arr(X);
    const y = Int32Array.from({ length: 60 }, (_, i) => (xv[i * 36 + 7] > 0 ? 1 : 0) + (xv[i * 36 + 28] > 0 ? 1 : 0));
    const data = { XTrain: X, yTrain: y, XVal: X, yVal: y };
    const augment: tl.Augmentation[] = [{ type: "randomFlip" }, { type: "randomCrop", padding: 1 }, { type: "cutout", size: 2 }];
    const run = (list: tl.Augmentation[]) => {
      const net = new tl.DeepConvNet({
        inputDims: [1, 6, 6],
        numFilters: [3],
        maxPools: [0],
        normalization: "batchnorm",
        numClasses: 3,
        weightScale: "kaiming",
        seed: 31,
        dtype: "float64",
      });
      const solver = new tl.Solver(net, data, {
        updateRule: "adam",
        optimConfig: { learningRate: 1e-2 },
        batchSize: 10,
        numEpochs: 2,
        verbose: false,
        seed: 8,
        augment: list,
      });
      try {
        solver.train();
        expect(net.params.W1.dtype).toBe("float64");
        return { losses: [...solver.lossHistory], w: arr(net.params.W1) };
      } finally {
        solver.dispose();
        net.dispose();
      }
    };
    try {
      const first = run(augment),
        again = run(augment),
        plain = run([]);
      expect(first.losses.every(Number.isFinite)).toBe(true);
      expect(again).toEqual(first);
      expect(first.losses).not.toEqual(plain.losses);
    } finally {
      X.dispose();
    }
  });
});
