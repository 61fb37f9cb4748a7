import { maxpool_forward, maxpool_backward } from "../pool";
import { maxpool_forward__scalar, maxpool_backward__scalar } from "../reference/pool";
import { SHIFT } from "../real";
import { DTYPE, pattern, buffer, firstDifference, guardIntact } from "./helpers";

// (planes, H, W, ph, pw, stride): 2x2 stride 2 (LANES outputs per step: 2 · LANES input columns,
// 8 for f32 and 4 for f64) at widths below/at/above 8 and odd sizes (the last row/column lies in
// no window), then other windows (SIMD for strides 1 and 2, scalar for 3), overlapping ones
// (stride < window), non-square windows and the whole plane as one window.
const CASES: i32[][] = [
  [1, 2, 2, 2, 2, 2],
  [3, 4, 6, 2, 2, 2],
  [2, 8, 8, 2, 2, 2],
  [2, 9, 11, 2, 2, 2],
  [2, 7, 17, 2, 2, 2],
  [1, 32, 33, 2, 2, 2],
  [2, 7, 7, 3, 3, 2],
  [2, 6, 9, 3, 3, 1],
  [2, 5, 8, 2, 3, 1],
  [1, 6, 7, 1, 1, 1],
  [1, 10, 9, 3, 2, 3],
  [2, 5, 4, 5, 4, 1],
  [1, 6, 6, 2, 2, 1],
  // Row tails: the last vector overlaps the previous one (Wo % LANES != 0), or a row narrower than
  // LANES stores only its first lanes (and reads past its row only while inside the input).
  [2, 7, 7, 2, 2, 2],
  [3, 14, 14, 2, 2, 2],
  [2, 28, 28, 2, 2, 2],
  [2, 15, 15, 3, 3, 2],
  [2, 9, 9, 3, 3, 2],
  [1, 5, 5, 3, 3, 2],
  [2, 16, 12, 3, 3, 2],
  [2, 9, 10, 3, 3, 1],
  [2, 6, 5, 3, 3, 1],
  [3, 4, 4, 3, 3, 1],
  [1, 4, 13, 1, 5, 1],
  [1, 8, 11, 4, 3, 2],
  [2, 3, 3, 3, 3, 1],
];

function label(c: i32[]): string {
  return "planes=" + c[0].toString() + " H=" + c[1].toString() + " W=" + c[2].toString() + " window=" + c[3].toString() +
    "x" + c[4].toString() + " stride=" + c[5].toString();
}

function agree(name: string, n: i32, fast: usize, slow: usize): void {
  const at = firstDifference(fast, slow, n);
  expect<i32>(at).toBe(-1, DTYPE + " " + name + " differs at " + at.toString());
  expect<bool>(guardIntact(fast, n)).toBe(true, DTYPE + " " + name + " wrote past the end");
}

function at(p: usize, i: i32): real {
  return load<real>(p + (<usize>i << SHIFT));
}

function put(p: usize, i: i32, v: real): void {
  store<real>(p + (<usize>i << SHIFT), v);
}

