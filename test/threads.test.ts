// Same bits for any thread count (issue 11). Every split op is run under simulateThreads(n) for
// n in COUNTS with the work thresholds ignored (so even these small shapes are cut into n tasks)
// and compared bit for bit with n = 1. The tasks run in order on this thread: what is checked is
// that the plans (which rows, columns, images, chunks each task gets) and the range kernels give
// results independent of the split. The worker pool itself is tested on its own branch.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { chunkRows, gemm, gemmBlocks, gemmSplit, type GemmVariant } from "../src/ops/gemm.js";
import { guidedRanges, MAX_GUIDED_RANGES, splitRange, taskCount } from "../src/ops/split.js";
import { convChunkImages } from "../src/ops/conv.js";
import { spatialBatchNormChunks } from "../src/ops/batchnorm.js";
import { avgPoolBackward, avgPoolForward, avgPoolSizes, globalAvgPoolBackward, globalAvgPoolForward } from "../src/ops/avgpool.js";
import { depthwiseBackward, depthwiseChunkImages, depthwiseForward, depthwiseSizes } from "../src/ops/depthwise.js";
import * as ew from "../src/ops/elementwise.js";
import { emaUpdate } from "../src/ops/optim.js";
import { disposeOptimState } from "../src/training/optim.js";
import { simulateThreads } from "../src/core/threads/dispatch.js";
import { ignoreThresholds } from "../src/core/threads/thresholds.js";
import { labels } from "./helpers.js";

const COUNTS = [1, 2, 3, 4, 7, 16];

beforeAll(() => tl.init({ float64: true }));
afterEach(() => {
  simulateThreads(null);
  ignoreThresholds(false);
});

/** Runs f as if there were n threads, every op split as far as n allows. */
function withThreads<T>(n: number, f: () => T): T {
  simulateThreads(n);
  ignoreThresholds(true);
  try {
    return f();
  } finally {
    simulateThreads(null);
    ignoreThresholds(false);
  }
}

/** The bit patterns of a tensor's values (so -0 vs 0 and NaN payloads count): 32-bit words, two per float64 value. */
function bits(t: tl.Tensor): number[] {
  return Array.from(new Uint32Array(t.toArray().buffer)); // toArray copies: its buffer holds exactly the values
}

/** Bit patterns of several named results, the tensors disposed. */
type Bits = Record<string, number[] | number>;
function collect(named: Record<string, tl.Tensor | number>): Bits {
  const out: Bits = {};
  for (const [k, v] of Object.entries(named)) {
    if (typeof v === "number") out[k] = v;
    else {
      out[k] = bits(v);
      v.dispose();
    }
  }
  return out;
}

/** Runs `run` for every count and expects each result to equal the 1-thread one exactly. */
function expectSameBits(what: string, run: () => Bits): void {
  const ref = withThreads(1, run);
  for (const n of COUNTS.slice(1)) {
    const got = withThreads(n, run);
    for (const key of Object.keys(ref)) {
      const a = ref[key],
        b = got[key];
      if (typeof a === "number") {
        expect(Object.is(b, a), `${what}: ${key} with ${n} threads is ${b}, 1 thread gave ${a}`).toBe(true);
        continue;
      }
      const bb = b as number[];
      expect(bb.length, `${what}: ${key} length`).toBe(a.length);
      const at = a.findIndex((v, i) => v !== bb[i]);
      expect(at, `${what}: ${key} with ${n} threads differs from 1 thread first at element ${at}`).toBe(-1);
    }
  }
}

