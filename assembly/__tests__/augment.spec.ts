import {
  random_flip, random_crop, cutout, mix_rows, one_hot, i32_random_permutation, f64_random_beta, logGamma,
  convert_u8_lut, cropDy, cropDx,
} from "../augment";
import {
  random_flip__scalar, random_crop__scalar, cutout__scalar, mix_rows__scalar, gather_u8_normalize__scalar,
} from "../reference/augment";
import { SHIFT } from "../real";
import { mix64, streamKey } from "../random";
import { DTYPE, pattern, buffer, firstDifference, guardIntact } from "./helpers";

// Shapes (n, c, h, w) with widths below, at and above the lane width (4 f32, 2 f64), odd, 1-wide and
// 1-high. The image kernels run in both dtypes; the permutation and Beta draws are dtype-neutral.
const SHAPES: i32[][] = [
  [1, 1, 1, 1], [2, 1, 1, 3], [3, 1, 2, 4], [2, 3, 3, 5], [4, 2, 5, 7], [3, 3, 8, 8], [2, 1, 4, 17], [5, 3, 9, 6],
];

function tagOf(s: i32[], extra: string): string {
  return " n=" + s[0].toString() + " c=" + s[1].toString() + " h=" + s[2].toString() + " w=" + s[3].toString() + " " + extra;
}

function sameBits(a: usize, b: usize, count: i32, tag: string): void {
  const d = firstDifference(a, b, count);
  expect<i32>(d).toBe(-1, DTYPE + " " + tag + " first difference at " + d.toString());
  expect<bool>(guardIntact(a, count)).toBe(true, DTYPE + " " + tag + " wrote past the end");
}

describe("random_flip vs scalar twin (bit-exact), " + DTYPE, () => {
  it("shapes grid, p in 0, 0.3, 0.5, 1, two seeds and offsets", () => {
    const ps: f32[] = [0, 0.3, 0.5, 1];
    for (let s = 0; s < SHAPES.length; s++) {
      const sh = SHAPES[s];
      const count = sh[0] * sh[1] * sh[2] * sh[3];
      const x = pattern(count, s + 1);
      for (let q = 0; q < ps.length; q++) {
        for (let seed: u32 = 1; seed <= 2; seed++) {
          const a = buffer(count), b = buffer(count);
          random_flip(a, x, sh[0], sh[1], sh[2], sh[3], ps[q], seed, <f64>(seed * 17));
          random_flip__scalar(b, x, sh[0], sh[1], sh[2], sh[3], ps[q], seed, <f64>(seed * 17));
          sameBits(a, b, count, "flip" + tagOf(sh, "p=" + ps[q].toString()));
          if (ps[q] == 0) sameBits(a, x, count, "flip p=0 copies" + tagOf(sh, ""));
        }
      }
    }
  });
  it("p = 1 by hand: [[1, 2, 3, 4, 5]] -> [[5, 4, 3, 2, 1]]", () => {
    const x = buffer(5), y = buffer(5);
    for (let k = 0; k < 5; k++) store<real>(x + (<usize>k << SHIFT), <real>(k + 1));
    random_flip(y, x, 1, 1, 1, 5, 1, 9, 0);
    for (let k = 0; k < 5; k++) expect<real>(load<real>(y + (<usize>k << SHIFT))).toBe(<real>5 - <real>k);
  });
});

describe("random_crop vs scalar twin (bit-exact), " + DTYPE, () => {
  it("shapes grid, pad in 0, 1, 2, 4, 9 (larger than the image)", () => {
    const pads: i32[] = [0, 1, 2, 4, 9];
    for (let s = 0; s < SHAPES.length; s++) {
      const sh = SHAPES[s];
      const count = sh[0] * sh[1] * sh[2] * sh[3];
      const x = pattern(count, s + 7);
      for (let q = 0; q < pads.length; q++) {
        const a = buffer(count), b = buffer(count);
        random_crop(a, x, sh[0], sh[1], sh[2], sh[3], pads[q], 5, 3);
        random_crop__scalar(b, x, sh[0], sh[1], sh[2], sh[3], pads[q], 5, 3);
        sameBits(a, b, count, "crop" + tagOf(sh, "pad=" + pads[q].toString()));
        if (pads[q] == 0) sameBits(a, x, count, "crop pad=0 copies" + tagOf(sh, ""));
      }
    }
  });
  it("every offset (dy, dx) in [-2, 2]^2 occurs, each within 5 sigma of 1/25 over 100k images", () => {
    const key = streamKey(11);
    const counts = new StaticArray<i32>(25);
    const draws = 100000;
    let outside = 0;
    for (let i = 0; i < draws; i++) {
      const dy = cropDy(key, <u64>i, 2), dx = cropDx(key, <u64>i, 2);
      if (dy < -2 || dy > 2 || dx < -2 || dx > 2) outside++;
      else counts[(dy + 2) * 5 + dx + 2]++;
    }
    expect<i32>(outside).toBe(0, "offsets out of range");
    const p: f64 = 1.0 / 25.0;
    const sigma = Math.sqrt(p * (1 - p) * <f64>draws);
    for (let k = 0; k < 25; k++) {
      expect<bool>(Math.abs(<f64>counts[k] - p * <f64>draws) <= 5 * sigma).toBe(true, "offset " + k.toString() + " count " + counts[k].toString());
    }
  });
});

