// Properties of the layers over random shapes, options and values: forward and backward agree with
// the plain-JS references in reference.ts, and every call gives its memory back once the results
// are disposed.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../../src/index.js";
import * as ref from "./reference.js";
import { disposeAll, expectNear, expectNoLeak, params, round32, shape, sizeOf, values } from "./support.js";

beforeAll(() => tl.init());

// float32 rounding of a sum of `terms` products, relative to the sum of their magnitudes, with room to spare.
// The absolute floor covers products that underflow below float32's smallest subnormal (2^-149).
const bound = (scale: number[], terms: number): number[] => scale.map((s) => (s * 2 ** -22 + 2 ** -149) * (terms + 2));

describe("Linear", () => {
  // x (N, d1, ..., dk) with D = d1...dk features (0 included), w (D, M), b (M), dout (N, M)
  const arb = fc.record({ N: fc.integer({ min: 0, max: 6 }), rest: shape(1, 3, 0, 4), M: fc.integer({ min: 0, max: 7 }) }).chain(({ N, rest, M }) => {
    const D = sizeOf(rest);
    return fc.record({
      N: fc.constant(N),
      rest: fc.constant(rest),
      D: fc.constant(D),
      M: fc.constant(M),
      x: values(N * D),
      w: values(D * M),
      b: values(M),
      dout: values(N * M),
    });
  });

  it("forward and backward agree with the triple loop; dx keeps x's shape", () => {
    fc.assert(
      fc.property(arb, ({ N, rest, D, M, x, w, b, dout }) => {
        expectNoLeak("Linear", () =>
          tl.tidy(() => {
            const [out, cache] = tl.Linear.forward(tl.tensor(x, [N, ...rest]), tl.tensor(w, [D, M]), tl.tensor(b, [M]));
            const want = ref.linear(round32(x), round32(w), round32(b), N, D, M);
            expect(out.shape).toEqual([N, M]);
            expectNear("out", out.toArray(), want.out, bound(want.scale, D));
            const [dx, dw, db] = tl.Linear.backward(tl.tensor(dout, [N, M]), cache);
            expect(dx.shape).toEqual([N, ...rest]);
            const g = round32(dout);
            const wantDx = ref.matmul(g, ref.transpose(round32(w), D, M), N, M, D);
            const wantDw = ref.matmul(ref.transpose(round32(x), N, D), g, D, N, M);
            const wantDb = ref.matmul(new Array(N).fill(1), g, 1, N, M);
            expectNear("dx", dx.toArray(), wantDx.out, bound(wantDx.scale, M));
            expectNear("dw", dw.toArray(), wantDw.out, bound(wantDw.scale, N));
            expectNear("db", db.toArray(), wantDb.out, bound(wantDb.scale, N));
          }),
        );
      }),
      params(),
    );
  });
});