describe("split plans", () => {
  it("taskCount follows threadCount and the thresholds; splitRange tiles [0, n) on aligned boundaries", () => {
    expect(taskCount(1e9, 1, 1e9)).toBe(1); // no simulation: one thread
    simulateThreads(7);
    expect(taskCount(1e9, 1, 1e9)).toBe(7);
    expect(taskCount(1e9, 1, 3)).toBe(3);
    expect(taskCount(10, 100, 1e9)).toBe(1); // below the threshold
    ignoreThresholds(true);
    expect(taskCount(10, 100, 1e9)).toBe(7);
    for (const [n, tasks, align] of [
      [0, 3, 4],
      [1, 3, 4],
      [5, 3, 4],
      [17, 7, 4],
      [100, 16, 8],
      [13, 16, 1],
    ]) {
      const r = splitRange(n, tasks, align);
      expect(r[0][0]).toBe(0);
      expect(r[r.length - 1][1]).toBe(n);
      expect(r.length).toBeLessThanOrEqual(Math.max(1, tasks));
      for (let i = 0; i < r.length; i++) {
        if (i > 0) expect(r[i][0]).toBe(r[i - 1][1]);
        if (n > 0) expect(r[i][1]).toBeGreaterThan(r[i][0]);
        if (r[i][1] !== n) expect(r[i][1] % align).toBe(0);
      }
    }
    expect(gemmBlocks("tn", 3072, 100, 2)).toEqual([
      [0, 1536, 0, 100],
      [1536, 3072, 0, 100],
    ]);
    expect(gemmBlocks("nn", 100, 100, 2)).toEqual([
      [0, 48, 0, 100],
      [48, 100, 0, 100],
    ]);
    expect(gemmBlocks("nt", 100, 3072, 2)).toEqual([
      [0, 100, 0, 1536],
      [0, 100, 1536, 3072],
    ]);
    expect(gemmBlocks("nn", 4, 3072, 2)).toEqual([
      [0, 4, 0, 1536],
      [0, 4, 1536, 3072],
    ]);
    expect(gemmBlocks("nn", 3072, 4, 2)).toEqual([
      [0, 1536, 0, 4],
      [1536, 3072, 0, 4],
    ]);
  });

  it("guided ranges (balanced splits): aligned, largest first, tiling [0, n), none smaller than asked", () => {
    for (const [m, threads, minRows] of [
      [100, 2, 4],
      [3072, 2, 56],
      [100, 16, 4],
      [5, 3, 4],
      [1, 2, 4],
      [1000, 7, 12],
      [0, 2, 4],
    ]) {
      const r = guidedRanges(m, threads, minRows, 4);
      if (m === 0) {
        expect(r).toEqual([]);
        continue;
      }
      expect(r[0][0]).toBe(0);
      expect(r[r.length - 1][1]).toBe(m);
      for (let i = 0; i < r.length; i++) {
        if (i > 0) expect(r[i][0]).toBe(r[i - 1][1]);
        const rows = r[i][1] - r[i][0];
        if (r[i][1] !== m) {
          expect(rows % 4).toBe(0);
          expect(rows).toBeGreaterThanOrEqual(minRows);
        }
        if (i > 0) expect(rows).toBeLessThanOrEqual(r[i - 1][1] - r[i - 1][0]);
      }
    }
    // X·W of the FC bench on 2 threads: 7 panels, then 5, 4, 3, 2 and four single panels.
    expect(guidedRanges(100, 2, chunkRows(100, 3072), 4).map(([i0, i1]) => i1 - i0)).toEqual([28, 20, 16, 12, 8, 4, 4, 4, 4]);
    // Conv images (N = 50, 2 threads) and unaligned units.
    expect(guidedRanges(50, 2).map(([i0, i1]) => i1 - i0)).toEqual([13, 10, 7, 5, 4, 3, 2, 2, 1, 1, 1, 1]);
    expect(chunkRows(100, 3072)).toBe(4);
    expect(chunkRows(100, 100)).toBe(56);
    // Never more ranges than the pool's table holds, however many images or rows.
    for (const [n, threads] of [
      [1e6, 16],
      [60000, 16],
      [1e6, 256],
    ])
      expect(guidedRanges(n, threads).length).toBeLessThanOrEqual(MAX_GUIDED_RANGES + 1);
    expect(MAX_GUIDED_RANGES + 1).toBeLessThanOrEqual(256);
  });

  it("conv and batch-norm chunks depend on the sizes only (never the thread count)", () => {
    const plan = () => [convChunkImages(50, 32, 288), convChunkImages(7, 4, 9), ...spatialBatchNormChunks(50, 4), ...spatialBatchNormChunks(50, 64)];
    const ref = plan();
    expect(ref).toEqual([2, 1, 7, 8, 50, 1]);
    for (const n of COUNTS) expect(withThreads(n, plan)).toEqual(ref);
  });
});

