// BatchNorm (N, D), SpatialBatchNorm (N, C, H, W) and the fc-bn-relu sandwich: semantics against
// f64 references worked in JS, running statistics, numeric gradient checks and clear errors.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { expectClose, expectRelError } from "./helpers.js";

beforeAll(() => tl.init());
let baseline: ReturnType<typeof tl.memory>;
beforeAll(() => {
  baseline = tl.memory();
});
// bnParams whose running statistics forward created (kept out of tidy): freed after each test,
// even a failing one, before the leak check.
const made: tl.BatchNormParam[] = [];
function param(p: tl.BatchNormParam): tl.BatchNormParam {
  made.push(p);
  return p;
}
afterEach(() => {
  for (const p of made.splice(0)) {
    p.runningMean?.dispose();
    p.runningVar?.dispose();
  }
  expect(tl.memory().liveTensors).toBe(baseline.liveTensors);
});

/** Per-column mean and biased variance of a row-major (N, D) array, in f64. */
function columnStats(x: ArrayLike<number>, N: number, D: number): { mean: number[]; variance: number[] } {
  const mean = new Array<number>(D).fill(0);
  const variance = new Array<number>(D).fill(0);
  for (let i = 0; i < N; i++) for (let j = 0; j < D; j++) mean[j] += x[i * D + j] / N;
  for (let i = 0; i < N; i++) for (let j = 0; j < D; j++) variance[j] += (x[i * D + j] - mean[j]) ** 2 / N;
  return { mean, variance };
}

/** gamma * (x - mean) / sqrt(var + eps) + beta per column, in f64. */
function normalizeRef(
  x: ArrayLike<number>,
  N: number,
  D: number,
  mean: number[],
  variance: number[],
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  eps: number,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < D; j++) out.push((gamma[j] * (x[i * D + j] - mean[j])) / Math.sqrt(variance[j] + eps) + beta[j]);
  }
  return out;
}

/** (N, D) data whose column j is scale[j] * z + shift[j], z standard normal (seeded). */
function scaledColumns(N: number, scales: number[], shifts: number[], seed: number): tl.Tensor {
  const D = scales.length;
  const z = tl.randn([N, D], { seed });
  const v = z.toArray();
  z.dispose();
  for (let i = 0; i < N; i++) for (let j = 0; j < D; j++) v[i * D + j] = scales[j] * v[i * D + j] + shifts[j];
  return tl.tensor(v, [N, D]);
}

/** NCHW (N, C, H, W) values to rows (N*H*W, C), and back. */
function nchwToRows(v: ArrayLike<number>, [N, C, H, W]: readonly number[]): Float32Array {
  const S = H * W;
  const out = new Float32Array(N * C * S);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) out[(n * S + s) * C + c] = v[(n * C + c) * S + s];
  return out;
}
function rowsToNchw(v: ArrayLike<number>, [N, C, H, W]: readonly number[]): Float32Array {
  const S = H * W;
  const out = new Float32Array(N * C * S);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) out[(n * C + c) * S + s] = v[(n * S + s) * C + c];
  return out;
}