describe("max-pool vs scalar twins, " + DTYPE, () => {
  it("forward values and argmax, bit for bit", () => {
    for (let t = 0; t < CASES.length; t++) {
      const c = CASES[t];
      const planes = c[0], H = c[1], W = c[2], ph = c[3], pw = c[4], s = c[5];
      const Ho = (H - ph) / s + 1, Wo = (W - pw) / s + 1;
      const x = pattern(planes * H * W, t + 1);
      const n = planes * Ho * Wo;
      const o1 = buffer(n), a1 = buffer(n), o2 = buffer(n), a2 = buffer(n);
      maxpool_forward(o1, a1, x, planes, H, W, ph, pw, s, Ho, Wo);
      maxpool_forward__scalar(o2, a2, x, planes, H, W, ph, pw, s, Ho, Wo);
      agree("forward out " + label(c), n, o1, o2);
      agree("forward argmax " + label(c), n, a1, a2);
      // argmax = 0 (inference): the same maxima, nothing else written.
      const o3 = buffer(n);
      memory.fill(o3, 0x7f, <usize>n << SHIFT);
      maxpool_forward(o3, 0, x, planes, H, W, ph, pw, s, Ho, Wo);
      agree("forward out without argmax " + label(c), n, o3, o2);
    }
  });
  it("without argmax: NaN and ties as with it", () => {
    // 2x2 windows over [NaN 1 | 2 2], [-0 0 | 0 -0], [1 NaN | NaN 3], [5 5 | 5 5] (one row pair).
    const x = buffer(16);
    const top: real[] = [NaN, 1, -0.0, 0, 1, NaN, 5, 5], bottom: real[] = [2, 2, 0, -0.0, NaN, 3, 5, 5];
    for (let i = 0; i < 8; i++) { store<real>(x + (<usize>i << SHIFT), top[i]); store<real>(x + (<usize>(8 + i) << SHIFT), bottom[i]); }
    const o1 = buffer(4), a1 = buffer(4), o2 = buffer(4);
    maxpool_forward(o1, a1, x, 1, 2, 8, 2, 2, 2, 1, 4);
    maxpool_forward(o2, 0, x, 1, 2, 8, 2, 2, 2, 1, 4);
    agree("NaN/ties", 4, o2, o1);
  });
  it("NaN anywhere in a window wins, in every SIMD path (its gradient goes to the last NaN)", () => {
    for (let t = 0; t < CASES.length; t++) {
      const c = CASES[t];
      const planes = c[0], H = c[1], W = c[2], ph = c[3], pw = c[4], s = c[5];
      const Ho = (H - ph) / s + 1, Wo = (W - pw) / s + 1;
      const m = planes * H * W, n = planes * Ho * Wo;
      const x = pattern(m, t + 90);
      for (let i = t % 5; i < m; i += 5 + t % 3) store<real>(x + (<usize>i << SHIFT), NaN);
      const o1 = buffer(n), a1 = buffer(n), o2 = buffer(n), a2 = buffer(n);
      maxpool_forward(o1, a1, x, planes, H, W, ph, pw, s, Ho, Wo);
      maxpool_forward__scalar(o2, a2, x, planes, H, W, ph, pw, s, Ho, Wo);
      agree("forward out with NaN " + label(c), n, o1, o2);
      agree("forward argmax with NaN " + label(c), n, a1, a2);
      const dout = pattern(n, t + 95), d1 = buffer(m), d2 = buffer(m);
      maxpool_backward(d1, dout, a1, planes, H, W, ph, pw, s, Ho, Wo);
      maxpool_backward__scalar(d2, dout, a2, planes, H, W, ph, pw, s, Ho, Wo);
      agree("backward with NaN " + label(c), m, d1, d2);
    }
  });
  it("backward, bit for bit, overlapping windows accumulate", () => {
    for (let t = 0; t < CASES.length; t++) {
      const c = CASES[t];
      const planes = c[0], H = c[1], W = c[2], ph = c[3], pw = c[4], s = c[5];
      const Ho = (H - ph) / s + 1, Wo = (W - pw) / s + 1;
      // Few distinct values, so ties and repeated winners across overlapping windows occur.
      const x = pattern(planes * H * W, t + 50);
      for (let i = 0; i < planes * H * W; i++) store<real>(x + (<usize>i << SHIFT), floor<real>(load<real>(x + (<usize>i << SHIFT)) * 3));
      const n = planes * Ho * Wo, m = planes * H * W;
      const o = buffer(n), a = buffer(n), dout = pattern(n, t + 70);
      maxpool_forward(o, a, x, planes, H, W, ph, pw, s, Ho, Wo);
      const d1 = buffer(m), d2 = buffer(m);
      memory.fill(d1, 0x7f, <usize>m << SHIFT); // garbage: every element must be written
      maxpool_backward(d1, dout, a, planes, H, W, ph, pw, s, Ho, Wo);
      maxpool_backward__scalar(d2, dout, a, planes, H, W, ph, pw, s, Ho, Wo);
      agree("backward " + label(c), m, d1, d2);
    }
  });
  it("by hand: 4x4 plane, 2x2 stride 2, ties go to the first, NaN wins", () => {
    const x = buffer(16);
    const v: real[] = [1, 5, 2, 0, 3, 4, 2, 1, -1, -2, 7, 7, -3, -4, 7, NaN];
    for (let i = 0; i < 16; i++) store<real>(x + (<usize>i << SHIFT), v[i]);
    const o = buffer(4), a = buffer(4);
    maxpool_forward(o, a, x, 1, 4, 4, 2, 2, 2, 2, 2);
    expect<real>(at(o, 0)).toBe(5);
    expect<real>(at(a, 0)).toBe(1);
    expect<real>(at(o, 1)).toBe(2);
    expect<real>(at(a, 1)).toBe(2, "tie 2 vs 2: first in row-major order");
    expect<real>(at(o, 2)).toBe(-1);
    expect<real>(at(a, 2)).toBe(8);
    expect<bool>(isNaN(at(o, 3))).toBe(true, "NaN propagates");
    expect<real>(at(a, 3)).toBe(15);
  });
  it("by hand: 1x3 plane, window 1x2 stride 1: the middle element collects both gradients", () => {
    const x = buffer(3);
    put(x, 0, 1); put(x, 1, 9); put(x, 2, 2);
    const o = buffer(2), a = buffer(2), g = buffer(2), dx = buffer(3);
    maxpool_forward(o, a, x, 1, 1, 3, 1, 2, 1, 1, 2);
    put(g, 0, 0.5); put(g, 1, 0.25);
    maxpool_backward(dx, g, a, 1, 1, 3, 1, 2, 1, 1, 2);
    expect<real>(at(dx, 0)).toBe(0);
    expect<real>(at(dx, 1)).toBe(0.75);
    expect<real>(at(dx, 2)).toBe(0);
  });
});