describe("GEMM: the same bits for any split of C", () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [5, 13, 7],
    [9, 3, 300],
    [37, 29, 257],
    [100, 10, 64],
    [3, 100, 5],
    [64, 64, 0],
  ];
  for (const variant of ["nn", "tn", "nt"] as GemmVariant[]) {
    it(`${variant} at awkward sizes (m, n, k incl. k > 256 and k = 0), with bias and accumulate, 1..16 threads`, () => {
      for (const [m, n, k] of shapes) {
        expectSameBits(`${variant} ${m}x${n}x${k}`, () =>
          tl.tidy(() => {
            const a = tl.randn(variant === "tn" ? [k, m] : [m, k], { seed: 1 });
            const b = tl.randn(variant === "nt" ? [n, k] : [k, n], { seed: 2 });
            const bias = tl.randn([n], { seed: 3 });
            const c = tl.keep(tl.randn([m, n], { seed: 4 }));
            const c2 = tl.keep(tl.randn([m, n], { seed: 5 }));
            gemm(variant, c.ptr, a.ptr, b.ptr, m, n, k, { bias: bias.ptr, dtype: "float32" });
            gemm(variant, c2.ptr, a.ptr, b.ptr, m, n, k, { accumulate: true, dtype: "float32" });
            return collect({ c, c2 });
          }),
        );
      }
    });
  }

  it("an element's bits do not depend on the tile or edge it lands in: arbitrary unaligned blocks agree with one call", () => {
    // Cuts that put elements in full 4x8 tiles in one plan and in edge tiles (1..3 rows, 1..7
    // columns, the 4x4 kernel) in another, including one-element and empty blocks.
    const [m, n, k] = [13, 21, 300];
    for (const variant of ["nn", "tn", "nt"] as GemmVariant[]) {
      tl.tidy(() => {
        const a = tl.randn(variant === "tn" ? [k, m] : [m, k], { seed: 11 });
        const b = tl.randn(variant === "nt" ? [n, k] : [k, n], { seed: 12 });
        const bias = tl.randn([n], { seed: 13 });
        const whole = tl.zeros([m, n]);
        gemmSplit(variant, whole.ptr, a.ptr, b.ptr, m, n, k, { bias: bias.ptr, dtype: "float32" }, [[0, m, 0, n]]);
        const ref = bits(whole);
        const plans: [number, number, number, number][][] = [
          [
            [0, 1, 0, n],
            [1, 6, 0, n],
            [6, 13, 0, n],
          ],
          [
            [0, m, 0, 3],
            [0, m, 3, 4],
            [0, m, 4, 4],
            [0, m, 4, 21],
          ],
          [
            [0, 5, 0, 11],
            [0, 5, 11, 21],
            [5, 13, 0, 1],
            [5, 13, 1, 21],
          ],
          [
            [0, 13, 0, 9],
            [0, 13, 9, 17],
            [0, 13, 17, 21],
          ],
        ];
        for (const plan of plans) {
          const c = tl.full([m, n], 7);
          simulateThreads(plan.length);
          gemmSplit(variant, c.ptr, a.ptr, b.ptr, m, n, k, { bias: bias.ptr, dtype: "float32" }, plan);
          simulateThreads(null);
          const got = bits(c);
          const at = got.findIndex((v, i) => v !== ref[i]);
          expect(at, `${variant} plan ${JSON.stringify(plan)}: element ${at} differs from one whole call`).toBe(-1);
        }
      });
    }
  });
});