describe("ReLU and Dropout", () => {
  const arb = shape(1, 4, 0, 5).chain((s) => fc.record({ s: fc.constant(s), x: values(sizeOf(s)), dout: values(sizeOf(s)) }));

  it("ReLU: out = max(x, 0), dx = dout where x > 0, exactly", () => {
    fc.assert(
      fc.property(arb, ({ s, x, dout }) => {
        expectNoLeak("ReLU", () =>
          tl.tidy(() => {
            const [out, cache] = tl.ReLU.forward(tl.tensor(x, s));
            expectNear(
              "out",
              out.toArray(),
              round32(x).map((v) => Math.max(v, 0)),
              0,
            );
            const dx = tl.ReLU.backward(tl.tensor(dout, s), cache);
            const g = round32(dout);
            expectNear(
              "dx",
              dx.toArray(),
              round32(x).map((v, i) => (v > 0 ? g[i] : 0)),
              0,
            );
          }),
        );
      }),
      params(),
    );
  });

  it("Dropout: train keeps units with one scale near 1/(1-p) and backward reuses the mask; test is the identity", () => {
    const p = fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.95, noNaN: true }));
    fc.assert(
      fc.property(arb, p, fc.constantFrom("train" as const, "test" as const), fc.nat({ max: 2 ** 32 - 1 }), ({ s, x, dout }, pp, mode, seed) => {
        expectNoLeak("Dropout", () =>
          tl.tidy(() => {
            const xt = tl.tensor(x, s);
            const [out, cache] = tl.Dropout.forward(xt, { p: pp, mode, seed });
            const dx = tl.Dropout.backward(tl.tensor(dout, s), cache);
            if (mode === "test") {
              expect(cache.mask).toBeNull();
              expectNear("test out", out.toArray(), round32(x), 0);
              expectNear("test dx", dx.toArray(), round32(dout), 0);
              return;
            }
            const mask = cache.mask!.toArray();
            const kept = Array.from(mask).filter((m) => m !== 0);
            for (const m of kept) expect(Math.abs(m * (1 - pp) - 1), `mask value ${m} for p ${pp}`).toBeLessThan(1e-6);
            if (pp === 0) expect(kept.length).toBe(mask.length);
            expectNear(
              "out = x * mask",
              out.toArray(),
              round32(x).map((v, i) => Math.fround(v * mask[i])),
              0,
            );
            expectNear(
              "dx = dout * mask",
              dx.toArray(),
              round32(dout).map((v, i) => Math.fround(v * mask[i])),
              0,
            );
            // The same seed gives the same mask.
            const [, again] = tl.Dropout.forward(xt, { p: pp, mode, seed });
            expect(Array.from(again.mask!.toArray())).toEqual(Array.from(mask));
          }),
        );
      }),
      params(),
    );
  });
});