describe("BatchNorm train mode", () => {
  it("per-feature statistics: features at scales 1e-3, 1, 1e3 all come out with mean = beta and std = gamma", () => {
    // The seed's torch.var(x) without dim would use ONE variance for all three features: the
    // 1e-3 feature would come out with std ~1e-6 * gamma. Per-feature variance fixes that.
    tl.tidy(() => {
      const N = 64;
      // Offsets stay within a few spreads of each feature: float32 x cannot resolve a 1e-3 spread
      // around 5 better than ulp(5) / 1e-3 ~ 5e-4 relative, which is not what this test is about.
      const x = scaledColumns(N, [1e-3, 1, 1e3, 7], [2e-3, -2, 3e3, 0], 11);
      const gamma = tl.tensor([1, 2, 0.5, 3]);
      const beta = tl.tensor([0, -1, 4, 0.25]);
      const [out] = tl.BatchNorm.forward(x, gamma, beta, param({ mode: "train" }));
      const { mean, variance } = columnStats(out.toArray(), N, 4);
      const g = gamma.toArray();
      const b = beta.toArray();
      for (let j = 0; j < 4; j++) {
        expect(Math.abs(mean[j] - b[j]), `feature ${j} mean ${mean[j]} vs beta ${b[j]}`).toBeLessThan(1e-5 * (1 + g[j]));
        // std is sqrt(var / (var + eps)) * gamma: for the 1e-3 feature eps = 1e-5 matters (var 1e-6).
        const xs = columnStats(x.toArray(), N, 4).variance[j];
        const expected = g[j] * Math.sqrt(xs / (xs + 1e-5));
        expect(Math.abs(Math.sqrt(variance[j]) - expected), `feature ${j} std ${Math.sqrt(variance[j])} vs ${expected}`).toBeLessThan(1e-4 * g[j]);
      }
      // With a small eps the tiny feature is normalized too (std = gamma).
      const [out2] = tl.BatchNorm.forward(x, gamma, beta, param({ mode: "train", eps: 1e-12 }));
      const s2 = columnStats(out2.toArray(), N, 4).variance;
      for (let j = 0; j < 4; j++) expect(Math.abs(Math.sqrt(s2[j]) - g[j]), `feature ${j} with eps 1e-12`).toBeLessThan(1e-4 * g[j]);
    });
  });

  it("out equals the f64 reference (N=17, D=5), biased variance", () => {
    tl.tidy(() => {
      const N = 17,
        D = 5;
      const x = scaledColumns(N, [1, 2, 0.5, 3, 1], [0, 1, -1, 2, 0], 12);
      const gamma = tl.randn([D], { seed: 13 });
      const beta = tl.randn([D], { seed: 14 });
      const [out, cache] = tl.BatchNorm.forward(x, gamma, beta, param({ mode: "train" }));
      const { mean, variance } = columnStats(x.toArray(), N, D);
      expectClose("out", out.toArray(), normalizeRef(x.toArray(), N, D, mean, variance, gamma.toArray(), beta.toArray(), 1e-5), 2e-5);
      expectClose("saved mean", cache.mean.toArray(), mean, 2e-6);
      expectClose(
        "saved invstd",
        cache.invstd.toArray(),
        variance.map((v) => 1 / Math.sqrt(v + 1e-5)),
        2e-5,
      );
    });
  });

  it("running statistics start at zeros, are stored back in bnParam and follow momentum * running + (1 - momentum) * batch", () => {
    tl.tidy(() => {
      const D = 3;
      const gamma = tl.ones([D]);
      const beta = tl.zeros([D]);
      for (const momentum of [undefined, 0.5]) {
        const bnParam = param(momentum === undefined ? { mode: "train" } : { mode: "train", momentum });
        const m = momentum ?? 0.9;
        let rm = [0, 0, 0];
        let rv = [0, 0, 0];
        for (let step = 0; step < 4; step++) {
          const N = 5 + step;
          const x = scaledColumns(N, [1, 10, 0.1], [step, -3, 1], 20 + step);
          tl.BatchNorm.forward(x, gamma, beta, bnParam);
          const { mean, variance } = columnStats(x.toArray(), N, D);
          rm = rm.map((r, j) => m * r + (1 - m) * mean[j]);
          rv = rv.map((r, j) => m * r + (1 - m) * variance[j]);
          expect(bnParam.runningMean?.shape).toEqual([D]);
          const first = bnParam.runningMean;
          expectClose(`runningMean step ${step} momentum ${m}`, bnParam.runningMean!.toArray(), rm, 1e-5);
          expectClose(`runningVar step ${step} momentum ${m}`, bnParam.runningVar!.toArray(), rv, 1e-4 * Math.max(1, ...rv));
          expect(bnParam.runningMean).toBe(first); // updated in place, not replaced
        }
      }
    });
  });

  it("created running statistics survive an enclosing tidy", () => {
    const bnParam: tl.BatchNormParam = param({ mode: "train" });
    const gamma = tl.ones([2]);
    const beta = tl.zeros([2]);
    tl.tidy(() => {
      tl.BatchNorm.forward(
        tl.tensor([
          [1, 2],
          [3, 5],
        ]),
        gamma,
        beta,
        bnParam,
      );
    });
    expect(bnParam.runningMean!.isDisposed).toBe(false);
    // batch mean [2, 3.5]; running = f32(0.9) * 0 + f32(0.1) * mean, in float32
    const keep = Math.fround(0.1);
    expect(Array.from(bnParam.runningMean!.toArray())).toEqual([Math.fround(keep * 2), Math.fround(keep * 3.5)]);
    [gamma, beta].forEach((t) => t.dispose());
  });

  it("N = 1 is allowed: variance 0, out = beta, dx = 0", () => {
    tl.tidy(() => {
      const x = tl.tensor([[1, -2, 3]]);
      const gamma = tl.tensor([2, 3, 4]);
      const beta = tl.tensor([0.5, -0.5, 1]);
      const bnParam: tl.BatchNormParam = param({ mode: "train" });
      const [out, cache] = tl.BatchNorm.forward(x, gamma, beta, bnParam);
      expect(Array.from(out.toArray())).toEqual([0.5, -0.5, 1]);
      const [dx, dgamma, dbeta] = tl.BatchNorm.backward(tl.tensor([[1, 2, 3]]), cache);
      expect(Array.from(dx.toArray())).toEqual([0, 0, 0]);
      expect(Array.from(dgamma.toArray())).toEqual([0, 0, 0]);
      expect(Array.from(dbeta.toArray())).toEqual([1, 2, 3]);
    });
  });
});