describe("layers: forward and backward give the same bits for 1, 2, 3, 4, 7 and 16 threads", () => {
  it("Linear (N=37, D=53, M=29 and N=100, D=300, M=70)", () => {
    for (const [N, D, M] of [
      [37, 53, 29],
      [100, 300, 70],
    ]) {
      expectSameBits(`Linear ${N}x${D}x${M}`, () =>
        tl.tidy(() => {
          const x = tl.randn([N, D], { seed: 1 }),
            w = tl.randn([D, M], { seed: 2 }),
            b = tl.randn([M], { seed: 3 });
          const [out, cache] = tl.Linear.forward(x, w, b);
          const [dx, dw, db] = tl.Linear.backward(tl.randn([N, M], { seed: 4 }), cache);
          return collect({ out: tl.keep(out), dx: tl.keep(dx), dw: tl.keep(dw), db: tl.keep(db) });
        }),
      );
    }
  });

  it("ReLU, Tanh and Dropout (n = 1001 elements: n % 4 != 0)", () => {
    expectSameBits("ReLU/Tanh/Dropout", () =>
      tl.tidy(() => {
        const x = tl.randn([7, 143], { seed: 5 });
        const dout = tl.randn([7, 143], { seed: 6 });
        const [r, rc] = tl.ReLU.forward(x);
        const dr = tl.ReLU.backward(dout, rc);
        const [t, tc] = tl.Tanh.forward(x);
        const dt = tl.Tanh.backward(dout, tc);
        const [d, dc] = tl.Dropout.forward(x, { p: 0.3, mode: "train", seed: 9 });
        const dd = tl.Dropout.backward(dout, dc);
        return collect({ r: tl.keep(r), dr: tl.keep(dr), t: tl.keep(t), dt: tl.keep(dt), d: tl.keep(d), dd: tl.keep(dd) });
      }),
    );
  });

  it("BatchNorm train forward, backward and test forward (N=23, D=37)", () => {
    expectSameBits("BatchNorm", () =>
      tl.tidy(() => {
        const x = tl.randn([23, 37], { seed: 7 }),
          gamma = tl.randn([37], { seed: 8 }),
          beta = tl.randn([37], { seed: 9 });
        const bnParam: tl.BatchNormParam = { mode: "train" };
        const [out, cache] = tl.BatchNorm.forward(x, gamma, beta, bnParam);
        const [dx, dgamma, dbeta] = tl.BatchNorm.backward(tl.randn([23, 37], { seed: 10 }), cache);
        bnParam.mode = "test";
        const [outTest] = tl.BatchNorm.forward(x, gamma, beta, bnParam);
        const rm = bnParam.runningMean!,
          rv = bnParam.runningVar!;
        return collect({
          out: tl.keep(out),
          dx: tl.keep(dx),
          dgamma: tl.keep(dgamma),
          dbeta: tl.keep(dbeta),
          outTest: tl.keep(outTest),
          rm: tl.keep(rm),
          rv: tl.keep(rv),
        });
      }),
    );
  });

  it("SpatialBatchNorm with few channels (chunked sums) and many (by channel), odd H·W", () => {
    for (const [N, C, H, W] of [
      [13, 3, 5, 5],
      [6, 40, 3, 3],
      [1, 2, 1, 1],
    ]) {
      expectSameBits(`SpatialBatchNorm ${N}x${C}x${H}x${W}`, () =>
        tl.tidy(() => {
          const x = tl.randn([N, C, H, W], { seed: 11 }),
            gamma = tl.randn([C], { seed: 12 }),
            beta = tl.randn([C], { seed: 13 });
          const bnParam: tl.BatchNormParam = { mode: "train" };
          const [out, cache] = tl.SpatialBatchNorm.forward(x, gamma, beta, bnParam);
          const [dx, dgamma, dbeta] = tl.SpatialBatchNorm.backward(tl.randn([N, C, H, W], { seed: 14 }), cache);
          bnParam.mode = "test";
          const [outTest] = tl.SpatialBatchNorm.forward(x, gamma, beta, bnParam);
          return collect({
            out: tl.keep(out),
            dx: tl.keep(dx),
            dgamma: tl.keep(dgamma),
            dbeta: tl.keep(dbeta),
            outTest: tl.keep(outTest),
            rm: tl.keep(bnParam.runningMean!),
            rv: tl.keep(bnParam.runningVar!),
          });
        }),
      );
    }
  });

  it("Conv forward and backward: 3x3 pad 1, stride 2, pointwise 1x1, N from 1 to 37 (N = 1: the forward by pixel blocks)", () => {
    const cases: [number[], number[], tl.ConvParam][] = [
      [[11, 3, 9, 7], [5, 3, 3, 3], { stride: 1, pad: 1 }],
      [[37, 2, 6, 6], [4, 2, 3, 3], { stride: 2, pad: 1 }],
      [[9, 6, 4, 5], [7, 6, 1, 1], {}],
      [[1, 3, 8, 8], [3, 3, 3, 3], { pad: 1 }],
      [[1, 4, 13, 11], [6, 4, 3, 3], { stride: 2, pad: 1 }], // 7x6 outputs: 6 blocks, the last of 2 pixels
      [[1, 5, 14, 14], [9, 5, 1, 1], { stride: 2 }], // the subsampled 1x1 path, 49 outputs
    ];
    for (const [xs, ws, cp] of cases) {
      expectSameBits(`Conv x ${xs} w ${ws}`, () =>
        tl.tidy(() => {
          const x = tl.randn(xs, { seed: 15 }),
            w = tl.randn(ws, { seed: 16 }),
            b = tl.randn([ws[0]], { seed: 17 });
          const [out, cache] = tl.Conv.forward(x, w, b, cp);
          const [dx, dw, db] = tl.Conv.backward(tl.randn(out.shape, { seed: 18 }), cache);
          return collect({ out: tl.keep(out), dx: tl.keep(dx), dw: tl.keep(dw), db: tl.keep(db) });
        }),
      );
    }
  });

  it("MaxPool 2x2 stride 2 and 3x3 stride 2 (overlapping), forward and backward", () => {
    for (const pp of [
      { poolHeight: 2, poolWidth: 2, stride: 2 },
      { poolHeight: 3, poolWidth: 3, stride: 2 },
    ]) {
      expectSameBits(`MaxPool ${JSON.stringify(pp)}`, () =>
        tl.tidy(() => {
          const x = tl.randn([5, 3, 9, 8], { seed: 19 });
          const [out, cache] = tl.MaxPool.forward(x, pp);
          const dx = tl.MaxPool.backward(tl.randn(out.shape, { seed: 20 }), cache);
          return collect({ out: tl.keep(out), dx: tl.keep(dx) });
        }),
      );
    }
  });
});