describe("BatchNorm and SpatialBatchNorm", () => {
  // x from multiples of 1/8 so every feature's variance is 0 or at least ~1/4096: the comparison
  // tests the formula, not float32 conditioning at a variance of 1e-30.
  const grid = (n: number) =>
    fc.array(
      fc.integer({ min: -32, max: 32 }).map((k) => k / 8),
      { minLength: n, maxLength: n },
    );

  function check(
    kind: "rows" | "spatial",
    dims: number[],
    x: number[],
    gamma: number[],
    beta: number[],
    dout: number[],
    eps: number,
    momentum: number,
    runMean: number[],
    runVar: number[],
  ): void {
    const F = kind === "rows" ? dims[1] : dims[1];
    const S = kind === "rows" ? 1 : dims[2] * dims[3];
    const feature = kind === "rows" ? (e: number) => e % F : (e: number) => Math.floor(e / S) % F;
    const count = x.length / F;
    const layer = kind === "rows" ? tl.BatchNorm : tl.SpatialBatchNorm;
    const r32 = round32;
    const bnParam: tl.BatchNormParam = { mode: "train", eps, momentum, runningMean: tl.tensor(runMean), runningVar: tl.tensor(runVar) };
    const [out, cache] = layer.forward(tl.tensor(x, dims), tl.tensor(gamma), tl.tensor(beta), bnParam);
    const want = ref.batchNorm(x, r32(gamma), r32(beta), r32(dout), feature, F, Math.fround(eps), momentum, r32(runMean), r32(runVar));
    const inv = cache.invstd.toArray();
    const g = r32(gamma);
    const outTol = x.map((v, e) => {
      const f = feature(e);
      return 2 ** -19 * (Math.abs(g[f]) * inv[f] * (Math.abs(v) + 4) + Math.abs(beta[f]) + 1e-6);
    });
    expectNear(`${kind} out`, out.toArray(), want.out, outTol);
    expectNear(`${kind} running mean`, bnParam.runningMean!.toArray(), want.runningMean, 1e-5);
    expectNear(`${kind} running var`, bnParam.runningVar!.toArray(), want.runningVar, 1e-5 * (1 + Math.max(...runVar.map(Math.abs))));
    const [dx, dgamma, dbeta] = layer.backward(tl.tensor(dout, dims), cache);
    const sumAbs = new Array<number>(F).fill(0);
    r32(dout).forEach((v, e) => (sumAbs[feature(e)] += Math.abs(v)));
    const xhatMax = inv.map((i) => i * 8); // |x - mean| <= 8
    expectNear(
      `${kind} dbeta`,
      dbeta.toArray(),
      want.dbeta,
      sumAbs.map((s) => s * 2 ** -20 + 1e-7),
    );
    expectNear(
      `${kind} dgamma`,
      dgamma.toArray(),
      want.dgamma,
      sumAbs.map((s, f) => s * xhatMax[f] * 2 ** -18 + 1e-7),
    );
    const dxTol = x.map((_, e) => {
      const f = feature(e);
      return 2 ** -16 * Math.abs(g[f]) * inv[f] * (Math.abs(dout[e]) + (sumAbs[f] * (1 + xhatMax[f] ** 2)) / count) + 1e-7;
    });
    expectNear(`${kind} dx`, dx.toArray(), want.dx, dxTol);
  }

  const hyper = fc.record({
    eps: fc.double({ min: 1e-7, max: 1e-1, noNaN: true }),
    momentum: fc.double({ min: 0, max: 1, noNaN: true }),
  });

  it("BatchNorm (N, D) train: out, running statistics and backward agree with the formula", () => {
    const arb = fc.record({ N: fc.integer({ min: 1, max: 8 }), D: fc.integer({ min: 1, max: 9 }) }).chain(({ N, D }) =>
      fc.record({
        dims: fc.constant<number[]>([N, D]),
        x: grid(N * D),
        gamma: values(D, 2),
        beta: values(D, 2),
        dout: values(N * D, 2),
        runMean: values(D, 2),
        runVar: values(D, 2).map((v) => v.map(Math.abs)),
        hyper,
      }),
    );
    fc.assert(
      fc.property(arb, (a) => {
        expectNoLeak("BatchNorm", () => tl.tidy(() => check("rows", a.dims, a.x, a.gamma, a.beta, a.dout, a.hyper.eps, a.hyper.momentum, a.runMean, a.runVar)));
      }),
      params(),
    );
  });

  it("SpatialBatchNorm (N, C, H, W) train: per-channel statistics over N, H, W agree with the formula", () => {
    const arb = fc
      .record({ N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 5 }), H: fc.integer({ min: 1, max: 4 }), W: fc.integer({ min: 1, max: 4 }) })
      .chain(({ N, C, H, W }) =>
        fc.record({
          dims: fc.constant<number[]>([N, C, H, W]),
          x: grid(N * C * H * W),
          gamma: values(C, 2),
          beta: values(C, 2),
          dout: values(N * C * H * W, 2),
          runMean: values(C, 2),
          runVar: values(C, 2).map((v) => v.map(Math.abs)),
          hyper,
        }),
      );
    fc.assert(
      fc.property(arb, (a) => {
        expectNoLeak("SpatialBatchNorm", () =>
          tl.tidy(() => check("spatial", a.dims, a.x, a.gamma, a.beta, a.dout, a.hyper.eps, a.hyper.momentum, a.runMean, a.runVar)),
        );
      }),
      params(),
    );
  });

  it("test mode uses the running statistics: out = gamma (x - mean) / sqrt(var + eps) + beta", () => {
    const arb = fc.record({ N: fc.integer({ min: 1, max: 5 }), D: fc.integer({ min: 1, max: 6 }) }).chain(({ N, D }) =>
      fc.record({
        N: fc.constant(N),
        D: fc.constant(D),
        x: values(N * D),
        gamma: values(D),
        beta: values(D),
        mean: values(D),
        variance: values(D).map((v) => v.map(Math.abs)),
      }),
    );
    fc.assert(
      fc.property(arb, ({ N, D, x, gamma, beta, mean, variance }) => {
        expectNoLeak("BatchNorm test", () =>
          tl.tidy(() => {
            const bnParam = { mode: "test" as const, runningMean: tl.tensor(mean), runningVar: tl.tensor(variance) };
            const [out] = tl.BatchNorm.forward(tl.tensor(x, [N, D]), tl.tensor(gamma), tl.tensor(beta), bnParam);
            const r = round32;
            const eps = Math.fround(1e-5);
            const want = r(x).map((v, e) => (r(gamma)[e % D] * (v - r(mean)[e % D])) / Math.sqrt(r(variance)[e % D] + eps) + r(beta)[e % D]);
            const tol = r(x).map((v, e) => 2 ** -20 * ((Math.abs(r(gamma)[e % D]) * (Math.abs(v) + 4)) / Math.sqrt(r(variance)[e % D] + eps) + 4));
            expectNear("out", out.toArray(), want, tol);
          }),
        );
      }),
      params(),
    );
  });
});