describe("cutout vs scalar twin (bit-exact), " + DTYPE, () => {
  it("shapes grid, size in 0, 1, 2, 3, 4, 20 (larger than the image)", () => {
    const sizes: i32[] = [0, 1, 2, 3, 4, 20];
    for (let s = 0; s < SHAPES.length; s++) {
      const sh = SHAPES[s];
      const count = sh[0] * sh[1] * sh[2] * sh[3];
      const x = pattern(count, s + 3);
      for (let q = 0; q < sizes.length; q++) {
        const a = buffer(count), b = buffer(count);
        cutout(a, x, sh[0], sh[1], sh[2], sh[3], sizes[q], 8, 100);
        cutout__scalar(b, x, sh[0], sh[1], sh[2], sh[3], sizes[q], 8, 100);
        sameBits(a, b, count, "cutout" + tagOf(sh, "size=" + sizes[q].toString()));
        if (sizes[q] == 0) sameBits(a, x, count, "cutout size=0 copies" + tagOf(sh, ""));
      }
    }
  });
  it("size >= 2 h - 1 blanks the whole image whatever the centre", () => {
    const x = pattern(2 * 3 * 4 * 5, 4), y = buffer(2 * 3 * 4 * 5);
    cutout(y, x, 2, 3, 4, 5, 9, 3, 0);
    for (let k = 0; k < 120; k++) expect<real>(load<real>(y + (<usize>k << SHIFT))).toBe(0);
  });
});