describe("losses and optimizers: the same bits for any thread count", () => {
  it("softmax and SVM loss (N=37, C=10) and their gradients", () => {
    const y = labels(37, 10, 21);
    expectSameBits("losses", () =>
      tl.tidy(() => {
        const scores = tl.randn([37, 10], { seed: 22, std: 3 });
        const [ls, ds] = tl.softmaxLoss(scores, y);
        const [lv, dv] = tl.svmLoss(scores, y);
        return collect({ ls, ds: tl.keep(ds), lv, dv: tl.keep(dv) });
      }),
    );
  });

  it("all five update rules over 1003 parameters, three steps each", () => {
    for (const rule of ["sgd", "sgdMomentum", "adagrad", "rmsprop", "adam"] as const) {
      expectSameBits(rule, () =>
        tl.tidy(() => {
          const w = tl.keep(tl.randn([1003], { seed: 23 }));
          const config: Record<string, unknown> = {};
          for (let s = 0; s < 3; s++) {
            const dw = tl.randn([1003], { seed: 24 + s });
            tl.updateRules[rule](w, dw, config as never);
          }
          disposeOptimState(config);
          return collect({ w });
        }),
      );
    }
  });
});

describe("the Solver's moving average (emaUpdate) gives the same bits for any thread count", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`${dtype}: 1003 values, three updates (the warm-up's rates and a decay's)`, () => {
      expectSameBits(`${dtype} emaUpdate`, () =>
        tl.tidy(() => {
          const average = tl.keep(tl.randn([1003], { seed: 25, dtype }));
          for (const [s, rate] of [0.9, 0.18, 5e-4].entries()) {
            const w = tl.randn([1003], { seed: 26 + s, dtype });
            emaUpdate(average.ptr, w.ptr, 1003, rate, dtype);
            average.markWritten();
          }
          return collect({ average });
        }),
      );
    });
  }
});

