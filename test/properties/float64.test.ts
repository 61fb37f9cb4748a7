// Properties of the float64 layers over random shapes (zero sizes, tails, every stride and pad that
// fits) and random double values: forward and backward agree with the plain-JS float64 references
// in reference.ts within float64 rounding, far inside the 1e-10 (forward) and 1e-8
// (gradients), and every call gives its memory back.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../../src/index.js";
import * as ref from "./reference.js";
import { expectNear, expectNoLeak, params, sizeOf } from "./support.js";

beforeAll(() => tl.init({ float64: true }));

const F64 = { dtype: "float64" } as const;
const t64 = (v: number[], shape?: number[]) => tl.tensor(v, shape ?? [v.length], F64);
const arr = (t: tl.Tensor) => Array.from(t.toArray());
/** n doubles in [-limit, limit] (fast-check also tries -0, tiny and subnormal values). */
const doubles = (n: number, limit = 4) => fc.array(fc.double({ min: -limit, max: limit, noNaN: true }), { minLength: n, maxLength: n });
// float64 rounding of a sum of `terms` products relative to the sum of their magnitudes, with room to spare.
const bound = (scale: number[], terms: number): number[] => scale.map((s) => (s * 2 ** -50 + 2 ** -1070) * (terms + 2));

describe("float64 Linear", () => {
  const arb = fc
    .record({ N: fc.integer({ min: 0, max: 6 }), D: fc.integer({ min: 0, max: 9 }), M: fc.integer({ min: 0, max: 9 }) })
    .chain(({ N, D, M }) =>
      fc.record({ N: fc.constant(N), D: fc.constant(D), M: fc.constant(M), x: doubles(N * D), w: doubles(D * M), b: doubles(M), dout: doubles(N * M) }),
    );

  it("forward and backward agree with the triple loop within float64 rounding", () => {
    fc.assert(
      fc.property(arb, ({ N, D, M, x, w, b, dout }) => {
        expectNoLeak("Linear float64", () =>
          tl.tidy(() => {
            const [out, cache] = tl.Linear.forward(t64(x, [N, D]), t64(w, [D, M]), t64(b));
            expect(out.dtype).toBe("float64");
            const want = ref.linear(x, w, b, N, D, M);
            expectNear("out", arr(out), want.out, bound(want.scale, D));
            const [dx, dw, db] = tl.Linear.backward(t64(dout, [N, M]), cache);
            const wantDx = ref.matmul(dout, ref.transpose(w, D, M), N, M, D);
            const wantDw = ref.matmul(ref.transpose(x, N, D), dout, D, N, M);
            const wantDb = ref.matmul(new Array(N).fill(1), dout, 1, N, M);
            expectNear("dx", arr(dx), wantDx.out, bound(wantDx.scale, M));
            expectNear("dw", arr(dw), wantDw.out, bound(wantDw.scale, N));
            expectNear("db", arr(db), wantDb.out, bound(wantDb.scale, N));
          }),
        );
      }),
      params(),
    );
  });
});

describe("float64 Conv and MaxPool", () => {
  const conv = fc
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
        x: doubles(s.N * s.C * s.H * s.W),
        w: doubles(s.F * s.C * HH * WW),
        b: doubles(s.F),
        dout: doubles(s.N * s.F * Ho * Wo),
      });
    });

  it("Conv forward and backward agree with the direct loops for any stride, pad and window", () => {
    fc.assert(
      fc.property(conv, ({ s, x, w, b, dout }) => {
        expectNoLeak("Conv float64", () =>
          tl.tidy(() => {
            const want = ref.conv(x, w, b, s, dout);
            const [out, cache] = tl.Conv.forward(t64(x, [s.N, s.C, s.H, s.W]), t64(w, [s.F, s.C, s.HH, s.WW]), t64(b), { stride: s.stride, pad: s.pad });
            expect(out.shape).toEqual([s.N, s.F, want.Ho, want.Wo]);
            expectNear("out", arr(out), want.out, bound(want.scale, s.C * s.HH * s.WW));
            const [dx, dw, db] = tl.Conv.backward(t64(dout, [...out.shape]), cache);
            expectNear("dx", arr(dx), want.dx, bound(want.dxScale, s.F * s.HH * s.WW));
            expectNear("dw", arr(dw), want.dw, bound(want.dwScale, s.N * want.Ho * want.Wo));
            expectNear("db", arr(db), want.db, bound(want.dbScale, s.N * want.Ho * want.Wo));
          }),
        );
      }),
      params(),
    );
  });

  const pool = fc
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
      const ints = (n: number) => fc.array(fc.integer({ min: -3, max: 3 }), { minLength: n, maxLength: n }); // ties
      return fc.record({ s: fc.constant(full), x: fc.oneof(ints(s.N * s.C * s.H * s.W), doubles(s.N * s.C * s.H * s.W)), dout: doubles(s.N * s.C * Ho * Wo) });
    });

  it("MaxPool takes each window's first maximum and routes dout to it (overlaps add up)", () => {
    fc.assert(
      fc.property(pool, ({ s, x, dout }) => {
        expectNoLeak("MaxPool float64", () =>
          tl.tidy(() => {
            const want = ref.maxPool(x, s, dout);
            const [out, cache] = tl.MaxPool.forward(t64(x, [s.N, s.C, s.H, s.W]), { poolHeight: s.ph, poolWidth: s.pw, stride: s.stride });
            expectNear("out", arr(out), want.out, 0);
            const dx = tl.MaxPool.backward(t64(dout, [...out.shape]), cache);
            expectNear("dx", arr(dx), want.dx, 2 ** -50 * s.ph * s.pw * 4);
          }),
        );
      }),
      params(),
    );
  });
});