describe("BatchNorm test mode", () => {
  it("uses the running statistics and leaves them unchanged", () => {
    tl.tidy(() => {
      const N = 4,
        D = 3;
      const x = scaledColumns(N, [1, 2, 3], [0, 1, 2], 30);
      const gamma = tl.tensor([1, 2, 3]);
      const beta = tl.tensor([0, 1, -1]);
      const runningMean = tl.tensor([0.5, -1, 2]);
      const runningVar = tl.tensor([1, 4, 0.25]);
      const bnParam: tl.BatchNormParam = param({ mode: "test", runningMean, runningVar, eps: 1e-3 });
      const [out] = tl.BatchNorm.forward(x, gamma, beta, bnParam);
      const ref = normalizeRef(x.toArray(), N, D, [0.5, -1, 2], [1, 4, 0.25], [1, 2, 3], [0, 1, -1], 1e-3);
      expectClose("test-mode out", out.toArray(), ref, 1e-5);
      expect(Array.from(runningMean.toArray())).toEqual([0.5, -1, 2]);
      expect(Array.from(runningVar.toArray())).toEqual([1, 4, 0.25]);
      expect(bnParam.runningMean).toBe(runningMean);
    });
  });

  it("after training steps, test mode normalizes with the accumulated statistics", () => {
    tl.tidy(() => {
      const gamma = tl.ones([2]);
      const beta = tl.zeros([2]);
      const bnParam: tl.BatchNormParam = param({ mode: "train", momentum: 0 }); // running = last batch
      const x = scaledColumns(8, [2, 0.5], [3, -1], 31);
      const [trainOut] = tl.BatchNorm.forward(x, gamma, beta, bnParam);
      bnParam.mode = "test";
      const [testOut] = tl.BatchNorm.forward(x, gamma, beta, bnParam);
      expectClose("test out = train out when running = batch stats", testOut.toArray(), trainOut.toArray(), 1e-6);
    });
  });
});