describe("float64: the split f64 kernels give the same bits for any thread count", () => {
  const f64 = { dtype: "float64" } as const;

  it("ReLU, Tanh and Dropout (n = 1001 elements, slices at 8 bytes per element)", () => {
    expectSameBits("float64 ReLU/Tanh/Dropout", () =>
      tl.tidy(() => {
        const x = tl.randn([7, 143], { seed: 5, ...f64 });
        const dout = tl.randn([7, 143], { seed: 6, ...f64 });
        const [r, rc] = tl.ReLU.forward(x);
        const dr = tl.ReLU.backward(dout, rc);
        const [t, tc] = tl.Tanh.forward(x);
        const dt = tl.Tanh.backward(dout, tc);
        const [d, dc] = tl.Dropout.forward(x, { p: 0.3, mode: "train", seed: 9 });
        const dd = tl.Dropout.backward(dout, dc);
        expect(d.dtype).toBe("float64");
        return collect({ r: tl.keep(r), dr: tl.keep(dr), t: tl.keep(t), dt: tl.keep(dt), d: tl.keep(d), dd: tl.keep(dd) });
      }),
    );
  });

  it("BatchNorm (by features) and SpatialBatchNorm (chunked sums with few channels, by channel with many), the float32 splits", () => {
    expectSameBits("float64 BatchNorm", () =>
      tl.tidy(() => {
        const x = tl.randn([23, 37], { seed: 7, ...f64 }),
          gamma = tl.randn([37], { seed: 8, ...f64 }),
          beta = tl.randn([37], { seed: 9, ...f64 });
        const bnParam: tl.BatchNormParam = { mode: "train" };
        const [out, cache] = tl.BatchNorm.forward(x, gamma, beta, bnParam);
        const [dx, dgamma, dbeta] = tl.BatchNorm.backward(tl.randn([23, 37], { seed: 10, ...f64 }), cache);
        bnParam.mode = "test";
        const [outTest] = tl.BatchNorm.forward(x, gamma, beta, bnParam);
        expect(out.dtype).toBe("float64");
        return collect({
          out: tl.keep(out),
          dx: tl.keep(dx),
          dgamma: tl.keep(dgamma),
          dbeta: tl.keep(dbeta),
          outTest: tl.keep(outTest),
          rm: tl.keep(bnParam.runningMean!),
          rv: tl.keep(bnParam.runningVar!),
        });
      }),
    );
    for (const [N, C, H, W] of [
      [13, 3, 5, 5],
      [6, 40, 3, 3],
      [1, 2, 1, 1],
    ]) {
      expectSameBits(`float64 SpatialBatchNorm ${N}x${C}x${H}x${W}`, () =>
        tl.tidy(() => {
          const x = tl.randn([N, C, H, W], { seed: 11, ...f64 }),
            gamma = tl.randn([C], { seed: 12, ...f64 }),
            beta = tl.randn([C], { seed: 13, ...f64 });
          const bnParam: tl.BatchNormParam = { mode: "train" };
          const [out, cache] = tl.SpatialBatchNorm.forward(x, gamma, beta, bnParam);
          const [dx, dgamma, dbeta] = tl.SpatialBatchNorm.backward(tl.randn([N, C, H, W], { seed: 14, ...f64 }), cache);
          bnParam.mode = "test";
          const [outTest] = tl.SpatialBatchNorm.forward(x, gamma, beta, bnParam);
          return collect({
            out: tl.keep(out),
            dx: tl.keep(dx),
            dgamma: tl.keep(dgamma),
            dbeta: tl.keep(dbeta),
            outTest: tl.keep(outTest),
            rm: tl.keep(bnParam.runningMean!),
            rv: tl.keep(bnParam.runningVar!),
          });
        }),
      );
    }
  });

  it("MaxPool (split by planes, float64 argmax) forward and backward", () => {
    expectSameBits("float64 MaxPool", () =>
      tl.tidy(() => {
        const x = tl.randn([5, 3, 9, 8], { seed: 19, ...f64 });
        const [out, cache] = tl.MaxPool.forward(x, { poolHeight: 3, poolWidth: 3, stride: 2 });
        const dx = tl.MaxPool.backward(tl.randn(out.shape, { seed: 20, ...f64 }), cache);
        return collect({ out: tl.keep(out), dx: tl.keep(dx) });
      }),
    );
  });

  it("all five update rules over 1003 float64 parameters, three steps each", () => {
    for (const rule of ["sgd", "sgdMomentum", "adagrad", "rmsprop", "adam"] as const) {
      expectSameBits(`float64 ${rule}`, () =>
        tl.tidy(() => {
          const w = tl.keep(tl.randn([1003], { seed: 23, ...f64 }));
          const config: Record<string, unknown> = {};
          for (let s = 0; s < 3; s++) {
            const dw = tl.randn([1003], { seed: 24 + s, ...f64 });
            tl.updateRules[rule](w, dw, config as never);
          }
          disposeOptimState(config);
          return collect({ w });
        }),
      );
    }
  });
});

