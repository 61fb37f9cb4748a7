// Augmentations: exact semantics (mirror, shifted window with zero fill, one clipped square in
// every channel, mixup's shared λ and partner), statistics, reproducibility by seed and
// independence from the batch around an image; the soft-label loss against its formula.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { maxAbsDiff } from "./helpers.js";

beforeAll(() => tl.init({ float64: true }));
const made: tl.Tensor[] = [];
afterAll(() => made.forEach((t) => t.dispose()));

/** (N, C, H, W) with every value distinct and non-zero: value = 1 + flat index. */
function distinct(shape: [number, number, number, number]): tl.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const t = tl.keep(
    tl.tensor(
      Float32Array.from({ length: n }, (_, i) => 1 + i),
      shape,
    ),
  );
  made.push(t);
  return t;
}

/** Image i, channel c as a 2-D array. */
function plane(values: Float32Array | Float64Array, shape: readonly number[], i: number, c: number): number[][] {
  const [, C, H, W] = shape;
  const out: number[][] = [];
  for (let r = 0; r < H; r++) out.push(Array.from(values.subarray(((i * C + c) * H + r) * W, ((i * C + c) * H + r + 1) * W)));
  return out;
}

function bits(t: tl.Tensor): Uint32Array {
  return new Uint32Array(t.toArray().buffer);
}

describe("randomFlip", () => {
  const shape: [number, number, number, number] = [400, 2, 3, 5];
  const x = () => distinct(shape);

  it("every image is either itself or its exact left-right mirror (all channels alike); p = 0 copies, p = 1 mirrors all", () => {
    const X = x();
    const xs = X.toArray();
    for (const p of [0, 0.5, 1]) {
      const Y = tl.randomFlip(X, { p, seed: 7 });
      const ys = Y.toArray();
      let flipped = 0;
      for (let i = 0; i < shape[0]; i++) {
        const same = [0, 1].every((c) => JSON.stringify(plane(ys, shape, i, c)) === JSON.stringify(plane(xs, shape, i, c)));
        const mirror = [0, 1].every((c) => JSON.stringify(plane(ys, shape, i, c)) === JSON.stringify(plane(xs, shape, i, c).map((row) => [...row].reverse())));
        expect(same || mirror, `image ${i} p=${p}`).toBe(true);
        if (mirror) flipped++;
      }
      if (p === 0) expect(flipped).toBe(0);
      if (p === 1) expect(flipped).toBe(shape[0]);
      Y.dispose();
    }
  });

  it("the flipped fraction is within 5 sigma of p over 20,000 images (p = 0.3 and 0.5; seeds 11, 12)", () => {
    const X = tl.keep(
      tl.tensor(
        Float32Array.from({ length: 20000 * 2 }, (_, i) => i % 2),
        [20000, 1, 1, 2],
      ),
    );
    for (const [p, seed] of [
      [0.3, 11],
      [0.5, 12],
    ]) {
      const y = tl.randomFlip(X, { p, seed }).toArray();
      let flipped = 0;
      for (let i = 0; i < 20000; i++) if (y[2 * i] === 1) flipped++;
      const sigma = Math.sqrt((p * (1 - p)) / 20000);
      console.log(`flip p=${p} seed=${seed}: fraction ${flipped / 20000}`);
      expect(Math.abs(flipped / 20000 - p)).toBeLessThan(5 * sigma);
    }
    X.dispose();
  });
});

/** The (dy, dx) shifts under which `out` is x shifted with zero fill: out[r][c] = x[r + dy][c + dx] or 0. */
function matchingShifts(
  xs: Float32Array | Float64Array,
  ys: Float32Array | Float64Array,
  shape: readonly number[],
  i: number,
  padding: number,
): [number, number][] {
  const [, C, H, W] = shape;
  const found: [number, number][] = [];
  for (let dy = -padding; dy <= padding; dy++) {
    for (let dx = -padding; dx <= padding; dx++) {
      let ok = true;
      for (let c = 0; c < C && ok; c++) {
        for (let r = 0; r < H && ok; r++) {
          for (let col = 0; col < W && ok; col++) {
            const sr = r + dy,
              sc = col + dx;
            const want = sr >= 0 && sr < H && sc >= 0 && sc < W ? xs[((i * C + c) * H + sr) * W + sc] : 0;
            if (ys[((i * C + c) * H + r) * W + col] !== want) ok = false;
          }
        }
      }
      if (ok) found.push([dy, dx]);
    }
  }
  return found;
}