describe("BatchNorm gradients", () => {
  // float32 central differences with h = 1e-2 on inputs of scale ~1: rounding noise in out is
  // ~1e-7, divided by 2h it stays ~1e-5 against gradients of order 1.
  for (const [N, D] of [
    [3, 3],
    [6, 5],
    [17, 4],
  ] as const) {
    it(`train mode: dx, dgamma, dbeta match numeric gradients (N=${N}, D=${D}, h=1e-2)`, () => {
      tl.tidy(() => {
        const x = scaledColumns(
          N,
          Array.from({ length: D }, (_, j) => 1 + 0.5 * j),
          Array.from({ length: D }, (_, j) => j - 1),
          140 + N,
        );
        const gamma = tl.randn([D], { seed: 41, mean: 1, std: 0.3 });
        const beta = tl.randn([D], { seed: 42 });
        const dout = tl.randn([N, D], { seed: 43 });
        const bnParam: tl.BatchNormParam = param({ mode: "train" });
        const [, cache] = tl.BatchNorm.forward(x, gamma, beta, bnParam);
        const [dx, dgamma, dbeta] = tl.BatchNorm.backward(dout, cache);
        const f = () => tl.BatchNorm.forward(x, gamma, beta, bnParam)[0];
        const h = { h: 1e-2 };
        const ex = tl.scaledError(dx, tl.evalNumericalGradientArray(f, x, dout, h));
        const eg = tl.relError(dgamma, tl.evalNumericalGradientArray(f, gamma, dout, h));
        const eb = tl.relError(dbeta, tl.evalNumericalGradientArray(f, beta, dout, h));
        console.log(`BatchNorm N=${N} D=${D}: dx scaled error ${ex.toExponential(2)}, dgamma rel ${eg.toExponential(2)}, dbeta rel ${eb.toExponential(2)}`);
        expectRelError("dx (scaled)", ex, 1e-3);
        expectRelError("dgamma", eg, 1e-3);
        expectRelError("dbeta", eb, 1e-3);
      });
    });
  }

  it("dx sums to ~0 over the batch and is orthogonal to xhat (the batch-statistics terms)", () => {
    tl.tidy(() => {
      const N = 32,
        D = 3;
      const x = scaledColumns(N, [1, 100, 0.01], [0, 50, -1], 45);
      const gamma = tl.tensor([1, 2, 3]);
      const beta = tl.zeros([D]);
      // eps ~ 0: with eps the identities hold only up to var / (var + eps)
      const bnParam: tl.BatchNormParam = param({ mode: "train", eps: 1e-12 });
      const [out, cache] = tl.BatchNorm.forward(x, gamma, beta, bnParam);
      const dout = tl.randn([N, D], { seed: 46 });
      const [dx] = tl.BatchNorm.backward(dout, cache);
      const d = dx.toArray();
      const xh = out.toArray();
      const scale = [1, 100, 0.01];
      for (let j = 0; j < D; j++) {
        let s = 0,
          sx = 0;
        for (let i = 0; i < N; i++) {
          s += d[i * D + j];
          sx += d[i * D + j] * xh[i * D + j];
        }
        // dx_j scales like gamma_j / scale_j
        const unit = (j + 1) / scale[j];
        expect(Math.abs(s) / unit, `feature ${j}: sum dx`).toBeLessThan(1e-4);
        expect(Math.abs(sx) / unit, `feature ${j}: sum dx * xhat`).toBeLessThan(1e-4);
      }
    });
  });

  it("test mode: the statistics are constants, dx = gamma * dout / sqrt(runningVar + eps)", () => {
    tl.tidy(() => {
      const N = 5,
        D = 3;
      const x = scaledColumns(N, [1, 2, 3], [0, 1, 2], 47);
      const gamma = tl.tensor([1, -2, 0.5]);
      const beta = tl.tensor([0, 1, 2]);
      const bnParam: tl.BatchNormParam = param({ mode: "test", runningMean: tl.tensor([0.1, 0.2, 0.3]), runningVar: tl.tensor([1, 2, 3]) });
      const dout = tl.randn([N, D], { seed: 48 });
      const [, cache] = tl.BatchNorm.forward(x, gamma, beta, bnParam);
      const [dx, dgamma, dbeta] = tl.BatchNorm.backward(dout, cache);
      const f = () => tl.BatchNorm.forward(x, gamma, beta, bnParam)[0];
      expectRelError("dx", tl.relError(dx, tl.evalNumericalGradientArray(f, x, dout, { h: 1e-2 })), 1e-3);
      expectRelError("dgamma", tl.relError(dgamma, tl.evalNumericalGradientArray(f, gamma, dout, { h: 1e-2 })), 1e-3);
      expectRelError("dbeta", tl.relError(dbeta, tl.evalNumericalGradientArray(f, beta, dout, { h: 1e-2 })), 1e-3);
    });
  });
});