describe("Conv", () => {
  const arb = fc
    .record({
      N: fc.integer({ min: 1, max: 2 }),
      C: fc.integer({ min: 1, max: 3 }),
      H: fc.integer({ min: 1, max: 7 }),
      W: fc.integer({ min: 1, max: 7 }),
      F: fc.integer({ min: 1, max: 3 }),
      pad: fc.integer({ min: 0, max: 2 }),
      stride: fc.integer({ min: 1, max: 3 }),
    })
    .chain((s) =>
      fc.record({
        s: fc.constant(s),
        HH: fc.integer({ min: 1, max: Math.min(4, s.H + 2 * s.pad) }),
        WW: fc.integer({ min: 1, max: Math.min(4, s.W + 2 * s.pad) }),
      }),
    )
    .chain(({ s, HH, WW }) => {
      const full: ref.ConvShape = { ...s, HH, WW };
      const [Ho, Wo] = ref.convOut(full);
      return fc.record({
        s: fc.constant(full),
        x: values(s.N * s.C * s.H * s.W),
        w: values(s.F * s.C * HH * WW),
        b: values(s.F),
        dout: values(s.N * s.F * Ho * Wo),
      });
    });

  it("forward and backward agree with the direct loops, for any stride, pad and window that fits", () => {
    fc.assert(
      fc.property(arb, ({ s, x, w, b, dout }) => {
        expectNoLeak("Conv", () =>
          tl.tidy(() => {
            const r = round32;
            const want = ref.conv(r(x), r(w), r(b), s, r(dout));
            const [out, cache] = tl.Conv.forward(tl.tensor(x, [s.N, s.C, s.H, s.W]), tl.tensor(w, [s.F, s.C, s.HH, s.WW]), tl.tensor(b), {
              stride: s.stride,
              pad: s.pad,
            });
            expect(out.shape).toEqual([s.N, s.F, want.Ho, want.Wo]);
            const K = s.C * s.HH * s.WW;
            expectNear("out", out.toArray(), want.out, bound(want.scale, K));
            const [dx, dw, db] = tl.Conv.backward(tl.tensor(dout, out.shape), cache);
            expectNear("dx", dx.toArray(), want.dx, bound(want.dxScale, s.F * s.HH * s.WW));
            expectNear("dw", dw.toArray(), want.dw, bound(want.dwScale, s.N * want.Ho * want.Wo));
            expectNear("db", db.toArray(), want.db, bound(want.dbScale, s.N * want.Ho * want.Wo));
          }),
        );
      }),
      params(),
    );
  });
});

