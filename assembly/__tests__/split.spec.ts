// The range and chunk entry points that let one wasm call do one thread's share (issue 11), for
// the reductions, the losses and the random streams (GEMM, conv and batch norm have theirs in
// their own specs). Each is checked against its scalar twin and against one call over the whole
// range: a split into pieces (unaligned boundaries, one-element and empty pieces) must give the
// same bits as one call, and must not touch anything outside its piece.
import { sum_rows_range, f64_mean, f64_sum, sum_squares, sum_abs, sum_squares_chunks, sum_abs_chunks } from "../reduce";
import { sum_rows__scalar, f64_mean__scalar, sum_squares__scalar, sum_abs__scalar } from "../reference/reduce";
import { softmax_loss_rows, svm_loss_rows } from "../loss";
import { softmax_loss, svm_loss } from "./whole";
import { rand_uniform, rand_normal, dropout_mask, i32_rand_below } from "../random";
import { maxpool_forward, maxpool_backward } from "../pool";
import { SHIFT } from "../real";
import { DTYPE, LENGTHS, pattern, buffer, firstDifference, firstIntDifference, guardIntact, ints, intsGuardIntact } from "./helpers";

function same(name: string, a: usize, b: usize, n: i32): void {
  const at = firstDifference(a, b, n);
  expect<i32>(at).toBe(-1, DTYPE + " " + name + " differs at " + at.toString());
}

/** Cut points of [0, n): 0, 1, a point not on a multiple of 4, n (duplicates give empty pieces). */
function cuts(n: i32): i32[] {
  return [0, min(1, n), min(1, n), min(7, n), n];
}

// ---------------------------------------------------------------------------------------------

describe("column sums and losses by ranges", () => {
  it("sum_rows_range: column ranges give the twin's bits (rows 0, 1, 5; cols in LENGTHS)", () => {
    for (let r = 0; r <= 5; r += r < 1 ? 1 : 4) {
      for (let l = 0; l < LENGTHS.length; l++) {
        const cols = LENGTHS[l];
        const x = pattern(r * cols, 70), y0 = pattern(cols, 71);
        const a = buffer(cols), b = buffer(cols);
        memory.copy(a, y0, <usize>cols << SHIFT);
        memory.copy(b, y0, <usize>cols << SHIFT);
        const c = cuts(cols);
        for (let k = 0; k + 1 < c.length; k++) sum_rows_range(a, x, r, cols, true, c[k], c[k + 1]);
        sum_rows__scalar(b, x, r, cols, true);
        same("sum_rows accumulate rows=" + r.toString() + " cols=" + cols.toString(), a, b, cols);
        for (let k = 0; k + 1 < c.length; k++) sum_rows_range(a, x, r, cols, false, c[k], c[k + 1]);
        sum_rows__scalar(b, x, r, cols, false);
        same("sum_rows rows=" + r.toString() + " cols=" + cols.toString(), a, b, cols);
        expect<bool>(guardIntact(a, cols)).toBe(true, "sum_rows_range wrote past the end");
      }
    }
  });

  it("softmax and SVM loss by row ranges + f64_mean give the whole kernel's loss and dscores bit for bit", () => {
    for (let n = 1; n <= 17; n += 8) {
      for (let c = 1; c <= 10; c += 3) {
        const tag = " n=" + n.toString() + " c=" + c.toString();
        const scores = pattern(n * c, 80 + c);
        const y = heap.alloc(<usize>n << 2);
        for (let i = 0; i < n; i++) store<i32>(y + (<usize>i << 2), (i * 7 + 3) % c);
        const rows = heap.alloc(<usize>n << 3);
        const r = cuts(n);
        for (let kind = 0; kind < 2; kind++) {
          const d1 = buffer(n * c), d2 = buffer(n * c);
          const want = kind == 0 ? softmax_loss(d1, scores, y, n, c) : svm_loss(d1, scores, y, n, c);
          for (let k = 0; k + 1 < r.length; k++) {
            if (kind == 0) softmax_loss_rows(rows, d2, scores, y, n, c, r[k], r[k + 1]);
            else svm_loss_rows(rows, d2, scores, y, n, c, r[k], r[k + 1]);
          }
          const got = f64_mean(rows, n);
          expect<f64>(got).toBe(want, (kind == 0 ? "softmax" : "svm") + " loss" + tag);
          expect<f64>(f64_mean__scalar(rows, n)).toBe(got, "f64_mean vs twin" + tag);
          same((kind == 0 ? "softmax" : "svm") + " dscores" + tag, d2, d1, n * c);
        }
      }
    }
  });
});