describe("SpatialBatchNorm", () => {
  for (const shape of [
    [2, 3, 4, 5],
    [3, 2, 3, 3],
    [1, 3, 1, 1],
    [4, 1, 2, 7],
  ] as const) {
    it(`equals BatchNorm on the (N*H*W, C) transposed data, forward and backward, train and test (x ${JSON.stringify(shape)})`, () => {
      tl.tidy(() => {
        const [N, C, H, W] = shape;
        const rows = N * H * W;
        const x = tl.randn([...shape], { seed: 50, mean: 2, std: 3 });
        const gamma = tl.randn([C], { seed: 51, mean: 1 });
        const beta = tl.randn([C], { seed: 52 });
        const dout = tl.randn([...shape], { seed: 53 });
        const xRows = tl.tensor(nchwToRows(x.toArray(), shape), [rows, C]);
        const doutRows = tl.tensor(nchwToRows(dout.toArray(), shape), [rows, C]);
        const sp: tl.BatchNormParam = param({ mode: "train", momentum: 0.8 });
        const bn: tl.BatchNormParam = param({ mode: "train", momentum: 0.8 });
        for (let step = 0; step < 2; step++) {
          const [out, cache] = tl.SpatialBatchNorm.forward(x, gamma, beta, sp);
          const [outR, cacheR] = tl.BatchNorm.forward(xRows, gamma, beta, bn);
          expect(out.shape).toEqual([...shape]);
          expectClose("out", out.toArray(), rowsToNchw(outR.toArray(), shape), 1e-5);
          expectClose("runningMean", sp.runningMean!.toArray(), bn.runningMean!.toArray(), 1e-6);
          expectClose("runningVar", sp.runningVar!.toArray(), bn.runningVar!.toArray(), 1e-5);
          const [dx, dgamma, dbeta] = tl.SpatialBatchNorm.backward(dout, cache);
          const [dxR, dgammaR, dbetaR] = tl.BatchNorm.backward(doutRows, cacheR);
          expect(dx.shape).toEqual([...shape]);
          expectClose("dx", dx.toArray(), rowsToNchw(dxR.toArray(), shape), 1e-5);
          expectClose("dgamma", dgamma.toArray(), dgammaR.toArray(), 1e-4);
          expectClose("dbeta", dbeta.toArray(), dbetaR.toArray(), 1e-4);
        }
        sp.mode = "test";
        bn.mode = "test";
        const [out] = tl.SpatialBatchNorm.forward(x, gamma, beta, sp);
        const [outR] = tl.BatchNorm.forward(xRows, gamma, beta, bn);
        expectClose("test-mode out", out.toArray(), rowsToNchw(outR.toArray(), shape), 1e-5);
      });
    });
  }

  it("train mode: dx, dgamma, dbeta match numeric gradients (x (2, 3, 3, 5), h=1e-2)", () => {
    tl.tidy(() => {
      const shape = [2, 3, 3, 5];
      const x = tl.randn(shape, { seed: 60, mean: 1, std: 2 });
      const gamma = tl.randn([3], { seed: 61, mean: 1, std: 0.3 });
      const beta = tl.randn([3], { seed: 62 });
      const dout = tl.randn(shape, { seed: 63 });
      const bnParam: tl.BatchNormParam = param({ mode: "train" });
      const [, cache] = tl.SpatialBatchNorm.forward(x, gamma, beta, bnParam);
      const [dx, dgamma, dbeta] = tl.SpatialBatchNorm.backward(dout, cache);
      const f = () => tl.SpatialBatchNorm.forward(x, gamma, beta, bnParam)[0];
      const ex = tl.scaledError(dx, tl.evalNumericalGradientArray(f, x, dout, { h: 1e-2 }));
      const eg = tl.relError(dgamma, tl.evalNumericalGradientArray(f, gamma, dout, { h: 1e-2 }));
      const eb = tl.relError(dbeta, tl.evalNumericalGradientArray(f, beta, dout, { h: 1e-2 }));
      console.log(`SpatialBatchNorm (2,3,3,5): dx scaled error ${ex.toExponential(2)}, dgamma rel ${eg.toExponential(2)}, dbeta rel ${eb.toExponential(2)}`);
      expectRelError("dx (scaled)", ex, 1e-3);
      expectRelError("dgamma", eg, 1e-3);
      expectRelError("dbeta", eb, 1e-3);
    });
  });

  it("per-channel statistics: channels at scales 1e-2, 1, 1e2 each come out with mean = beta, std = gamma", () => {
    tl.tidy(() => {
      const [N, C, H, W] = [4, 3, 5, 3];
      const z = tl.randn([N, C, H, W], { seed: 64 }).toArray();
      const scale = [1e-2, 1, 1e2];
      for (let i = 0; i < z.length; i++) z[i] = (z[i] + 2) * scale[Math.floor(i / (H * W)) % C];
      const x = tl.tensor(z, [N, C, H, W]);
      const bnParam: tl.BatchNormParam = param({ mode: "train", eps: 1e-10 });
      const [out] = tl.SpatialBatchNorm.forward(x, tl.tensor([1, 2, 3]), tl.tensor([0, 1, 2]), bnParam);
      const { mean, variance } = columnStats(nchwToRows(out.toArray(), [N, C, H, W]), N * H * W, C);
      expectClose("channel means", mean, [0, 1, 2], 1e-5);
      expectClose("channel stds", variance.map(Math.sqrt), [1, 2, 3], 1e-4);
    });
  });
});