describe("mixup pieces, " + DTYPE, () => {
  it("mix_rows vs scalar twin (bit-exact), row sizes 1, 3, 4, 5, 17, 3072; lam 0, 0.3, 1", () => {
    const sizes: i32[] = [1, 3, 4, 5, 17, 3072];
    const lams: f64[] = [0, 0.3, 1];
    const n = 7;
    const perm = buffer(n);
    i32_random_permutation(perm, n, 4, 0);
    for (let s = 0; s < sizes.length; s++) {
      const x = pattern(n * sizes[s], s);
      for (let q = 0; q < lams.length; q++) {
        const a = buffer(n * sizes[s]), b = buffer(n * sizes[s]);
        mix_rows(a, x, perm, n, sizes[s], lams[q]);
        mix_rows__scalar(b, x, perm, n, sizes[s], lams[q]);
        sameBits(a, b, n * sizes[s], "mix rows size=" + sizes[s].toString() + " lam=" + lams[q].toString());
        if (lams[q] == 1) sameBits(a, x, n * sizes[s], "lam = 1 keeps the image");
      }
    }
  });
  it("i32_random_permutation is a permutation, and each value lands at each position about equally (n = 5, 50k draws)", () => {
    const n = 5, draws = 50000;
    const perm = buffer(n);
    const counts = new StaticArray<i32>(n * n);
    let bad = 0;
    for (let t = 0; t < draws; t++) {
      i32_random_permutation(perm, n, 21, <f64>(t * n));
      let seen = 0;
      for (let i = 0; i < n; i++) {
        const v = load<i32>(perm + (<usize>i << 2));
        seen |= 1 << v;
        counts[i * n + v]++;
      }
      if (seen != (1 << n) - 1) bad++;
    }
    expect<i32>(bad).toBe(0, "draws that were not permutations");
    const p: f64 = 1.0 / <f64>n;
    const sigma = Math.sqrt(p * (1 - p) * <f64>draws);
    for (let k = 0; k < n * n; k++) expect<bool>(Math.abs(<f64>counts[k] - p * <f64>draws) <= 5 * sigma).toBe(true, "cell " + k.toString());
  });
  it("log Gamma(a) draws: mean of exp within 5 sigma of a, a in 0.05, 0.2, 1, 2.5, 30 (20k draws)", () => {
    const shapes: f64[] = [0.05, 0.2, 1, 2.5, 30];
    const draws = 20000;
    for (let q = 0; q < shapes.length; q++) {
      const a = shapes[q];
      let sum: f64 = 0, bad = 0;
      for (let t = 0; t < draws; t++) {
        const g = Math.exp(logGamma(a, mix64(<u64>(t + 1) * 0x9e3779b97f4a7c15)));
        if (!(g >= 0 && isFinite(g))) bad++;
        sum += g;
      }
      expect<i32>(bad).toBe(0, "negative or non-finite draws");
      const sigma = Math.sqrt(a / <f64>draws); // Var Gamma(a, 1) = a
      expect<bool>(Math.abs(sum / <f64>draws - a) <= 5 * sigma).toBe(true, "a=" + a.toString() + " mean " + (sum / <f64>draws).toString());
    }
  });
  it("Beta(alpha, alpha): in [0, 1], mean 1/2 and variance 1/(4 (2 alpha + 1)) within 5 sigma, alpha in 0.2, 1, 4 (20k draws)", () => {
    const alphas: f64[] = [0.2, 1, 4];
    const draws = 20000;
    for (let q = 0; q < alphas.length; q++) {
      const a = alphas[q];
      let sum: f64 = 0, sumSq: f64 = 0, bad = 0;
      for (let t = 0; t < draws; t++) {
        const lam = f64_random_beta(a, 77, <f64>t);
        if (!(lam >= 0 && lam <= 1)) bad++;
        sum += lam;
        sumSq += (lam - 0.5) * (lam - 0.5);
      }
      expect<i32>(bad).toBe(0, "lam outside [0, 1]");
      const variance: f64 = 1.0 / (4 * (2 * a + 1));
      const mean = sum / <f64>draws;
      expect<bool>(Math.abs(mean - 0.5) <= 5 * Math.sqrt(variance / <f64>draws)).toBe(true, "alpha=" + a.toString() + " mean " + mean.toString());
      // E[(lam - 1/2)^4] for Beta(a, a) = 3 / (16 (2a + 1)(2a + 3)); its spread bounds the variance estimate.
      const m4: f64 = 3.0 / (16 * (2 * a + 1) * (2 * a + 3));
      const sd = Math.sqrt((m4 - variance * variance) / <f64>draws);
      expect<bool>(Math.abs(sumSq / <f64>draws - variance) <= 5 * sd).toBe(true, "alpha=" + a.toString() + " variance " + (sumSq / <f64>draws).toString());
    }
  });
  it("tiny alpha (1e-3) stays finite: lam is within 1e-6 of 0 or 1 in nearly every draw", () => {
    let extreme = 0, bad = 0;
    for (let t = 0; t < 1000; t++) {
      const lam = f64_random_beta(1e-3, 5, <f64>t);
      if (!(lam >= 0 && lam <= 1)) bad++;
      if (lam < 1e-6 || lam > 1 - 1e-6) extreme++;
    }
    expect<i32>(bad).toBe(0);
    expect<bool>(extreme >= 950).toBe(true, "extreme draws " + extreme.toString());
  });
  it("one_hot", () => {
    const y = buffer(3), out = buffer(12);
    store<i32>(y, 2); store<i32>(y + 4, 0); store<i32>(y + 8, 3);
    one_hot(out, y, 3, 4);
    const want: real[] = [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1];
    for (let k = 0; k < 12; k++) expect<real>(load<real>(out + (<usize>k << SHIFT))).toBe(want[k]);
    expect<bool>(guardIntact(out, 12)).toBe(true);
  });
});

describe("bytes to normalized floats, " + DTYPE, () => {
  it("convert_u8_lut vs the definition (v/255 - mean)/std in f64 (bit-exact), every byte value, 3 channels", () => {
    const n = 6, c = 3, plane = 13, count = n * c * plane;
    const bytes = heap.alloc(<usize>count);
    for (let k = 0; k < count; k++) store<u8>(bytes + <usize>k, <u8>((k * 97 + 13) & 255));
    store<u8>(bytes, 0); store<u8>(bytes + 1, 255);
    const mean = heap.alloc(24), std = heap.alloc(24);
    const means: f64[] = [0.2860, 0.5, 0], stds: f64[] = [0.3530, 0.25, 1];
    for (let ch = 0; ch < c; ch++) { store<f64>(mean + (<usize>ch << 3), means[ch]); store<f64>(std + (<usize>ch << 3), stds[ch]); }
    const lut = heap.alloc(<usize>(c * 256) << SHIFT);
    for (let ch = 0; ch < c; ch++) for (let v = 0; v < 256; v++) store<real>(lut + (<usize>(ch * 256 + v) << SHIFT), <real>((<f64>v / 255 - means[ch]) / stds[ch]));
    const all = buffer(count), ids = buffer(n), ref = buffer(count);
    for (let i = 0; i < n; i++) store<i32>(ids + (<usize>i << 2), i);
    convert_u8_lut(all, bytes, n, c, plane, lut);
    gather_u8_normalize__scalar(ref, bytes, ids, n, c, plane, mean, std);
    sameBits(all, ref, count, "convert");
    // The table is indexed per channel: the same byte in channels 0 and 1 gives different values.
    expect<bool>(load<real>(lut + ((256 + 7) << SHIFT)) != load<real>(lut + (7 << SHIFT))).toBe(true);
  });
});
