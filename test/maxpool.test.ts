import { describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { initAndCheckLeaks } from "./helpers.js";
import { maxPoolBackwardInto, maxPoolForwardInto, poolDims } from "../src/layers/maxpool.js";
import { Workspace } from "../src/core/workspace.js";

initAndCheckLeaks();

/** Naive max-pool: [out, dx] for x (planes, H, W) and dout; ties to the first maximum. */
function naivePool(x: ArrayLike<number>, dout: ArrayLike<number> | null, planes: number, H: number, W: number, ph: number, pw: number, s: number) {
  const Ho = 1 + Math.floor((H - ph) / s),
    Wo = 1 + Math.floor((W - pw) / s);
  const out = new Float64Array(planes * Ho * Wo);
  const dx = new Float64Array(planes * H * W);
  for (let p = 0; p < planes; p++)
    for (let i = 0; i < Ho; i++)
      for (let j = 0; j < Wo; j++) {
        let best = -Infinity,
          at = -1;
        for (let a = 0; a < ph; a++)
          for (let b = 0; b < pw; b++) {
            const k = p * H * W + (i * s + a) * W + j * s + b;
            if (x[k] > best) [best, at] = [x[k], k];
          }
        const o = (p * Ho + i) * Wo + j;
        out[o] = best;
        if (dout) dx[at] += dout[o];
      }
  return { out, dx, Ho, Wo };
}

/** A tensor holding a seeded permutation of 0, 0.05, 0.1, ...: distinct values at least 0.05 apart. */
function distinct(shape: number[], seed: number): tl.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const keys = tl.rand([n], { seed });
  const k = keys.toArray();
  keys.dispose();
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => k[a] - k[b]);
  const v = new Float32Array(n);
  order.forEach((src, rank) => (v[src] = rank * 0.05 - 1));
  return tl.tensor(v, shape);
}

describe("MaxPool.forward", () => {
  it("by hand: x (1,1,4,4), 2x2 stride 2", () => {
    tl.tidy(() => {
      const x = tl.tensor([
        [
          [
            [1, 5, 2, 0],
            [3, 4, 2, 1],
            [-1, -2, 7, 8],
            [-3, -4, 6, 9],
          ],
        ],
      ]);
      const [out] = tl.MaxPool.forward(x, { poolHeight: 2, poolWidth: 2, stride: 2 });
      expect(out.toNested()).toEqual([
        [
          [
            [5, 2],
            [-1, 9],
          ],
        ],
      ]);
    });
  });

  it("the course's example: x (2,3,4,4) linspace(-0.3, 0.4), 2x2 stride 2", () => {
    tl.tidy(() => {
      const n = 96;
      const x = tl.tensor(
        Array.from({ length: n }, (_, i) => -0.3 + (0.7 * i) / (n - 1)),
        [2, 3, 4, 4],
      );
      const [out] = tl.MaxPool.forward(x, { poolHeight: 2, poolWidth: 2, stride: 2 });
      const correct = [
        -0.26315789, -0.24842105, -0.20421053, -0.18947368, -0.14526316, -0.13052632, -0.08631579, -0.07157895, -0.02736842, -0.01263158, 0.03157895,
        0.04631579, 0.09052632, 0.10526316, 0.14947368, 0.16421053, 0.20842105, 0.22315789, 0.26736842, 0.28210526, 0.32631579, 0.34105263, 0.38526316, 0.4,
      ];
      expect(out.shape).toEqual([2, 3, 2, 2]);
      const err = tl.relError(out, correct);
      expect(err, `rel error ${err}`).toBeLessThan(1e-6);
    });
  });

  const configs: [number[], number, number, number][] = [
    [[2, 3, 8, 8], 2, 2, 2],
    [[2, 3, 9, 11], 2, 2, 2], // odd sizes: last row/column unused
    [[1, 2, 7, 7], 3, 3, 2], // overlapping
    [[1, 2, 6, 9], 3, 2, 1], // overlapping, non-square window
    [[2, 1, 10, 9], 3, 2, 3], // stride larger than the window: gaps
    [[1, 1, 5, 4], 5, 4, 1], // one window covers the plane
    [[1, 3, 4, 6], 1, 1, 1], // identity
  ];
  for (const [shape, ph, pw, s] of configs) {
    it(`forward and backward match a naive pool: x (${shape}) window ${ph}x${pw} stride ${s}`, () => {
      tl.tidy(() => {
        const x = tl.randn(shape, { seed: 7 });
        const [out, cache] = tl.MaxPool.forward(x, { poolHeight: ph, poolWidth: pw, stride: s });
        const dout = tl.randn(out.shape, { seed: 8 });
        const dx = tl.MaxPool.backward(dout, cache);
        const ref = naivePool(x.toArray(), dout.toArray(), shape[0] * shape[1], shape[2], shape[3], ph, pw, s);
        expect(out.shape).toEqual([shape[0], shape[1], ref.Ho, ref.Wo]);
        expect(Array.from(out.toArray())).toEqual(Array.from(ref.out));
        const got = dx.toArray();
        let worst = 0;
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref.dx[i]));
        expect(worst, `dx max abs error ${worst}`).toBeLessThan(1e-6);
      });
    });
  }
});

