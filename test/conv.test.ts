import { describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { initAndCheckLeaks } from "./helpers.js";
import { convBackwardInto, convDims, convForwardInto } from "../src/layers/conv.js";
import { Workspace } from "../src/core/workspace.js";

initAndCheckLeaks();

interface Geometry {
  N: number;
  C: number;
  H: number;
  W: number;
  F: number;
  HH: number;
  WW: number;
  stride: number;
  pad: number;
}

const outSize = (size: number, k: number, stride: number, pad: number) => 1 + Math.floor((size + 2 * pad - k) / stride);

/** Direct convolution in f64: out (N, F, Ho, Wo). */
function naiveConv(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, g: Geometry): Float64Array {
  const { N, C, H, W, F, HH, WW, stride, pad } = g;
  const Ho = outSize(H, HH, stride, pad),
    Wo = outSize(W, WW, stride, pad);
  const out = new Float64Array(N * F * Ho * Wo);
  for (let n = 0; n < N; n++)
    for (let f = 0; f < F; f++)
      for (let oh = 0; oh < Ho; oh++)
        for (let ow = 0; ow < Wo; ow++) {
          let s = b[f];
          for (let c = 0; c < C; c++)
            for (let i = 0; i < HH; i++)
              for (let j = 0; j < WW; j++) {
                const ih = oh * stride - pad + i,
                  iw = ow * stride - pad + j;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += w[((f * C + c) * HH + i) * WW + j] * x[((n * C + c) * H + ih) * W + iw];
              }
          out[((n * F + f) * Ho + oh) * Wo + ow] = s;
        }
  return out;
}

/** The exact gradients of sum(out · dout) in f64: [dx, dw, db]. */
function naiveConvBackward(dout: ArrayLike<number>, x: ArrayLike<number>, w: ArrayLike<number>, g: Geometry): Float64Array[] {
  const { N, C, H, W, F, HH, WW, stride, pad } = g;
  const Ho = outSize(H, HH, stride, pad),
    Wo = outSize(W, WW, stride, pad);
  const dx = new Float64Array(N * C * H * W),
    dw = new Float64Array(F * C * HH * WW),
    db = new Float64Array(F);
  for (let n = 0; n < N; n++)
    for (let f = 0; f < F; f++)
      for (let oh = 0; oh < Ho; oh++)
        for (let ow = 0; ow < Wo; ow++) {
          const d = dout[((n * F + f) * Ho + oh) * Wo + ow];
          db[f] += d;
          for (let c = 0; c < C; c++)
            for (let i = 0; i < HH; i++)
              for (let j = 0; j < WW; j++) {
                const ih = oh * stride - pad + i,
                  iw = ow * stride - pad + j;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const xi = ((n * C + c) * H + ih) * W + iw,
                  wi = ((f * C + c) * HH + i) * WW + j;
                dx[xi] += d * w[wi];
                dw[wi] += d * x[xi];
              }
        }
  return [dx, dw, db];
}

function expectBelow(what: string, error: number, limit: number): void {
  expect(error, `${what}: error ${error.toExponential(2)} exceeds ${limit}`).toBeLessThan(limit);
}

function inputs(g: Geometry, seed: number) {
  const x = tl.randn([g.N, g.C, g.H, g.W], { seed });
  const w = tl.randn([g.F, g.C, g.HH, g.WW], { seed: seed + 1, std: 0.5 });
  const b = tl.randn([g.F], { seed: seed + 2 });
  return { x, w, b };
}

const name = (g: Geometry) => `x (${g.N},${g.C},${g.H},${g.W}) w (${g.F},${g.C},${g.HH},${g.WW}) stride ${g.stride} pad ${g.pad}`;

describe("Conv.forward against a direct convolution (f64)", () => {
  const grid: Geometry[] = [];
  // stride 1/2/3 x pad 0/1/2 on a non-square input with a non-square filter, C and F not multiples of 4
  for (const stride of [1, 2, 3]) for (const pad of [0, 1, 2]) grid.push({ N: 2, C: 3, H: 9, W: 11, F: 5, HH: 3, WW: 2, stride, pad });
  grid.push({ N: 2, C: 5, H: 7, W: 6, F: 3, HH: 1, WW: 1, stride: 1, pad: 0 }); // 1x1 (no im2col)
  grid.push({ N: 2, C: 5, H: 7, W: 6, F: 3, HH: 1, WW: 1, stride: 2, pad: 1 }); // 1x1 strided, padded
  grid.push({ N: 3, C: 2, H: 12, W: 13, F: 7, HH: 5, WW: 5, stride: 1, pad: 2 }); // 5x5
  grid.push({ N: 1, C: 3, H: 11, W: 10, F: 6, HH: 5, WW: 5, stride: 3, pad: 0 }); // 5x5 stride 3, floor
  grid.push({ N: 2, C: 1, H: 4, W: 20, F: 1, HH: 4, WW: 3, stride: 2, pad: 0 }); // filter as tall as the input
  grid.push({ N: 2, C: 32, H: 8, W: 8, F: 16, HH: 3, WW: 3, stride: 1, pad: 1 }); // the benchmark's layer shape, smaller
  for (const g of grid) {
    it(name(g), () => {
      tl.tidy(() => {
        const { x, w, b } = inputs(g, 10);
        const [out] = tl.Conv.forward(x, w, b, { stride: g.stride, pad: g.pad });
        expect(out.shape).toEqual([g.N, g.F, outSize(g.H, g.HH, g.stride, g.pad), outSize(g.W, g.WW, g.stride, g.pad)]);
        expectBelow(name(g), tl.scaledError(out.toArray(), naiveConv(x.toArray(), w.toArray(), b.toArray(), g)), 1e-6);
      });
    });
  }

  it("the course's example: x (2,3,4,4), w (3,3,4,4) linspace, stride 2 pad 1", () => {
    tl.tidy(() => {
      const linspace = (lo: number, hi: number, n: number) => Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
      const x = tl.tensor(linspace(-0.1, 0.5, 96), [2, 3, 4, 4]);
      const w = tl.tensor(linspace(-0.2, 0.3, 144), [3, 3, 4, 4]);
      const b = tl.tensor(linspace(-0.1, 0.2, 3));
      const [out] = tl.Conv.forward(x, w, b, { stride: 2, pad: 1 });
      const correct = [
        -0.08759809, -0.10987781, -0.18387192, -0.2109216, 0.21027089, 0.21661097, 0.22847626, 0.23004637, 0.50813986, 0.54309974, 0.64082444, 0.67101435,
        -0.98053589, -1.03143541, -1.19128892, -1.24695841, 0.69108355, 0.66880383, 0.59480972, 0.56776003, 2.36270298, 2.36904306, 2.38090835, 2.38247847,
      ];
      expect(out.shape).toEqual([2, 3, 2, 2]);
      const err = tl.relError(out, correct);
      expectBelow("course example rel error", err, 1e-6);
    });
  });

  it("stride 2 with H + 2pad - HH odd floors: out (1,1,2,2) from 6x6 with 3x3 pad 0 (the last row and column are unused)", () => {
    tl.tidy(() => {
      const x = tl.tensor(
        Array.from({ length: 36 }, (_, i) => i),
        [1, 1, 6, 6],
      );
      const [out, cache] = tl.Conv.forward(x, tl.ones([1, 1, 3, 3]), tl.zeros([1]), { stride: 2, pad: 0 });
      // windows at (0,0), (0,2), (2,0), (2,2): sums of 3x3 blocks
      const block = (r: number, c: number) => {
        let s = 0;
        for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += (r + i) * 6 + c + j;
        return s;
      };
      expect(Array.from(out.toArray())).toEqual([block(0, 0), block(0, 2), block(2, 0), block(2, 2)]);
      const [dx] = tl.Conv.backward(tl.ones([1, 1, 2, 2]), cache);
      const g = dx.toArray();
      for (let i = 0; i < 6; i++) expect(g[5 * 6 + i], `dx row 5 col ${i}`).toBe(0);
      for (let i = 0; i < 6; i++) expect(g[i * 6 + 5], `dx row ${i} col 5`).toBe(0);
      expect(g[2 * 6 + 2]).toBe(4); // the centre pixel is in all four windows
    });
  });
});

describe("Conv.backward", () => {
  // conv is linear in x, w and b, so central differences have no truncation error at any step:
  // a large step (h = 1) makes float32 rounding of the outputs negligible next to the difference.
  // Measured max relative errors are printed; 1e-4 is far below what a wrong index would give (~1).
  const cases: Geometry[] = [
    { N: 2, C: 3, H: 7, W: 5, F: 2, HH: 3, WW: 2, stride: 2, pad: 1 },
    { N: 2, C: 2, H: 5, W: 6, F: 3, HH: 1, WW: 1, stride: 1, pad: 0 },
    { N: 1, C: 2, H: 8, W: 7, F: 3, HH: 3, WW: 3, stride: 3, pad: 2 },
    { N: 2, C: 1, H: 6, W: 6, F: 2, HH: 5, WW: 5, stride: 1, pad: 2 },
  ];
  for (const g of cases) {
    it(`numeric gradients of dx, dw, db (h = 1): ${name(g)}`, () => {
      tl.tidy(() => {
        const { x, w, b } = inputs(g, 20);
        const param = { stride: g.stride, pad: g.pad };
        const [out, cache] = tl.Conv.forward(x, w, b, param);
        const dout = tl.randn(out.shape, { seed: 23 });
        const [dx, dw, db] = tl.Conv.backward(dout, cache);
        const f = () => tl.Conv.forward(x, w, b, param)[0];
        const errors = {
          dx: tl.relError(dx, tl.evalNumericalGradientArray(f, x, dout, { h: 1 })),
          dw: tl.relError(dw, tl.evalNumericalGradientArray(f, w, dout, { h: 1 })),
          db: tl.relError(db, tl.evalNumericalGradientArray(f, b, dout, { h: 1 })),
        };
        console.log(
          `conv gradcheck ${name(g)}: max rel error dx ${errors.dx.toExponential(2)} dw ${errors.dw.toExponential(2)} db ${errors.db.toExponential(2)}`,
        );
        for (const [k, e] of Object.entries(errors)) expectBelow(`${k} ${name(g)}`, e, 1e-4);
      });
    });
  }

  it("matches the exact f64 gradients at the benchmark's layer shape, smaller: x (3,32,8,8), w (16,32,3,3) pad 1", () => {
    const g: Geometry = { N: 3, C: 32, H: 8, W: 8, F: 16, HH: 3, WW: 3, stride: 1, pad: 1 };
    tl.tidy(() => {
      const { x, w, b } = inputs(g, 30);
      const [out, cache] = tl.Conv.forward(x, w, b, { pad: 1 });
      const dout = tl.randn(out.shape, { seed: 33 });
      const [dx, dw, db] = tl.Conv.backward(dout, cache);
      const [rx, rw, rb] = naiveConvBackward(dout.toArray(), x.toArray(), w.toArray(), g);
      expectBelow("dx", tl.scaledError(dx.toArray(), rx), 1e-6);
      expectBelow("dw", tl.scaledError(dw.toArray(), rw), 1e-6);
      expectBelow("db", tl.scaledError(db.toArray(), rb), 1e-6);
    });
  });
});

describe("Conv sandwiches", () => {
  it("ConvReLU and ConvReLUPool equal the composed layers, forward and backward", () => {
    tl.tidy(() => {
      const g: Geometry = { N: 2, C: 3, H: 8, W: 6, F: 5, HH: 3, WW: 3, stride: 1, pad: 1 };
      const { x, w, b } = inputs(g, 40);
      const conv = { stride: 1, pad: 1 };
      const pool = { poolHeight: 2, poolWidth: 2, stride: 2 };
      const [a, cc] = tl.Conv.forward(x, w, b, conv);
      const [r, rc] = tl.ReLU.forward(a);
      const [p, pc] = tl.MaxPool.forward(r, pool);
      const [out1, cache1] = tl.ConvReLU.forward(x, w, b, conv);
      const [out2, cache2] = tl.ConvReLUPool.forward(x, w, b, conv, pool);
      expect(Array.from(out1.toArray())).toEqual(Array.from(r.toArray()));
      expect(Array.from(out2.toArray())).toEqual(Array.from(p.toArray()));
      const d1 = tl.randn(r.shape, { seed: 41 });
      const d2 = tl.randn(p.shape, { seed: 42 });
      const ref1 = tl.Conv.backward(tl.ReLU.backward(d1, rc), cc);
      const ref2 = tl.Conv.backward(tl.ReLU.backward(tl.MaxPool.backward(d2, pc), rc), cc);
      const got1 = tl.ConvReLU.backward(d1, cache1);
      const got2 = tl.ConvReLUPool.backward(d2, cache2);
      for (let i = 0; i < 3; i++) {
        expect(Array.from(got1[i].toArray())).toEqual(Array.from(ref1[i].toArray()));
        expect(Array.from(got2[i].toArray())).toEqual(Array.from(ref2[i].toArray()));
      }
    });
  });

  it("ConvReLUPool numeric gradients, exact arithmetic: grid-valued inputs, h = 2^-10", () => {
    tl.tidy(() => {
      // x, w on a 1/8 grid and b on 1/8 + 1/128: every pre-activation is an odd multiple of 1/128,
      // so no ReLU input is within 1/128 of its kink, while one step h = 2^-10 moves any
      // pre-activation by at most 2·h = 1/512. All sums are exact in float32 (few enough
      // bits), so the numeric gradient is exact too and only the analytic side rounds.
      const g: Geometry = { N: 2, C: 2, H: 6, W: 6, F: 3, HH: 3, WW: 3, stride: 1, pad: 1 };
      const grid = (shape: number[], seed: number, maxAbs: number, offset = 0) => {
        const u = tl.rand(shape, { seed });
        const v = Array.from(u.toArray(), (r) => Math.round((2 * r - 1) * maxAbs * 8) / 8 + offset);
        return tl.tensor(v, shape);
      };
      const x = grid([g.N, g.C, g.H, g.W], 50, 2);
      const w = grid([g.F, g.C, g.HH, g.WW], 51, 1);
      const b = grid([g.F], 52, 1, 1 / 128);
      const conv = { stride: 1, pad: 1 };
      const pool = { poolHeight: 2, poolWidth: 2, stride: 2 };
      // Precondition: no two positive activations in a pooling window within 1/256 of each other.
      const a = naiveConv(x.toArray(), w.toArray(), b.toArray(), g);
      for (let p = 0; p < g.N * g.F; p++)
        for (let i = 0; i < 6; i += 2)
          for (let j = 0; j < 6; j += 2) {
            const win = [0, 1, 6, 7]
              .map((o) => a[p * 36 + i * 6 + j + o])
              .filter((v) => v > 0)
              .sort((u, v) => u - v);
            for (let k = 1; k < win.length; k++) expect(win[k] - win[k - 1], "test data has a near-tie").toBeGreaterThan(1 / 256);
          }
      const [out, cache] = tl.ConvReLUPool.forward(x, w, b, conv, pool);
      const dout = tl.randn(out.shape, { seed: 53 });
      const [dx, dw, db] = tl.ConvReLUPool.backward(dout, cache);
      const f = () => tl.ConvReLUPool.forward(x, w, b, conv, pool)[0];
      const h = 2 ** -10;
      const errors = {
        dx: tl.relError(dx, tl.evalNumericalGradientArray(f, x, dout, { h })),
        dw: tl.relError(dw, tl.evalNumericalGradientArray(f, w, dout, { h })),
        db: tl.relError(db, tl.evalNumericalGradientArray(f, b, dout, { h })),
      };
      console.log(`ConvReLUPool gradcheck: max rel error dx ${errors.dx.toExponential(2)} dw ${errors.dw.toExponential(2)} db ${errors.db.toExponential(2)}`);
      for (const [k, e] of Object.entries(errors)) expectBelow(k, e, 1e-4);
    });
  });
});

describe("Conv Into variants over a workspace", () => {
  it("give the same bits as Conv.forward/backward and allocate nothing after the first step; dx null skips dx", () => {
    const g: Geometry = { N: 2, C: 3, H: 9, W: 7, F: 4, HH: 3, WW: 3, stride: 2, pad: 1 };
    const ws = new Workspace();
    try {
      tl.tidy(() => {
        const { x, w, b } = inputs(g, 60);
        const d = convDims("test", x, w, b, { stride: 2, pad: 1 });
        const [ref, cache] = tl.Conv.forward(x, w, b, { stride: 2, pad: 1 });
        const dout = tl.randn(ref.shape, { seed: 61 });
        const [rdx, rdw, rdb] = tl.Conv.backward(dout, cache);
        const step = (withDx: boolean) => {
          const out = ws.get("out", [g.N, g.F, d.Ho, d.Wo]);
          const dx = ws.get("dx", x.shape),
            dw = ws.get("dw", w.shape),
            db = ws.get("db", [g.F]);
          convForwardInto(out, x, w, b, d);
          convBackwardInto(withDx ? dx : null, dw, db, dout, x, w, d);
          return { out, dx, dw, db };
        };
        step(true);
        const before = tl.memory();
        const r = step(true);
        expect(tl.memory()).toEqual(before);
        expect(Array.from(r.out.toArray())).toEqual(Array.from(ref.toArray()));
        expect(Array.from(r.dx.toArray())).toEqual(Array.from(rdx.toArray()));
        expect(Array.from(r.dw.toArray())).toEqual(Array.from(rdw.toArray()));
        expect(Array.from(r.db.toArray())).toEqual(Array.from(rdb.toArray()));
        r.dx.set(new Float32Array(r.dx.size).fill(7));
        const s = step(false);
        expect(s.dx.toArray().every((v) => v === 7)).toBe(true);
        expect(Array.from(s.dw.toArray())).toEqual(Array.from(rdw.toArray()));
      });
    } finally {
      ws.dispose();
    }
  });
});

describe("Conv errors", () => {
  it("name the argument, what was expected and what was given", () => {
    tl.tidy(() => {
      const x = tl.zeros([2, 3, 5, 5]);
      const w = tl.zeros([4, 3, 3, 3]);
      const b = tl.zeros([4]);
      const f = tl.Conv.forward;
      expect(() => f(x, tl.zeros([4, 2, 3, 3]), b)).toThrow(/Conv.forward: w has 2 input channels \(shape \[4, 2, 3, 3\]\) but x has 3/);
      expect(() => f(x, w, tl.zeros([3]))).toThrow(/Conv.forward: b must have shape \[4\] \(one bias per filter/);
      expect(() => f(x, tl.zeros([4, 3, 6, 3]), b)).toThrow(/6x3 filter .* larger than the padded input 5x5/);
      expect(() => f(x, tl.zeros([4, 3, 8, 3]), b, { pad: 1 })).toThrow(/larger than the padded input 7x7/);
      expect(() => f(x, w, b, { stride: 0 })).toThrow(/convParam.stride must be >= 1 \(got 0\)/);
      expect(() => f(x, w, b, { stride: 1.5 })).toThrow(/convParam.stride must be an integer \(got 1.5\)/);
      expect(() => f(x, w, b, { pad: -1 })).toThrow(/convParam.pad must be >= 0 \(got -1\)/);
      expect(() => f(x, w, b, { pad: 0.5 })).toThrow(/convParam.pad must be an integer/);
      expect(() => f(x, w, b, { pad: "1" } as never)).toThrow(/convParam.pad must be an integer \(got "1"\)/);
      expect(() => f(x, w, b, { strid: 2 } as never)).toThrow(/unknown option "strid" in convParam/);
      expect(() => f(x, w, b, 3 as never)).toThrow(/convParam must be an object/);
      expect(() => f(tl.zeros([3, 5, 5]), w, b)).toThrow(/Conv.forward: x must have 4 dimensions \(got shape \[3, 5, 5\]\)/);
      expect(() => f(x, tl.zeros([4, 27]), b)).toThrow(/w must have 4 dimensions/);
      expect(() => f(tl.zeros([0, 3, 5, 5]), w, b)).toThrow(/x must have no zero-sized dimension .* \[0, 3, 5, 5\]/);
      expect(() => f(x, tl.zeros([0, 3, 3, 3]), tl.zeros([0]))).toThrow(/w must have no zero-sized dimension/);
      expect(() => f([1] as never, w, b)).toThrow(/x must be a Tensor \(got an array of length 1\)/);
      const [, cache] = f(x, w, b, { pad: 1 });
      expect(() => tl.Conv.backward(tl.zeros([2, 4, 3, 3]), cache)).toThrow(/Conv.backward: dout must have shape \[2, 4, 5, 5\]/);
      expect(() => tl.Conv.backward(tl.zeros([2, 4, 5, 5]), {} as never)).toThrow(/cache is missing "x"/);
      const gone = tl.zeros([4]);
      gone.dispose();
      expect(() => f(x, w, gone)).toThrow(/Conv.forward: b was disposed/);
    });
  });
});