describe("randomCrop", () => {
  it("each image is the window of its zero-padded copy at one offset: x shifted by (dy, dx) in [-2, 2]^2, zeros filling in; every offset occurs", () => {
    const shape: [number, number, number, number] = [600, 2, 4, 5];
    const X = distinct(shape);
    const Y = tl.randomCrop(X, { padding: 2, seed: 3 });
    const xs = X.toArray(),
      ys = Y.toArray();
    const seen = new Map<string, number>();
    for (let i = 0; i < shape[0]; i++) {
      const shifts = matchingShifts(xs, ys, shape, i, 2);
      expect(shifts.length, `image ${i}: exactly one shift explains it`).toBe(1);
      const key = shifts[0].join(",");
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    console.log(`crop offsets seen (of 25): ${seen.size}, counts ${[...seen.values()].join(" ")}`);
    expect(seen.size).toBe(25);
    Y.dispose();
  });

  it("padding 0 is the identity; padding at least the image size can shift an image out entirely (all zeros)", () => {
    const X = distinct([50, 1, 2, 2]);
    const same = tl.randomCrop(X, { padding: 0, seed: 1 });
    expect(bits(same)).toEqual(bits(X));
    const far = tl.randomCrop(X, { padding: 4, seed: 1 }).toArray();
    let empty = 0;
    for (let i = 0; i < 50; i++) if (far.subarray(4 * i, 4 * i + 4).every((v) => v === 0)) empty++;
    expect(empty).toBeGreaterThan(0);
    same.dispose();
  });
});

describe("cutout", () => {
  it("zeroes one size x size square (clipped at the borders) at the same place in every channel, nothing else", () => {
    const shape: [number, number, number, number] = [500, 3, 7, 6];
    const [, C, H, W] = shape;
    const X = distinct(shape);
    for (const size of [1, 3, 4]) {
      const Y = tl.cutout(X, { size, seed: 5 });
      const xs = X.toArray(),
        ys = Y.toArray();
      const covered = new Uint32Array(H * W);
      let wrongChannel = 0,
        changed = 0;
      for (let i = 0; i < shape[0]; i++) {
        const zero = plane(ys, shape, i, 0).map((row) => row.map((v) => v === 0));
        for (let c = 0; c < C; c++) {
          const yc = plane(ys, shape, i, c),
            xc = plane(xs, shape, i, c);
          for (let r = 0; r < H; r++)
            for (let col = 0; col < W; col++) {
              if ((yc[r][col] === 0) !== zero[r][col]) wrongChannel++;
              if (!zero[r][col] && yc[r][col] !== xc[r][col]) changed++;
            }
        }
        // The zeros form one rectangle: rows [r0, r1] x cols [c0, c1] all zero, nothing else.
        const rows = zero.map((row) => row.some(Boolean)).flatMap((z, r) => (z ? [r] : []));
        const cols = zero[rows[0]].flatMap((z, col) => (z ? [col] : []));
        const [r0, r1, c0, c1] = [rows[0], rows.at(-1)!, cols[0], cols.at(-1)!];
        let count = 0;
        zero.forEach((row, r) =>
          row.forEach((z, col) => {
            if (z) {
              count++;
              covered[r * W + col]++;
            }
          }),
        );
        expect(count, `image ${i}: one rectangle`).toBe((r1 - r0 + 1) * (c1 - c0 + 1));
        // Its sides are `size`, or shorter only where clipped by a border.
        for (const [lo, hi, limit] of [
          [r0, r1, H],
          [c0, c1, W],
        ]) {
          const side = hi - lo + 1;
          if (side !== size) expect(side < size && (lo === 0 || hi === limit - 1), `image ${i}: side ${side} of ${size}`).toBe(true);
        }
      }
      expect(wrongChannel, "pixels cut in some channels but not all").toBe(0);
      expect(changed, "pixels outside the square that changed").toBe(0);
      // Centres are uniform over the pixels: every pixel is cut in some image (500 images, 42 pixels).
      expect(Math.min(...covered), `size ${size}: least-covered pixel`).toBeGreaterThan(0);
      Y.dispose();
    }
  });
});

describe("mixup", () => {
  it("images and labels use the same λ and the same partner, one λ per batch, partners a permutation", () => {
    const N = 64;
    const shape: [number, number, number, number] = [N, 2, 3, 3];
    const X = distinct(shape);
    const y = Int32Array.from({ length: N }, (_, i) => i); // class i: the label row shows the partner
    const xOut = tl.keep(tl.zeros(shape)),
      yOut = tl.keep(tl.zeros([N, N]));
    made.push(xOut, yOut);
    const [xm0, ym0] = tl.mixup(X, y, { alpha: 0.4, numClasses: N, seed: 9, out: [xOut, yOut] });
    expect(xm0).toBe(xOut); // the caller's buffers, written and returned
    expect(ym0).toBe(yOut);
    const lam = tl.internal.mixupLambda(0.4, 9);
    const a = Math.fround(lam),
      b = Math.fround(1 - lam);
    console.log(`mixup alpha 0.4 seed 9: lambda ${lam}`);
    expect(lam).toBeGreaterThan(0);
    expect(lam).toBeLessThan(1);
    const xs = X.toArray(),
      xm = xOut.toArray(),
      ym = yOut.toArray();
    const per = 18;
    const partners = new Set<number>();
    for (let i = 0; i < N; i++) {
      const row = ym.subarray(i * N, (i + 1) * N);
      const nonzero = [...row.keys()].filter((j) => row[j] !== 0);
      let j: number;
      if (nonzero.length === 1) {
        j = i; // its own partner: weight a + b on class i
        expect(nonzero[0]).toBe(i);
        expect(row[i]).toBe(Math.fround(a + b));
      } else {
        expect(nonzero.length).toBe(2);
        j = nonzero.find((k) => k !== i)!;
        expect(row[i], `label weight of image ${i} itself`).toBe(a);
        expect(row[j], `label weight of partner ${j}`).toBe(b);
      }
      partners.add(j);
      for (let k = 0; k < per; k++) {
        const want = Math.fround(Math.fround(a * xs[i * per + k]) + Math.fround(b * xs[j * per + k]));
        expect(xm[i * per + k], `image ${i} element ${k} = a x_i + b x_partner`).toBe(want);
      }
    }
    expect(partners.size).toBe(N);
  });

  it("λ over many batches: mean 1/2 and Beta(0.2, 0.2)'s U shape (most mass near 0 and 1)", () => {
    const X = distinct([2, 1, 1, 1]);
    const xo = tl.keep(tl.zeros([2, 1, 1, 1])),
      yo = tl.keep(tl.zeros([2, 2]));
    made.push(xo, yo);
    const lams: number[] = [];
    for (let t = 0; t < 2000; t++) {
      tl.mixup(X, [0, 1], { alpha: 0.2, numClasses: 2, seed: 4, offset: 2 * t, out: [xo, yo] });
      const lam = tl.internal.mixupLambda(0.2, 4, 2 * t);
      // Labels 0 and 1 of a two-image batch: image 0's row holds its own weight λ, or 1 if it is its own partner.
      const row0 = yo.toArray();
      expect(row0[0] === Math.fround(lam) || (row0[0] === 1 && row0[1] === 0), `batch ${t}: yOut agrees with mixupLambda`).toBe(true);
      lams.push(lam);
    }
    const mean = lams.reduce((s, v) => s + v, 0) / lams.length;
    const extreme = lams.filter((v) => v < 0.1 || v > 0.9).length / lams.length;
    console.log(`Beta(0.2, 0.2), 2000 batches: mean ${mean.toFixed(4)}, fraction outside [0.1, 0.9] ${extreme.toFixed(3)}`);
    // Var = 1 / (4 (2 a + 1)) = 0.1786: 5 sigma of the mean over 2000 is 0.047. P(outside) = 0.6734
    // for a = 0.2 (the incomplete beta integral); 5 sigma over 2000 is 0.052.
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.047);
    expect(Math.abs(extreme - 0.6734)).toBeLessThan(5 * Math.sqrt((0.6734 * 0.3266) / 2000));
  });

  it("accepts soft labels (a second mixup of mixed labels) and checks them", () => {
    const X = distinct([8, 1, 2, 2]);
    const [x1, y1] = tl.mixup(X, [0, 1, 2, 3, 0, 1, 2, 3], { alpha: 1, numClasses: 4, seed: 1 });
    const [x2, y2] = tl.mixup(x1, y1, { alpha: 1, seed: 2 });
    const rows = y2.toArray() as Float32Array;
    for (let i = 0; i < 8; i++) expect(Math.abs(rows.subarray(4 * i, 4 * i + 4).reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-6);
    expect(() => tl.mixup(X, y1, { alpha: 1, numClasses: 5, seed: 2 })).toThrow(/numClasses is 5 but soft labels y have 4 classes/);
    const bad = tl.tensor(new Float32Array(32).fill(0.5), [8, 4]);
    expect(() => tl.mixup(X, bad, { alpha: 1, seed: 2 })).toThrow(/mixup: soft labels row y\[0\] sums to 2/);
    for (const t of [x1, y1, x2, y2, bad]) t.dispose();
  });
});

describe("reproducibility", () => {
  const X = () => distinct([16, 3, 5, 6]);
  const ops: [string, (x: tl.Tensor, o: { seed?: number; offset?: number }) => tl.Tensor][] = [
    ["randomFlip", (x, o) => tl.randomFlip(x, { ...o })],
    ["randomCrop", (x, o) => tl.randomCrop(x, { padding: 2, ...o })],
    ["cutout", (x, o) => tl.cutout(x, { size: 3, ...o })],
  ];
  for (const [name, op] of ops) {
    it(`${name}: the same seed gives the same bits, another seed other bits; image i depends only on (seed, offset + i)`, () => {
      const x = X();
      const a = op(x, { seed: 21 }),
        b = op(x, { seed: 21 }),
        c = op(x, { seed: 22 });
      expect(bits(a)).toEqual(bits(b));
      expect(bits(a)).not.toEqual(bits(c));
      // Image 5 alone, at offset 5, is what it was as image 5 of the batch.
      const one = x.sliceView(5 * 90, [1, 3, 5, 6]);
      const alone = op(one, { seed: 21, offset: 5 });
      expect(bits(alone)).toEqual(bits(a).slice(5 * 90, 6 * 90));
      // The global stream after setSeed repeats too.
      tl.setSeed(77);
      const g1 = op(x, {});
      tl.setSeed(77);
      const g2 = op(x, {});
      expect(bits(g1)).toEqual(bits(g2));
      for (const t of [a, b, c, one, alone, g1, g2]) t.dispose();
    });
  }
});

describe("softmaxLoss with soft labels", () => {
  const N = 5,
    C = 4;
  const scores = () => {
    const s = tl.keep(tl.randn([N, C], { seed: 3, std: 2 }));
    made.push(s);
    return s;
  };
  function softLabels(): Float32Array {
    const y = new Float32Array(N * C);
    for (let i = 0; i < N; i++) {
      y[i * C + (i % C)] += 0.7;
      y[i * C + ((i + 1) % C)] += 0.2;
      y[i * C + ((i + 3) % C)] += 0.1;
    }
    return y;
  }

  it("loss = mean_n -sum_c y_nc log softmax(s_n)_c and dscores = (softmax - y) / N, against a float64 formula", () => {
    const s = scores();
    const y = softLabels();
    const Y = tl.tensor(y, [N, C]);
    const [loss, d] = tl.softmaxLoss(s, Y);
    const sv = s.toArray();
    let want = 0;
    const grad = new Float64Array(N * C);
    for (let i = 0; i < N; i++) {
      const row = Array.from(sv.subarray(i * C, (i + 1) * C));
      const m = Math.max(...row);
      const z = row.reduce((acc, v) => acc + Math.exp(v - m), 0);
      for (let c = 0; c < C; c++) {
        const logp = row[c] - m - Math.log(z);
        want -= y[i * C + c] * logp;
        grad[i * C + c] = (Math.exp(logp) - y[i * C + c]) / N;
      }
    }
    want /= N;
    console.log(`soft loss ${loss} vs formula ${want}; max dscores error ${maxAbsDiff(d.toArray(), grad)}`);
    expect(Math.abs(loss - want)).toBeLessThan(1e-6 * Math.max(1, want));
    expect(maxAbsDiff(d.toArray(), grad)).toBeLessThan(1e-7);
    // Numeric gradient of the loss with respect to one score per row.
    for (let i = 0; i < N; i++) {
      const k = i * C + (i % C);
      const h = 1e-2;
      const at = (delta: number) => {
        const t = tl.tensor(
          sv.map((v, j) => (j === k ? v + delta : v)),
          [N, C],
        );
        const [l, g] = tl.softmaxLoss(t, Y);
        t.dispose();
        g.dispose();
        return l;
      };
      const numeric = (at(h) - at(-h)) / (2 * h);
      expect(Math.abs(numeric - grad[k]), `d loss / d s[${k}]`).toBeLessThan(2e-4);
    }
    Y.dispose();
    d.dispose();
  });

  it("one-hot soft labels give exactly the bits of integer labels", () => {
    const s = scores();
    const yInt = [1, 0, 3, 2, 1];
    const oneHot = new Float32Array(N * C);
    yInt.forEach((c, i) => (oneHot[i * C + c] = 1));
    const Y = tl.tensor(oneHot, [N, C]);
    const [l1, d1] = tl.softmaxLoss(s, yInt);
    const [l2, d2] = tl.softmaxLoss(s, Y);
    expect(l2).toBe(l1);
    expect(bits(d2)).toEqual(bits(d1));
    for (const t of [Y, d1, d2]) t.dispose();
  });

  it("validates soft labels: shape, finite, non-negative, rows summing to 1", () => {
    const s = scores();
    const cases: [number[], number[], RegExp][] = [
      [[N, C + 1], new Array(N * (C + 1)).fill(1 / (C + 1)), /soft labels y must have shape \[5, 4\]/],
      [[N, C], softLabels().map((v, i) => (i === 6 ? NaN : v)) as unknown as number[], /y\[1\]\[2\] is NaN; probabilities must be finite and >= 0/],
      [[N, C], Array.from(softLabels(), (v, i) => (i === 0 ? -0.1 : v)), /y\[0\]\[0\] is -0\.1/],
      [[N, C], Array.from(softLabels(), (v, i) => (i === 0 ? v + 0.01 : v)), /row y\[0\] sums to 1\.0099\d*; each row must sum to 1/],
    ];
    for (const [shape, values, message] of cases) {
      const Y = tl.tensor(Float32Array.from(values), shape);
      expect(() => tl.softmaxLoss(s, Y)).toThrow(message);
      Y.dispose();
    }
    // Still usable.
    const [l] = tl.softmaxLoss(s, [0, 1, 2, 3, 0]);
    expect(Number.isFinite(l)).toBe(true);
  });

  it("model losses take soft labels: the loss is linear in the labels (a L(y) + b L(y') for mixed one-hots)", () => {
    const net = new tl.FullyConnectedNet({ hiddenDims: [7], inputDim: 6, numClasses: C, weightScale: "kaiming", seed: 2 });
    const X = tl.randn([N, 6], { seed: 8 });
    const ya = [0, 1, 2, 3, 0],
      yb = [2, 2, 1, 0, 3];
    const [la] = net.loss(X, ya);
    const [lb] = net.loss(X, yb);
    const soft = new Float32Array(N * C);
    for (let i = 0; i < N; i++) {
      soft[i * C + ya[i]] += Math.fround(0.3);
      soft[i * C + yb[i]] += Math.fround(0.7);
    }
    const Y = tl.tensor(soft, [N, C]);
    const [lm] = net.loss(X, Y);
    expect(Math.abs(lm - (0.3 * la + 0.7 * lb))).toBeLessThan(1e-5);
    expect(() => net.loss(X, tl.keep(tl.zeros([N, C + 1])))).toThrow(/FullyConnectedNet\.loss: soft labels y must have shape \[5, 4\]/);
    Y.dispose();
    X.dispose();
    net.dispose();
  });
});

describe("argument checks (clear errors, nothing allocated, library usable after)", () => {
  it("names the function, the argument and what was expected", () => {
    const X = distinct([2, 1, 3, 3]);
    // Wrong buffers for options.out: another shape, another dtype, labels of another class count.
    const wide = tl.zeros([2, 1, 3, 4]),
      f64 = tl.zeros([2, 1, 3, 3], { dtype: "float64" }),
      labels3 = tl.zeros([2, 3]);
    const before = tl.memory();
    expect(() => tl.randomFlip(X, { p: 1.5 })).toThrow(/randomFlip: options.p must be in \[0, 1\] \(got 1.5\)/);
    expect(() => tl.randomCrop(X, {} as tl.RandomCropOptions)).toThrow(/randomCrop: options.padding is required/);
    expect(() => tl.randomCrop(X, { padding: -1 })).toThrow(/randomCrop: options.padding must be in \[0, /);
    expect(() => tl.cutout(X, { size: 2.5 })).toThrow(/cutout: options.size must be an integer/);
    expect(() => tl.mixup(X, [0, 1], { alpha: 0, numClasses: 2 })).toThrow(/mixup: options.alpha must be > 0/);
    expect(() => tl.mixup(X, [0, 1], { alpha: 1 })).toThrow(/mixup: options.numClasses is required with integer labels/);
    expect(() => tl.mixup(X, [0, 2], { alpha: 1, numClasses: 2 })).toThrow(/mixup: y\[1\] must be an integer class index in \[0, 2\)/);
    expect(() => tl.randomFlip(tl.keep(tl.zeros([2, 9])))).toThrow(/randomFlip: x must have 4 dimensions/);
    expect(() => tl.randomFlip(X, { seed: -1 })).toThrow(/randomFlip: options.seed must be in \[0, 4294967295\]/);
    expect(() => tl.randomFlip(X, { offset: 3 })).toThrow(/options.offset needs options.seed/);
    expect(() => tl.randomFlip(X, { seed: 1, out: X })).toThrow(/randomFlip: options.out must not overlap x/);
    expect(() => tl.randomCrop(X, { padding: 1, out: wide })).toThrow(
      /randomCrop: options.out must have shape \[2, 1, 3, 3\] \(x's shape\) \(got \[2, 1, 3, 4\]\)/,
    );
    expect(() => tl.cutout(X, { size: 1, out: f64 })).toThrow(/cutout: x is float32 but options.out is float64/);
    expect(() => tl.mixup(X, [0, 1], { alpha: 1, numClasses: 2, out: [X, X] as never })).toThrow(/mixup: options.out\[0\] must not overlap x/);
    expect(() => tl.mixup(X, [0, 1], { alpha: 1, numClasses: 2, out: X as never })).toThrow(
      /mixup: options.out must be \[xOut, yOut\], two tensors \(got a tensor of shape \[2, 1, 3, 3\]\)/,
    );
    expect(() => tl.randomFlip(X, { q: 1 } as never)).toThrow(/unknown option "q"/);
    expect(tl.memory().bytes - before.bytes).toBe(2 * 9 * 4); // only the [2, 9] zeros made above
    const ok = tl.randomFlip(X, { seed: 1 });
    expect(ok.shape).toEqual([2, 1, 3, 3]);
    ok.dispose();
    // Found by the fuzz: missing integer labels are a named TypeError before anything is drawn, not a crash reading y.ptr.
    const [xOut, yOut] = [tl.keep(tl.zeros([2, 1, 3, 3])), tl.keep(tl.zeros([2, 2]))];
    expect(() => tl.mixup(X, undefined as never, { alpha: 1, numClasses: 2, out: [xOut, yOut] })).toThrow(/^mixup: y must be/);
    expect(() => tl.mixup(X, [0, 1], { alpha: 1, numClasses: 2, out: [xOut, labels3] })).toThrow(
      /^mixup: options.out\[1\] must have shape \[2, 2\] \(N x numClasses\)/,
    );
    for (const t of [xOut, yOut, wide, f64, labels3]) t.dispose();
  });
});