describe("counter-based random kernels by ranges", () => {
  it("elements [i0, i1) drawn at offset + i0 equal the same elements of one call (uniform, normal, dropout mask, below)", () => {
    const n = 1001;
    const c = cuts(n);
    for (let kind = 0; kind < 4; kind++) {
      const integers = kind == 3; // i32_rand_below writes i32 in both dtypes
      const a = integers ? ints(n) : buffer(n), b = integers ? ints(n) : buffer(n);
      for (let part = -1; part + 1 < c.length; part++) {
        // part -1: one call over everything into a; then the pieces into b.
        const i0 = part < 0 ? 0 : c[part], i1 = part < 0 ? n : c[part + 1];
        const dst = (part < 0 ? a : b) + (<usize>i0 << (integers ? 2 : SHIFT));
        const offset = <f64>(12345 + i0);
        if (kind == 0) rand_uniform(dst, i1 - i0, 77, offset, 0, 1);
        else if (kind == 1) rand_normal(dst, i1 - i0, 77, offset, 0.5, 2);
        else if (kind == 2) dropout_mask(dst, i1 - i0, 0.3, 77, offset);
        else i32_rand_below(dst, i1 - i0, 1000, 77, offset);
      }
      const tag = DTYPE + " random kind " + kind.toString();
      if (integers) {
        expect<i32>(firstIntDifference(b, a, n)).toBe(-1, tag);
        expect<bool>(intsGuardIntact(b, n)).toBe(true, tag + " wrote past the end");
      } else {
        same("random kind " + kind.toString(), b, a, n);
        expect<bool>(guardIntact(b, n)).toBe(true, tag + " wrote past the end");
      }
    }
  });
});

describe("sums of squares and absolute values in chunks", () => {
  it("each chunk equals the whole-array kernel on its slice; one chunk equals it on everything; totals near the exact-term twin; any chunk ranges agree", () => {
    const n = 1003;
    const x = pattern(n, 90);
    for (let chunk = 1; chunk <= 2000; chunk = chunk * 7 + 2) {
      const chunks = (n + chunk - 1) / chunk;
      const a = heap.alloc(<usize>chunks << 3), b = heap.alloc(<usize>chunks << 3);
      for (let kind = 0; kind < 2; kind++) {
        if (kind == 0) sum_squares_chunks(a, x, n, chunk, 0, chunks);
        else sum_abs_chunks(a, x, n, chunk, 0, chunks);
        const cut = min(1, chunks);
        for (let k = 0; k < 3; k++) {
          const q0 = k == 0 ? 0 : k == 1 ? cut : cut, q1 = k == 0 ? cut : k == 1 ? cut : chunks;
          if (kind == 0) sum_squares_chunks(b, x, n, chunk, q0, q1);
          else sum_abs_chunks(b, x, n, chunk, q0, q1);
        }
        const tag = (kind == 0 ? " squares" : " abs") + " chunk=" + chunk.toString();
        for (let q = 0; q < chunks; q++) {
          const i0 = q * chunk, len = min(n, i0 + chunk) - i0;
          const want = kind == 0 ? sum_squares(x + (<usize>i0 << SHIFT), len) : sum_abs(x + (<usize>i0 << SHIFT), len);
          expect<f64>(load<f64>(a + (<usize>q << 3))).toBe(want, "chunk " + q.toString() + tag);
          expect<f64>(load<f64>(b + (<usize>q << 3))).toBe(want, "chunk ranges " + q.toString() + tag);
        }
        const total = f64_sum(a, chunks);
        if (chunks == 1) expect<f64>(total).toBe(kind == 0 ? sum_squares(x, n) : sum_abs(x, n), "one chunk" + tag);
        const exact = kind == 0 ? sum_squares__scalar(x, n) : sum_abs__scalar(x, n);
        expect<bool>(Math.abs(total - exact) <= 1e-6 * exact).toBe(true, "vs the exact-term twin" + tag);
      }
    }
  });
});