describe("models trained 50 Solver steps: identical loss histories and weight hashes for 1, 2 and 3 threads", () => {
  function hashParams(params: Record<string, tl.Tensor>): number {
    let crc = 0;
    for (const key of Object.keys(params).sort()) crc = tl.internal.crc32(new Uint8Array(params[key].toArray().buffer), crc); // the values' own bytes (4 or 8 each)
    return crc;
  }

  function train(makeNet: () => tl.FullyConnectedNet | tl.DeepConvNet, X: tl.Tensor, y: Int32Array): { history: number[]; hash: number } {
    const net = makeNet();
    const solver = new tl.Solver(
      net,
      { XTrain: X, yTrain: y, XVal: X, yVal: y },
      { updateRule: "adam", batchSize: 25, numEpochs: 100, verbose: false, seed: 5 },
    );
    try {
      for (let i = 0; i < 50; i++) solver.step();
      return { history: [...solver.lossHistory], hash: hashParams(net.params as Record<string, tl.Tensor>) };
    } finally {
      solver.dispose();
      net.dispose();
    }
  }

  function expectSameTraining(what: string, run: () => { history: number[]; hash: number }): void {
    const ref = withThreads(1, run);
    expect(ref.history.length).toBe(50);
    console.log(`${what}: 1 thread, final loss ${ref.history[49]}, weight hash ${ref.hash.toString(16)}`);
    for (const n of [2, 3]) {
      const got = withThreads(n, run);
      expect(got.history, `${what}: loss history with ${n} threads`).toEqual(ref.history);
      expect(got.hash.toString(16), `${what}: weight hash with ${n} threads`).toBe(ref.hash.toString(16));
    }
  }

  it("FullyConnectedNet with dropout and batch norm", () => {
    const X = tl.randn([100, 60], { seed: 30 });
    const y = labels(100, 10, 31);
    try {
      expectSameTraining("FullyConnectedNet", () =>
        train(
          () =>
            new tl.FullyConnectedNet({ hiddenDims: [50, 30], inputDim: 60, numClasses: 10, dropout: 0.25, normalization: "batchnorm", reg: 1e-3, seed: 32 }),
          X,
          y,
        ),
      );
    } finally {
      X.dispose();
    }
  });

  it("float64 FullyConnectedNet with dropout and batch norm (the float64 module split like the float32 one, 8 bytes per element)", () => {
    const X = tl.randn([100, 60], { seed: 36, dtype: "float64" });
    const y = labels(100, 10, 37);
    try {
      expectSameTraining("float64 FullyConnectedNet", () =>
        train(
          () =>
            new tl.FullyConnectedNet({
              hiddenDims: [50, 30],
              inputDim: 60,
              numClasses: 10,
              dropout: 0.25,
              normalization: "batchnorm",
              reg: 1e-3,
              seed: 38,
              dtype: "float64",
            }),
          X,
          y,
        ),
      );
    } finally {
      X.dispose();
    }
  });

  it("DeepConvNet with spatial batch norm", () => {
    const X = tl.randn([60, 3, 8, 8], { seed: 33 });
    const y = labels(60, 10, 34);
    try {
      expectSameTraining("DeepConvNet", () =>
        train(
          () =>
            new tl.DeepConvNet({
              inputDims: [3, 8, 8],
              numFilters: [6, 8],
              maxPools: [0, 1],
              batchnorm: true,
              numClasses: 10,
              weightScale: "kaiming",
              reg: 1e-3,
              seed: 35,
            }),
          X,
          y,
        ),
      );
    } finally {
      X.dispose();
    }
  });
});