describe("float64 BatchNorm and SpatialBatchNorm", () => {
  const hyper = fc.record({ eps: fc.double({ min: 1e-5, max: 1e-1, noNaN: true }), momentum: fc.double({ min: 0, max: 1, noNaN: true }) });
  const rel = (values: number[], r: number) => r * (1 + Math.max(0, ...values.map(Math.abs)));

  function check(kind: "rows" | "spatial", dims: number[], x: number[], gamma: number[], beta: number[], dout: number[], eps: number, momentum: number): void {
    const F = dims[1];
    const S = kind === "rows" ? 1 : dims[2] * dims[3];
    const feature = (e: number) => (kind === "rows" ? e % F : Math.floor(e / S) % F);
    const layer = kind === "rows" ? tl.BatchNorm : tl.SpatialBatchNorm;
    const bnParam: tl.BatchNormParam = { mode: "train", eps, momentum, runningMean: tl.zeros([F], F64), runningVar: tl.ones([F], F64) };
    const [out, cache] = layer.forward(t64(x, dims), t64(gamma), t64(beta), bnParam);
    const want = ref.batchNorm(x, gamma, beta, dout, feature, F, eps, momentum, new Array(F).fill(0), new Array(F).fill(1));
    expectNear(`${kind} out`, arr(out), want.out, rel(want.out, 1e-12));
    expectNear(`${kind} running mean`, arr(bnParam.runningMean!), want.runningMean, rel(want.runningMean, 1e-13));
    expectNear(`${kind} running var`, arr(bnParam.runningVar!), want.runningVar, rel(want.runningVar, 1e-13));
    const [dx, dgamma, dbeta] = layer.backward(t64(dout, dims), cache);
    expectNear(`${kind} dx`, arr(dx), want.dx, rel(want.dx, 1e-10));
    expectNear(`${kind} dgamma`, arr(dgamma), want.dgamma, rel(want.dgamma, 1e-11));
    expectNear(`${kind} dbeta`, arr(dbeta), want.dbeta, rel(want.dbeta, 1e-12));
  }

  it("BatchNorm (N, D) train: out, running statistics and backward agree with the formula", () => {
    const arb = fc
      .record({ N: fc.integer({ min: 1, max: 8 }), D: fc.integer({ min: 1, max: 9 }) })
      .chain(({ N, D }) =>
        fc.record({ dims: fc.constant<number[]>([N, D]), x: doubles(N * D), gamma: doubles(D, 2), beta: doubles(D, 2), dout: doubles(N * D, 2), hyper }),
      );
    fc.assert(
      fc.property(arb, (a) => {
        expectNoLeak("BatchNorm float64", () => tl.tidy(() => check("rows", a.dims, a.x, a.gamma, a.beta, a.dout, a.hyper.eps, a.hyper.momentum)));
      }),
      params(),
    );
  });

  it("SpatialBatchNorm (N, C, H, W) train agrees with the formula", () => {
    const arb = fc
      .record({ N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 5 }), H: fc.integer({ min: 1, max: 4 }), W: fc.integer({ min: 1, max: 4 }) })
      .chain(({ N, C, H, W }) =>
        fc.record({
          dims: fc.constant<number[]>([N, C, H, W]),
          x: doubles(N * C * H * W),
          gamma: doubles(C, 2),
          beta: doubles(C, 2),
          dout: doubles(N * C * H * W, 2),
          hyper,
        }),
      );
    fc.assert(
      fc.property(arb, (a) => {
        expectNoLeak("SpatialBatchNorm float64", () => tl.tidy(() => check("spatial", a.dims, a.x, a.gamma, a.beta, a.dout, a.hyper.eps, a.hyper.momentum)));
      }),
      params(),
    );
  });
});

describe("float64 losses", () => {
  it("softmaxLoss agrees with the formula, for any N, C and labels", () => {
    const arb = fc.record({ N: fc.integer({ min: 1, max: 6 }), C: fc.integer({ min: 1, max: 8 }) }).chain(({ N, C }) =>
      fc.record({
        N: fc.constant(N),
        C: fc.constant(C),
        s: doubles(N * C, 20),
        y: fc.array(fc.integer({ min: 0, max: C - 1 }), { minLength: N, maxLength: N }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ N, C, s, y }) => {
        expectNoLeak("softmaxLoss float64", () =>
          tl.tidy(() => {
            const [loss, d] = tl.softmaxLoss(t64(s, [N, C]), y);
            const want = ref.softmaxLoss(s, y, N, C);
            expect(Math.abs(loss - want.loss)).toBeLessThanOrEqual(1e-13 * (1 + Math.abs(want.loss)) + 1e-14 * C);
            expectNear("dscores", arr(d), want.d, 1e-15 * C);
            expect(sizeOf(d.shape)).toBe(N * C);
          }),
        );
      }),
      params(),
    );
  });
});