describe("MaxPool.backward", () => {
  it("overlapping windows accumulate: x (1,1,3,3), 2x2 stride 1, the centre wins all four", () => {
    tl.tidy(() => {
      const x = tl.tensor([
        [
          [
            [1, 2, 3],
            [4, 9, 5],
            [6, 7, 8],
          ],
        ],
      ]);
      const [out, cache] = tl.MaxPool.forward(x, { poolHeight: 2, poolWidth: 2, stride: 1 });
      expect(out.toNested()).toEqual([
        [
          [
            [9, 9],
            [9, 9],
          ],
        ],
      ]);
      const dx = tl.MaxPool.backward(
        tl.tensor([
          [
            [
              [1, 2],
              [3, 4],
            ],
          ],
        ]),
        cache,
      );
      expect(dx.toNested()).toEqual([
        [
          [
            [0, 0, 0],
            [0, 10, 0],
            [0, 0, 0],
          ],
        ],
      ]);
    });
  });

  it("overlapping windows with different winners: x (1,1,1,5), 1x3 stride 1", () => {
    tl.tidy(() => {
      const x = tl.tensor([[[[3, 1, 2, 5, 4]]]]);
      const [out, cache] = tl.MaxPool.forward(x, { poolHeight: 1, poolWidth: 3, stride: 1 });
      expect(out.toNested()).toEqual([[[[3, 5, 5]]]]);
      const dx = tl.MaxPool.backward(tl.tensor([[[[0.5, 0.25, 0.125]]]]), cache);
      expect(dx.toNested()).toEqual([[[[0.5, 0, 0, 0.375, 0]]]]);
    });
  });

  for (const [ph, pw, s] of [
    [2, 2, 2],
    [3, 3, 1],
    [3, 2, 2],
  ]) {
    it(`numeric gradient (distinct inputs 0.05 apart, h = 1e-2): x (2,2,7,8) window ${ph}x${pw} stride ${s}`, () => {
      tl.tidy(() => {
        const x = distinct([2, 2, 7, 8], 11);
        const param = { poolHeight: ph, poolWidth: pw, stride: s };
        const [out, cache] = tl.MaxPool.forward(x, param);
        const dout = tl.randn(out.shape, { seed: 12 });
        const dx = tl.MaxPool.backward(dout, cache);
        const numeric = tl.evalNumericalGradientArray(() => tl.MaxPool.forward(x, param)[0], x, dout, { h: 1e-2 });
        const err = tl.relError(dx, numeric);
        console.log(`maxpool gradcheck ${ph}x${pw} stride ${s}: max rel error ${err.toExponential(2)}`);
        expect(err, `max rel error ${err}`).toBeLessThan(1e-4);
      });
    });
  }
});

describe("MaxPool Into variants", () => {
  it("match MaxPool.forward/backward bit for bit and allocate nothing after the first step", () => {
    const ws = new Workspace();
    try {
      tl.tidy(() => {
        const x = tl.randn([2, 3, 10, 10], { seed: 21 });
        const param = { poolHeight: 2, poolWidth: 2, stride: 2 };
        const d = poolDims("test", x, param);
        const [ref, cache] = tl.MaxPool.forward(x, param);
        const dout = tl.randn(ref.shape, { seed: 22 });
        const rdx = tl.MaxPool.backward(dout, cache);
        const step = () => {
          const out = ws.get("out", [2, 3, d.Ho, d.Wo]);
          const argmax = ws.get("argmax", [2, 3, d.Ho, d.Wo]);
          const dx = ws.get("dx", x.shape);
          maxPoolForwardInto(out, argmax, x, d);
          maxPoolBackwardInto(dx, dout, argmax, d);
          return { out, dx };
        };
        step();
        const before = tl.memory();
        const r = step();
        expect(tl.memory()).toEqual(before);
        expect(Array.from(r.out.toArray())).toEqual(Array.from(ref.toArray()));
        expect(Array.from(r.dx.toArray())).toEqual(Array.from(rdx.toArray()));
      });
    } finally {
      ws.dispose();
    }
  });
});

describe("MaxPool errors", () => {
  it("name the argument, what was expected and what was given", () => {
    tl.tidy(() => {
      const x = tl.zeros([2, 3, 4, 5]);
      const f = tl.MaxPool.forward;
      const p = { poolHeight: 2, poolWidth: 2, stride: 2 };
      expect(() => f(x, undefined as never)).toThrow(/MaxPool.forward: poolParam \{ poolHeight, poolWidth, stride \} is required/);
      expect(() => f(x, { poolHeight: 2, poolWidth: 2 } as never)).toThrow(/poolParam.stride must be an integer \(got undefined\)/);
      expect(() => f(x, { ...p, stride: 0 })).toThrow(/poolParam.stride must be >= 1 \(got 0\)/);
      expect(() => f(x, { ...p, poolWidth: 1.5 })).toThrow(/poolParam.poolWidth must be an integer \(got 1.5\)/);
      expect(() => f(x, { ...p, poolHeight: 5 })).toThrow(/5x2 pooling window is larger than the 4x5 input/);
      expect(() => f(x, { ...p, pool_height: 2 } as never)).toThrow(/unknown option "pool_height" in poolParam/);
      expect(() => f(tl.zeros([3, 4, 5]), p)).toThrow(/MaxPool.forward: x must have 4 dimensions \(got shape \[3, 4, 5\]\)/);
      expect(() => f(tl.zeros([2, 0, 4, 5]), p)).toThrow(/x must have no zero-sized dimension/);
      const [, cache] = f(x, p);
      expect(() => tl.MaxPool.backward(tl.zeros([2, 3, 2, 3]), cache)).toThrow(/MaxPool.backward: dout must have shape \[2, 3, 2, 2\]/);
      expect(() => tl.MaxPool.backward(tl.zeros([2, 3, 2, 2]), { x } as never)).toThrow(/cache is missing "argmax"/);
      cache.argmax.dispose();
      expect(() => tl.MaxPool.backward(tl.zeros([2, 3, 2, 2]), cache)).toThrow(/cache.argmax was disposed/);
    });
  });
});