describe("the new layers' kernels (issue 20): the same bits for any thread count, float32 and float64", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`${dtype}: GELU (both forms), sigmoid, leaky ReLU and add over 1001 elements, forward and backward`, () => {
      expectSameBits(`${dtype} activations`, () =>
        tl.tidy(() => {
          const x = tl.randn([7, 143], { seed: 30, std: 3, dtype }),
            dout = tl.randn([7, 143], { seed: 31, dtype });
          const n = x.size;
          const out: Record<string, tl.Tensor> = {};
          const fresh = (name: string) => (out[name] = tl.keep(tl.zeros(x.shape, { dtype })));
          for (const mode of ["none", "tanh"] as const) {
            ew.gelu(fresh(`gelu ${mode}`).ptr, x.ptr, n, mode, dtype);
            ew.geluBackward(fresh(`gelu ${mode} dx`).ptr, dout.ptr, x.ptr, n, mode, dtype);
          }
          ew.sigmoid(fresh("sigmoid").ptr, x.ptr, n, dtype);
          ew.sigmoidBackward(fresh("sigmoid dx").ptr, dout.ptr, out.sigmoid.ptr, n, dtype);
          ew.leakyRelu(fresh("leaky").ptr, x.ptr, n, 0.1, dtype);
          ew.leakyReluBackward(fresh("leaky dx").ptr, dout.ptr, x.ptr, n, 0.1, dtype);
          ew.add(fresh("add").ptr, x.ptr, dout.ptr, n, dtype);
          return collect(out);
        }),
      );
    });

    it(`${dtype}: average pooling (k2 s2, k3 s2 p1 both divisors, k3 s1 p1) and global average pooling, split by planes`, () => {
      const windows: [number, number, number, boolean][] = [
        [2, 2, 0, true],
        [3, 2, 1, true],
        [3, 2, 1, false],
        [3, 1, 1, false],
      ];
      for (const [k, s, p, inc] of windows) {
        expectSameBits(`${dtype} avgpool k${k} s${s} p${p} ${inc}`, () =>
          tl.tidy(() => {
            const x = tl.randn([5, 3, 9, 8], { seed: 32, dtype });
            const sz = avgPoolSizes("test", 5, 3, 9, 8, k, k, s, s, p, p, inc);
            const out = tl.keep(tl.zeros([5, 3, sz.Ho, sz.Wo], { dtype })),
              dx = tl.keep(tl.zeros(x.shape, { dtype }));
            const dout = tl.randn(out.shape, { seed: 33, dtype });
            avgPoolForward(out.ptr, x.ptr, sz, dtype);
            avgPoolBackward(dx.ptr, dout.ptr, sz, dtype);
            const g = tl.keep(tl.zeros([5, 3], { dtype })),
              gdx = tl.keep(tl.zeros(x.shape, { dtype }));
            globalAvgPoolForward(g.ptr, x.ptr, 15, 72, dtype);
            globalAvgPoolBackward(gdx.ptr, g.ptr, 15, 72, dtype);
            return collect({ out, dx, g, gdx });
          }),
        );
      }
    });

    it(`${dtype}: depthwise conv 3x3 stride 1 and 2 pad 1, 5x5 stride 2 pad 2, stride 3: forward by planes, backward in chunks (N = 1, 7, 37)`, () => {
      const cases: [number[], number, number, number][] = [
        [[7, 5, 9, 11], 3, 1, 1],
        [[37, 3, 8, 8], 3, 2, 1],
        [[1, 4, 13, 6], 3, 1, 1],
        [[7, 2, 10, 9], 5, 2, 2],
        [[7, 3, 7, 7], 3, 3, 1],
      ];
      for (const [[N, C, H, W], k, s, p] of cases) {
        expectSameBits(`${dtype} depthwise ${N}x${C}x${H}x${W} k${k} s${s} p${p}`, () =>
          tl.tidy(() => {
            const sz = depthwiseSizes("test", N, C, H, W, k, k, s, s, p, p);
            const x = tl.randn([N, C, H, W], { seed: 34, dtype }),
              w = tl.randn([C, 1, k, k], { seed: 35, dtype }),
              b = tl.randn([C], { seed: 36, dtype });
            const out = tl.keep(tl.zeros([N, C, sz.Ho, sz.Wo], { dtype }));
            depthwiseForward(out.ptr, x.ptr, w.ptr, b.ptr, sz, dtype);
            const dout = tl.randn(out.shape, { seed: 37, dtype });
            const dx = tl.keep(tl.zeros(x.shape, { dtype })),
              dw = tl.keep(tl.zeros(w.shape, { dtype })),
              db = tl.keep(tl.zeros([C], { dtype }));
            depthwiseBackward(dx.ptr, dw.ptr, db.ptr, dout.ptr, x.ptr, w.ptr, sz, dtype);
            return collect({ out, dx, dw, db });
          }),
        );
      }
    });
  }

  it("depthwise chunks depend on the sizes only (never the thread count)", () => {
    const plan = () => [depthwiseChunkImages(50, 32, 9), depthwiseChunkImages(7, 4, 9), depthwiseChunkImages(256, 1024, 9)];
    const ref = plan();
    expect(ref).toEqual([2, 1, 8]);
    for (const n of COUNTS) expect(withThreads(n, plan)).toEqual(ref);
  });
});