// Max-pool splits by planes (ops/pool.ts): a piece's row tails may read past its last plane (the
// input is only read) but must write only its own planes.
describe("max-pool by plane ranges", () => {
  it("planes [0, 1), [1, 1), [1, 4), [4, planes) give the bits of one call and write only their planes", () => {
    // (planes, H, W, window, stride): the overlapping last vector, a row narrower than a vector, 3x3 stride 2 and 1
    const CASES: i32[][] = [[6, 14, 14, 2, 2], [5, 7, 7, 2, 2], [5, 9, 9, 3, 2], [6, 6, 6, 3, 1], [5, 5, 5, 3, 2]];
    for (let t = 0; t < CASES.length; t++) {
      const c = CASES[t];
      const planes = c[0], H = c[1], W = c[2], k = c[3], s = c[4];
      const Ho = (H - k) / s + 1, Wo = (W - k) / s + 1;
      const n = planes * Ho * Wo, m = planes * H * W, per = Ho * Wo, perIn = H * W;
      const tag = " " + DTYPE + " planes=" + planes.toString() + " " + H.toString() + "x" + W.toString() + " window " + k.toString() + " stride " + s.toString();
      const x = pattern(m, 60 + t), dout = pattern(n, 65 + t);
      const o1 = buffer(n), a1 = buffer(n), d1 = buffer(m);
      maxpool_forward(o1, a1, x, planes, H, W, k, k, s, Ho, Wo);
      maxpool_backward(d1, dout, a1, planes, H, W, k, k, s, Ho, Wo);
      const o2 = buffer(n), a2 = buffer(n), d2 = buffer(m);
      const cutsP: i32[] = [0, 1, 1, 4, planes];
      for (let r = 0; r + 1 < cutsP.length; r++) {
        const p0 = cutsP[r], p1 = cutsP[r + 1];
        const ob = <usize>(p0 * per) << SHIFT, ib = <usize>(p0 * perIn) << SHIFT;
        maxpool_forward(o2 + ob, a2 + ob, x + ib, p1 - p0, H, W, k, k, s, Ho, Wo);
        maxpool_backward(d2 + ib, dout + ob, a2 + ob, p1 - p0, H, W, k, k, s, Ho, Wo);
      }
      same("pieces out" + tag, o2, o1, n);
      same("pieces argmax" + tag, a2, a1, n);
      same("pieces dx" + tag, d2, d1, m);
      // Planes [1, 3) alone: the other planes keep their sentinel.
      const o3 = buffer(n), d3 = buffer(m);
      for (let i = 0; i < n; i++) store<real>(o3 + (<usize>i << SHIFT), 99);
      for (let i = 0; i < m; i++) store<real>(d3 + (<usize>i << SHIFT), 99);
      maxpool_forward(o3 + (<usize>per << SHIFT), 0, x + (<usize>perIn << SHIFT), 2, H, W, k, k, s, Ho, Wo);
      maxpool_backward(d3 + (<usize>perIn << SHIFT), dout + (<usize>per << SHIFT), a1 + (<usize>per << SHIFT), 2, H, W, k, k, s, Ho, Wo);
      let outside = true;
      for (let i = 0; i < n; i++) if ((i < per || i >= 3 * per) && load<real>(o3 + (<usize>i << SHIFT)) != 99) outside = false;
      for (let i = 0; i < m; i++) if ((i < perIn || i >= 3 * perIn) && load<real>(d3 + (<usize>i << SHIFT)) != 99) outside = false;
      expect<bool>(outside).toBe(true, "a piece wrote outside its planes" + tag);
      same("planes 1..3 out" + tag, o3 + (<usize>per << SHIFT), o1 + (<usize>per << SHIFT), 2 * per);
      expect<bool>(guardIntact(o2, n) && guardIntact(a2, n) && guardIntact(d2, m)).toBe(true, "overrun" + tag);
    }
  });
});