describe("LinearBatchNormReLU", () => {
  it("matches numeric gradients; the bias before BN has zero gradient (N=8, x (8, 2, 3), M=5)", () => {
    tl.tidy(() => {
      const x = tl.randn([8, 2, 3], { seed: 70 });
      const w = tl.randn([6, 5], { seed: 71, std: 0.5 });
      const b = tl.randn([5], { seed: 72 });
      const gamma = tl.randn([5], { seed: 73, mean: 1, std: 0.2 });
      const beta = tl.randn([5], { seed: 74, std: 0.1 });
      const dout = tl.randn([8, 5], { seed: 75 });
      const bnParam: tl.BatchNormParam = param({ mode: "train" });
      const [out, cache] = tl.LinearBatchNormReLU.forward(x, w, b, gamma, beta, bnParam);
      expect(out.shape).toEqual([8, 5]);
      const [dx, dw, db, dgamma, dbeta] = tl.LinearBatchNormReLU.backward(dout, cache);
      expect(dx.shape).toEqual([8, 2, 3]);
      const f = () => tl.LinearBatchNormReLU.forward(x, w, b, gamma, beta, bnParam)[0];
      const h = { h: 1e-2 };
      const errors = {
        dx: tl.scaledError(dx, tl.evalNumericalGradientArray(f, x, dout, h)),
        dw: tl.scaledError(dw, tl.evalNumericalGradientArray(f, w, dout, h)),
        dgamma: tl.relError(dgamma, tl.evalNumericalGradientArray(f, gamma, dout, h)),
        dbeta: tl.relError(dbeta, tl.evalNumericalGradientArray(f, beta, dout, h)),
      };
      console.log("LinearBatchNormReLU errors", errors);
      for (const [name, e] of Object.entries(errors)) expectRelError(name, e, 2e-3);
      const dbNumeric = tl.evalNumericalGradientArray(f, b, dout, h);
      const worst = Math.max(...Array.from(db.toArray(), Math.abs));
      expect(worst, `analytic db should be ~0 (got max |db| ${worst})`).toBeLessThan(1e-5);
      expect(Math.max(...Array.from(dbNumeric, Math.abs)), "numeric db ~0").toBeLessThan(2e-3);
    });
  });
});

