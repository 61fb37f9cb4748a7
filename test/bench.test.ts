// The bench's own pieces that decide numbers: statistics, and the plain-JS baseline (it must be a
// correct net, or its figures mean nothing). No timing is asserted here.
import { describe, expect, it } from "vitest";

// Loaded by URL: the bench is plain .mjs run by node, without type declarations.
const load = (path: string) => import(new URL(path, import.meta.url).href);
const harness = await load("../bench/harness.mjs");
const plain = await load("../bench/peers/plainjs.mjs");

describe("bench harness statistics", () => {
  it("median and quartiles interpolate", () => {
    expect(harness.median([5, 1, 3])).toBe(3);
    expect(harness.median([4, 1, 3, 2])).toBe(2.5);
    expect(harness.quantile([0, 10, 20, 30, 40], 0.25)).toBe(10);
  });

  it("summarize gives the spread relative to the median", () => {
    const s = harness.summarize([1, 2, 3, 4, 5]);
    expect(s.median).toBe(3);
    expect(s.min).toBe(1);
    expect(s.max).toBe(5);
    expect(s.spread).toBeCloseTo(2 / 3, 12);
  });
});

function naive(variant: string, a: Float64Array, b: Float64Array, m: number, n: number, k: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = variant === "tn" ? a[p * m + i] : a[i * k + p];
        const bv = variant === "nt" ? b[j * k + p] : b[p * n + j];
        s += av * bv;
      }
      c[i * n + j] = s;
    }
  return c;
}

describe("plain-js baseline", () => {
  it.each(["nn", "tn", "nt"])("matmul %s matches the triple loop at m 5 n 3 k 7", (variant) => {
    const [m, n, k] = [5, 3, 7];
    const a = Float64Array.from(harness.randomArray(m * k, 1));
    const b = Float64Array.from(harness.randomArray(k * n, 2));
    const c = new Float64Array(m * n).fill(NaN); // stale contents must be overwritten
    const fn = { nn: plain.matmulNN, tn: plain.matmulTN, nt: plain.matmulNT }[variant];
    fn(c, a, b, m, n, k);
    const want = naive(variant, a, b, m, n, k);
    const err = Math.max(...c.map((v, i) => Math.abs(v - want[i])));
    expect(err, `max error ${err}`).toBeLessThan(1e-12);
  });

  it("FC net gradients match central differences (float64, 6-5-4-3, batch 4)", () => {
    const net = new plain.PlainFullyConnectedNet({ dims: [6, 5, 4, 3], batch: 4, seed: 3, Float: Float64Array });
    const x = Float64Array.from(harness.randomArray(4 * 6, 4));
    const y = Int32Array.from([0, 2, 1, 2]);
    net.loss(x, y);
    const analytic = net.layers.flatMap((l: any) => [Float64Array.from(l.W.dw), Float64Array.from(l.b.dw)]);
    let worst = 0;
    net.layers.forEach((layer: any, li: number) => {
      [layer.W, layer.b].forEach((p: any, pi: number) => {
        for (let i = 0; i < p.w.length; i++) {
          const keep = p.w[i];
          p.w[i] = keep + 1e-6;
          const up = net.loss(x, y);
          p.w[i] = keep - 1e-6;
          const down = net.loss(x, y);
          p.w[i] = keep;
          const numeric = (up - down) / 2e-6;
          const got = analytic[li * 2 + pi][i];
          worst = Math.max(worst, Math.abs(numeric - got) / Math.max(1e-8, Math.abs(numeric) + Math.abs(got)));
        }
      });
    });
    expect(worst, `max relative error ${worst}`).toBeLessThan(1e-6);
  });

  it("Adam's first step moves each weight by learningRate against its gradient's sign", () => {
    const net = new plain.PlainFullyConnectedNet({ dims: [2, 2], batch: 1, seed: 5, Float: Float64Array });
    const w = net.layers[0].W;
    const before = Float64Array.from(w.w);
    w.dw.set([0.5, -2, 1e-3, 0]);
    net.adam({ learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    // t = 1: mHat = g, vHat = g², so the step is lr * g / (|g| + eps).
    const want = [0.5, -2, 1e-3, 0].map((g, i) => before[i] - (0.1 * g) / (Math.abs(g) + 1e-8));
    const err = Math.max(...want.map((v, i) => Math.abs(v - w.w[i])));
    expect(err, `max error ${err}`).toBeLessThan(1e-12);
  });
});
