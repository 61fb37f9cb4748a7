// The range and chunk entry points that let one wasm call do one thread's share (issue 11).
// Each is checked against its scalar twin and against one call over the whole range: a split into
// pieces (unaligned boundaries, one-element and empty pieces) must give the same bits as one
// call, and must not touch anything outside its piece.
import {
  f32_batchnorm_forward_train_range, f32_batchnorm_forward_test_range, f32_batchnorm_backward_range,
  f32_spatial_batchnorm_forward_train_range, f32_spatial_batchnorm_forward_test_range, f32_spatial_batchnorm_backward_range,
  f32_spatial_bn_sums_chunks, f32_spatial_bn_squares_chunks, f32_spatial_bn_normalize_chunks,
  f32_spatial_bn_backward_sums_chunks, f32_spatial_bn_backward_dx_chunks,
} from "../batchnorm";
import { f32_batchnorm_forward_train__scalar, f32_batchnorm_backward__scalar } from "../reference/batchnorm";
import { f32_sum_rows_range, f64_mean, f64_sum, f32_sum_squares, f32_sum_abs, f32_sum_squares_chunks, f32_sum_abs_chunks } from "../reduce";
import { f32_sum_rows__scalar, f64_mean__scalar, f32_sum_squares__scalar, f32_sum_abs__scalar } from "../reference/reduce";
import { f32_softmax_loss_rows, f32_svm_loss_rows } from "../loss";
import {
  f32_batchnorm_forward_train, f32_batchnorm_forward_test, f32_batchnorm_backward,
  f32_spatial_batchnorm_forward_train, f32_spatial_batchnorm_backward, f32_spatial_batchnorm_forward_test,
  f32_softmax_loss, f32_svm_loss,
} from "./whole";
import { f32_rand_uniform, f32_rand_normal, f32_dropout_mask, i32_rand_below } from "../random";
import { LENGTHS, pattern, buffer, firstDifference, guardIntact } from "./helpers";

function same(name: string, a: usize, b: usize, n: i32): void {
  const at = firstDifference(a, b, n);
  expect<i32>(at).toBe(-1, name + " differs at " + at.toString());
}

/** Largest |a - b| / (1 + |b|). */
function maxRelErr(a: usize, b: usize, n: i32): f64 {
  let m: f64 = 0;
  for (let i = 0; i < n; i++) {
    const x = <f64>load<f32>(a + (<usize>i << 2)), y = <f64>load<f32>(b + (<usize>i << 2));
    m = Math.max(m, Math.abs(x - y) / (1 + Math.abs(y)));
  }
  return m;
}

/** Cut points of [0, n): 0, 1, a point not on a multiple of 4, n (duplicates give empty pieces). */
function cuts(n: i32): i32[] {
  return [0, min(1, n), min(1, n), min(7, n), n];
}

// ---------------------------------------------------------------------------------------------

const BN_N: i32[] = [1, 3, 17];
const BN_D: i32[] = [1, 3, 4, 9, 37];
const BN_S: i32[] = [1, 3, 5, 12];