describe("batch-norm errors", () => {
  it("names the argument and what was expected; bnParam is left untouched", () => {
    tl.tidy(() => {
      const x = tl.zeros([4, 3]);
      const g = tl.ones([3]);
      const b = tl.zeros([3]);
      const f =
        (p: unknown, gamma: unknown = g, beta: unknown = b, input: unknown = x) =>
        () =>
          tl.BatchNorm.forward(input as tl.Tensor, gamma as tl.Tensor, beta as tl.Tensor, p as tl.BatchNormParam);
      expect(f({ mode: "train" }, tl.ones([4]))).toThrow(
        /BatchNorm.forward: gamma must have shape \[3\] \(one scale per feature of x \[4, 3\]\) \(got \[4\]\)/,
      );
      expect(f({ mode: "train" }, g, tl.zeros([3, 1]))).toThrow(/beta must have 1 dimensions/);
      expect(f(undefined)).toThrow(/bnParam \{ mode: "train" \| "test", ... \} is required/);
      expect(f({ mode: "eval" })).toThrow(/bnParam.mode must be one of "train", "test" \(got "eval"\)/);
      expect(f({})).toThrow(/bnParam.mode must be one of/);
      expect(f({ mode: "train", eps: 0 })).toThrow(/bnParam.eps must be > 0 \(got 0\)/);
      expect(f({ mode: "train", eps: 1e-60 })).toThrow(/bnParam.eps must be > 0 in float32/);
      expect(f({ mode: "train", eps: NaN })).toThrow(/bnParam.eps must be a number/);
      expect(f({ mode: "train", momentum: 1.5 })).toThrow(/bnParam.momentum must be in \[0, 1\] \(got 1.5\)/);
      expect(f({ mode: "train", running_mean: tl.zeros([3]) })).toThrow(/unknown option "running_mean" in bnParam/);
      const p1 = { mode: "train", runningMean: tl.zeros([3]), runningVar: tl.zeros([4]) };
      expect(f(p1)).toThrow(/bnParam.runningVar must have shape \[3\] \(one value per feature\) \(got \[4\]\)/);
      const p2: Record<string, unknown> = { mode: "train", runningVar: tl.zeros([2]) };
      expect(f(p2)).toThrow(/bnParam.runningVar must have shape \[3\]/);
      expect(p2.runningMean).toBeUndefined(); // nothing created or stored on failure
      const same = tl.zeros([3]);
      expect(f({ mode: "train", runningMean: same, runningVar: same })).toThrow(/must be different tensors/);
      expect(f({ mode: "train", runningMean: [0, 0, 0] })).toThrow(/bnParam.runningMean must be a Tensor \(got an array of length 3\)/);
      expect(f({ mode: "train" }, g, b, tl.zeros([0, 3]))).toThrow(/x must have at least one row \(got shape \[0, 3\]\)/);
      expect(f({ mode: "train" }, g, b, tl.zeros([12]))).toThrow(/BatchNorm.forward: x must have 2 dimensions \(got shape \[12\]\)/);
      const gone = tl.zeros([4, 3]);
      gone.dispose();
      expect(f({ mode: "train" }, g, b, gone)).toThrow(/x was disposed/);
      const p = { mode: "train" as const, runningMean: tl.zeros([3]), runningVar: tl.ones([3]) };
      const [, cache] = tl.BatchNorm.forward(x, g, b, p);
      expect(() => tl.BatchNorm.backward(tl.zeros([3, 4]), cache)).toThrow(/BatchNorm.backward: dout must have shape \[4, 3\]/);
      expect(() => tl.BatchNorm.backward(tl.zeros([4, 3]), { x } as never)).toThrow(/cache is missing "gamma"/);
      // Still usable afterwards.
      const [out] = tl.BatchNorm.forward(tl.tensor([[1], [3]]), tl.ones([1]), tl.zeros([1]), {
        mode: "test",
        runningMean: tl.tensor([2]),
        runningVar: tl.tensor([1]),
        eps: 1e-6,
      });
      expectClose("after errors", out.toArray(), [-1, 1], 1e-5);
    });
  });

  it("SpatialBatchNorm: x must be (N, C, H, W) with dimensions >= 1; gamma and running stats per channel", () => {
    tl.tidy(() => {
      const g = tl.ones([3]);
      const b = tl.zeros([3]);
      expect(() => tl.SpatialBatchNorm.forward(tl.zeros([2, 3]), g, b, { mode: "train" })).toThrow(/SpatialBatchNorm.forward: x must have 4 dimensions/);
      expect(() => tl.SpatialBatchNorm.forward(tl.zeros([2, 3, 0, 4]), g, b, { mode: "train" })).toThrow(/every dimension >= 1 \(got shape \[2, 3, 0, 4\]\)/);
      expect(() => tl.SpatialBatchNorm.forward(tl.zeros([2, 4, 2, 2]), g, b, { mode: "train" })).toThrow(
        /gamma must have shape \[4\] \(one scale per channel of x \[2, 4, 2, 2\]\)/,
      );
      expect(() => tl.SpatialBatchNorm.forward(tl.zeros([2, 3, 2, 2]), g, b, { mode: "test", runningMean: tl.zeros([4]) })).toThrow(
        /runningMean must have shape \[3\]/,
      );
      const [, cache] = tl.SpatialBatchNorm.forward(tl.zeros([2, 3, 2, 2]), g, b, { mode: "test", runningMean: tl.zeros([3]), runningVar: tl.ones([3]) });
      expect(() => tl.SpatialBatchNorm.backward(tl.zeros([2, 3, 4]), cache)).toThrow(/dout must have shape \[2, 3, 2, 2\]/);
    });
  });
});