describe("MaxPool", () => {
  const arb = fc
    .record({
      N: fc.integer({ min: 1, max: 2 }),
      C: fc.integer({ min: 1, max: 3 }),
      H: fc.integer({ min: 1, max: 8 }),
      W: fc.integer({ min: 1, max: 8 }),
      stride: fc.integer({ min: 1, max: 3 }),
    })
    .chain((s) => fc.record({ s: fc.constant(s), ph: fc.integer({ min: 1, max: s.H }), pw: fc.integer({ min: 1, max: s.W }) }))
    .chain(({ s, ph, pw }) => {
      const full: ref.PoolShape = { ...s, ph, pw };
      const Ho = 1 + Math.floor((s.H - ph) / s.stride);
      const Wo = 1 + Math.floor((s.W - pw) / s.stride);
      // Small integers: ties are common, and the first maximum must win in both.
      const v = (n: number) => fc.array(fc.integer({ min: -3, max: 3 }), { minLength: n, maxLength: n });
      return fc.record({ s: fc.constant(full), x: fc.oneof(v(s.N * s.C * s.H * s.W), values(s.N * s.C * s.H * s.W)), dout: values(s.N * s.C * Ho * Wo) });
    });

  it("forward takes each window's first maximum and backward routes dout to it (overlapping windows add up)", () => {
    fc.assert(
      fc.property(arb, ({ s, x, dout }) => {
        expectNoLeak("MaxPool", () =>
          tl.tidy(() => {
            const r = round32;
            const want = ref.maxPool(r(x), s, r(dout));
            const [out, cache] = tl.MaxPool.forward(tl.tensor(x, [s.N, s.C, s.H, s.W]), { poolHeight: s.ph, poolWidth: s.pw, stride: s.stride });
            expect(out.shape).toEqual([s.N, s.C, want.Ho, want.Wo]);
            expectNear("out", out.toArray(), want.out, 0);
            const dx = tl.MaxPool.backward(tl.tensor(dout, out.shape), cache);
            // Sums of at most ph*pw overlapping gradients: float32 rounding only.
            expectNear("dx", dx.toArray(), want.dx, 2 ** -20 * s.ph * s.pw * 4);
          }),
        );
      }),
      params(),
    );
  });
});

describe("caches and memory", () => {
  it("the sandwiches and Tanh: forward, backward, then disposing inputs, results and caches returns memory to its baseline", () => {
    type Run = (N: number, D: number, M: number) => unknown;
    const layers: [string, Run][] = [
      [
        "LinearReLU",
        (N, D, M) => {
          const inputs = [tl.randn([N, D]), tl.randn([D, M]), tl.zeros([M])] as const;
          const [out, cache] = tl.LinearReLU.forward(...inputs);
          const dout = tl.ones(out.shape);
          return [inputs, out, cache, dout, tl.LinearReLU.backward(dout, cache)];
        },
      ],
      [
        "LinearBatchNormReLU",
        (N, D, M) => {
          const bn: tl.BatchNormParam = { mode: "train" };
          const inputs = [tl.randn([N, D]), tl.randn([D, M]), tl.zeros([M]), tl.ones([M]), tl.zeros([M])] as const;
          const [out, cache] = tl.LinearBatchNormReLU.forward(...inputs, bn);
          const dout = tl.ones(out.shape);
          return [inputs, out, cache, bn, dout, tl.LinearBatchNormReLU.backward(dout, cache)];
        },
      ],
      [
        "ConvReLUPool",
        (N, D, M) => {
          const inputs = [tl.randn([N, D, 6, 6]), tl.randn([M, D, 3, 3]), tl.zeros([M])] as const;
          const [out, cache] = tl.ConvReLUPool.forward(...inputs, { pad: 1 }, { poolHeight: 2, poolWidth: 2, stride: 2 });
          const dout = tl.ones(out.shape);
          return [inputs, out, cache, dout, tl.ConvReLUPool.backward(dout, cache)];
        },
      ],
      [
        "Tanh",
        (N, D) => {
          const x = tl.randn([N, D]);
          const [out, cache] = tl.Tanh.forward(x);
          const dout = tl.ones(out.shape);
          return [x, out, cache, dout, tl.Tanh.backward(dout, cache)];
        },
      ],
    ];
    const dim = fc.integer({ min: 1, max: 5 });
    fc.assert(
      fc.property(fc.constantFrom(...layers), dim, dim, dim, ([name, run], N, D, M) => {
        expectNoLeak(name, () => disposeAll(run(N, D, M)));
      }),
      params(),
    );
  });
});