describe("batch norm range and chunk entry points", () => {
  it("rows: feature ranges give the bits of the whole kernel (and the twin)", () => {
    for (let a = 0; a < BN_N.length; a++) {
      for (let b = 0; b < BN_D.length; b++) {
        const n = BN_N[a], d = BN_D[b], size = n * d;
        const tag = " N=" + n.toString() + " D=" + d.toString();
        const x = pattern(size, 50), g = pattern(d, 51), be = pattern(d, 52), dout = pattern(size, 53);
        const o1 = buffer(size), m1 = buffer(d), i1 = buffer(d), rm1 = buffer(d), rv1 = buffer(d);
        const o2 = buffer(size), m2 = buffer(d), i2 = buffer(d), rm2 = buffer(d), rv2 = buffer(d);
        const o3 = buffer(size), m3 = buffer(d), i3 = buffer(d), rm3 = buffer(d), rv3 = buffer(d);
        f32_batchnorm_forward_train(o1, m1, i1, rm1, rv1, x, g, be, n, d, 1e-5, 0.9);
        const c = cuts(d);
        for (let k = 0; k + 1 < c.length; k++) f32_batchnorm_forward_train_range(o2, m2, i2, rm2, rv2, x, g, be, n, d, 1e-5, 0.9, c[k], c[k + 1]);
        f32_batchnorm_forward_train__scalar(o3, m3, i3, rm3, rv3, x, g, be, n, d, 1, 1e-5, 0.9);
        same("train out" + tag, o2, o1, size);
        same("train out vs twin" + tag, o2, o3, size);
        same("mean" + tag, m2, m1, d);
        same("invstd" + tag, i2, i1, d);
        same("runningVar" + tag, rv2, rv1, d);
        const t1 = buffer(size), t2 = buffer(size), tm = buffer(d), ti = buffer(d);
        f32_batchnorm_forward_test(t1, tm, ti, x, g, be, rm1, rv1, n, d, 1e-5);
        for (let k = 0; k + 1 < c.length; k++) f32_batchnorm_forward_test_range(t2, tm, ti, x, g, be, rm1, rv1, n, d, 1e-5, c[k], c[k + 1]);
        same("test out" + tag, t2, t1, size);
        const dx1 = buffer(size), dg1 = buffer(d), db1 = buffer(d);
        const dx2 = buffer(size), dg2 = buffer(d), db2 = buffer(d);
        const dx3 = buffer(size), dg3 = buffer(d), db3 = buffer(d);
        f32_batchnorm_backward(dx1, dg1, db1, dout, x, g, m1, i1, n, d, true);
        for (let k = 0; k + 1 < c.length; k++) f32_batchnorm_backward_range(dx2, dg2, db2, dout, x, g, m1, i1, n, d, true, c[k], c[k + 1]);
        f32_batchnorm_backward__scalar(dx3, dg3, db3, dout, x, g, m1, i1, n, d, 1, true);
        same("dx" + tag, dx2, dx1, size);
        same("dx vs twin" + tag, dx2, dx3, size);
        same("dgamma" + tag, dg2, dg1, d);
        same("dbeta" + tag, db2, db1, d);
      }
    }
  });

  it("spatial: channel ranges give the whole kernel's bits; one chunk gives them too; more chunks agree for any unit split and stay within 1e-5 of the twin", () => {
    for (let a = 0; a < BN_N.length; a++) {
      for (let ci = 1; ci <= 3; ci += 2) {
        for (let b = 0; b < BN_S.length; b++) {
          const n = BN_N[a], c = ci, s = BN_S[b], size = n * c * s;
          const tag = " N=" + n.toString() + " C=" + c.toString() + " S=" + s.toString();
          const x = pattern(size, 60), g = pattern(c, 61), be = pattern(c, 62), dout = pattern(size, 63);
          // Reference: the fused whole kernels.
          const o1 = buffer(size), m1 = buffer(c), i1 = buffer(c), rm1 = buffer(c), rv1 = buffer(c);
          f32_spatial_batchnorm_forward_train(o1, m1, i1, rm1, rv1, x, g, be, n, c, s, 1e-5, 0.9);
          const dx1 = buffer(size), dg1 = buffer(c), db1 = buffer(c);
          f32_spatial_batchnorm_backward(dx1, dg1, db1, dout, x, g, m1, i1, n, c, s, true);
          const t1 = buffer(size), tm = buffer(c), ti = buffer(c);
          f32_spatial_batchnorm_forward_test(t1, tm, ti, x, g, be, rm1, rv1, n, c, s, 1e-5);
          // Channel ranges.
          const o2 = buffer(size), m2 = buffer(c), i2 = buffer(c), rm2 = buffer(c), rv2 = buffer(c);
          const dx2 = buffer(size), dg2 = buffer(c), db2 = buffer(c), t2 = buffer(size);
          const cc = cuts(c);
          for (let k = 0; k + 1 < cc.length; k++) {
            f32_spatial_batchnorm_forward_train_range(o2, m2, i2, rm2, rv2, x, g, be, n, c, s, 1e-5, 0.9, cc[k], cc[k + 1]);
            f32_spatial_batchnorm_backward_range(dx2, dg2, db2, dout, x, g, m1, i1, n, c, s, true, cc[k], cc[k + 1]);
            f32_spatial_batchnorm_forward_test_range(t2, tm, ti, x, g, be, rm1, rv1, n, c, s, 1e-5, cc[k], cc[k + 1]);
          }
          same("range out" + tag, o2, o1, size);
          same("range runningVar" + tag, rv2, rv1, c);
          same("range dx" + tag, dx2, dx1, size);
          same("range dgamma" + tag, dg2, dg1, c);
          same("range test out" + tag, t2, t1, size);
          // Chunks of G images.
          for (let G = 1; G <= n; G++) {
            const chunks = (n + G - 1) / G, units = c * chunks;
            const gtag = tag + " G=" + G.toString();
            let ref: usize = 0, refDx: usize = 0;
            for (let split = 0; split < 2; split++) {
              const sums = heap.alloc(<usize>units << 4), squares = sums + (<usize>units << 3);
              const o3 = buffer(size), m3 = buffer(c), i3 = buffer(c), rm3 = buffer(c), rv3 = buffer(c);
              const dx3 = buffer(size), dg3 = buffer(c), db3 = buffer(c);
              const u = split == 0 ? [0, units] : [0, 1, 1, units];
              for (let k = 0; k + 1 < u.length; k++) f32_spatial_bn_sums_chunks(sums, x, n, c, s, G, chunks, u[k], u[k + 1]);
              for (let k = 0; k + 1 < u.length; k++) f32_spatial_bn_squares_chunks(squares, sums, x, n, c, s, G, chunks, u[k], u[k + 1]);
              for (let k = 0; k + 1 < u.length; k++) f32_spatial_bn_normalize_chunks(o3, m3, i3, rm3, rv3, sums, squares, x, g, be, n, c, s, G, chunks, 1e-5, 0.9, u[k], u[k + 1]);
              for (let k = 0; k + 1 < u.length; k++) f32_spatial_bn_backward_sums_chunks(sums, dout, x, m3, i3, n, c, s, G, chunks, u[k], u[k + 1]);
              for (let k = 0; k + 1 < u.length; k++) f32_spatial_bn_backward_dx_chunks(dx3, dg3, db3, sums, dout, x, g, m3, i3, n, c, s, G, chunks, true, u[k], u[k + 1]);
              if (chunks == 1) {
                same("one chunk out" + gtag, o3, o1, size);
                same("one chunk runningMean" + gtag, rm3, rm1, c);
                same("one chunk dx" + gtag, dx3, dx1, size);
                same("one chunk dbeta" + gtag, db3, db1, c);
              } else {
                expect<bool>(maxRelErr(o3, o1, size) < 1e-5).toBe(true, "chunked out" + gtag);
                expect<bool>(maxRelErr(dx3, dx1, size) < 1e-5).toBe(true, "chunked dx" + gtag);
                expect<bool>(maxRelErr(dg3, dg1, c) < 1e-5).toBe(true, "chunked dgamma" + gtag);
              }
              if (split == 0) {
                ref = o3;
                refDx = dx3;
              } else {
                same("unit split out" + gtag, o3, ref, size);
                same("unit split dx" + gtag, dx3, refDx, size);
              }
            }
          }
        }
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("column sums and losses by ranges", () => {
  it("f32_sum_rows_range: column ranges give the twin's bits (rows 0, 1, 5; cols in LENGTHS)", () => {
    for (let r = 0; r <= 5; r += r < 1 ? 1 : 4) {
      for (let l = 0; l < LENGTHS.length; l++) {
        const cols = LENGTHS[l];
        const x = pattern(r * cols, 70), y0 = pattern(cols, 71);
        const a = buffer(cols), b = buffer(cols);
        memory.copy(a, y0, <usize>cols << 2);
        memory.copy(b, y0, <usize>cols << 2);
        const c = cuts(cols);
        for (let k = 0; k + 1 < c.length; k++) f32_sum_rows_range(a, x, r, cols, true, c[k], c[k + 1]);
        f32_sum_rows__scalar(b, x, r, cols, true);
        same("sum_rows accumulate rows=" + r.toString() + " cols=" + cols.toString(), a, b, cols);
        for (let k = 0; k + 1 < c.length; k++) f32_sum_rows_range(a, x, r, cols, false, c[k], c[k + 1]);
        f32_sum_rows__scalar(b, x, r, cols, false);
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
          const want = kind == 0 ? f32_softmax_loss(d1, scores, y, n, c) : f32_svm_loss(d1, scores, y, n, c);
          for (let k = 0; k + 1 < r.length; k++) {
            if (kind == 0) f32_softmax_loss_rows(rows, d2, scores, y, n, c, r[k], r[k + 1]);
            else f32_svm_loss_rows(rows, d2, scores, y, n, c, r[k], r[k + 1]);
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
      const a = buffer(n), b = buffer(n);
      for (let part = -1; part + 1 < c.length; part++) {
        // part -1: one call over everything into a; then the pieces into b.
        const i0 = part < 0 ? 0 : c[part], i1 = part < 0 ? n : c[part + 1];
        const dst = (part < 0 ? a : b) + (<usize>i0 << 2);
        const offset = <f64>(12345 + i0);
        if (kind == 0) f32_rand_uniform(dst, i1 - i0, 77, offset);
        else if (kind == 1) f32_rand_normal(dst, i1 - i0, 77, offset, 0.5, 2);
        else if (kind == 2) f32_dropout_mask(dst, i1 - i0, 0.3, 77, offset);
        else i32_rand_below(dst, i1 - i0, 1000, 77, offset);
      }
      same("random kind " + kind.toString(), b, a, n);
      expect<bool>(guardIntact(b, n)).toBe(true, "random kind " + kind.toString() + " wrote past the end");
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
        if (kind == 0) f32_sum_squares_chunks(a, x, n, chunk, 0, chunks);
        else f32_sum_abs_chunks(a, x, n, chunk, 0, chunks);
        const cut = min(1, chunks);
        for (let k = 0; k < 3; k++) {
          const q0 = k == 0 ? 0 : k == 1 ? cut : cut, q1 = k == 0 ? cut : k == 1 ? cut : chunks;
          if (kind == 0) f32_sum_squares_chunks(b, x, n, chunk, q0, q1);
          else f32_sum_abs_chunks(b, x, n, chunk, q0, q1);
        }
        const tag = (kind == 0 ? " squares" : " abs") + " chunk=" + chunk.toString();
        for (let q = 0; q < chunks; q++) {
          const i0 = q * chunk, len = min(n, i0 + chunk) - i0;
          const want = kind == 0 ? f32_sum_squares(x + (<usize>i0 << 2), len) : f32_sum_abs(x + (<usize>i0 << 2), len);
          expect<f64>(load<f64>(a + (<usize>q << 3))).toBe(want, "chunk " + q.toString() + tag);
          expect<f64>(load<f64>(b + (<usize>q << 3))).toBe(want, "chunk ranges " + q.toString() + tag);
        }
        const total = f64_sum(a, chunks);
        if (chunks == 1) expect<f64>(total).toBe(kind == 0 ? f32_sum_squares(x, n) : f32_sum_abs(x, n), "one chunk" + tag);
        const exact = kind == 0 ? f32_sum_squares__scalar(x, n) : f32_sum_abs__scalar(x, n);
        expect<bool>(Math.abs(total - exact) <= 1e-6 * exact).toBe(true, "vs the exact-term twin" + tag);
      }
    }
  });
});
