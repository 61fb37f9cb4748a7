import {
  batchnorm_forward_train, batchnorm_forward_test, batchnorm_backward,
  spatial_batchnorm_forward_train, spatial_batchnorm_forward_test, spatial_batchnorm_backward,
} from "./whole";
import {
  batchnorm_forward_train_range, batchnorm_forward_test_range, batchnorm_backward_range,
  spatial_batchnorm_forward_train_range, spatial_batchnorm_forward_test_range, spatial_batchnorm_backward_range,
  spatial_bn_sums_chunks, spatial_bn_squares_chunks, spatial_bn_normalize_chunks,
  spatial_bn_backward_sums_chunks, spatial_bn_backward_dx_chunks,
} from "../batchnorm";
import { batchnorm_forward_train__scalar, batchnorm_forward_test__scalar, batchnorm_backward__scalar } from "../reference/batchnorm";
import { FLOAT32, SHIFT } from "../real";
import { DTYPE, pattern, buffer, firstDifference, maxAbsDiff, guardIntact, copyReals, maxRelErr } from "./helpers";

// Batch sizes and feature counts around the lane width (4 f32, 2 f64): N = 1 (variance 0), 2, 3,
// 17; D (or H*W) not a multiple of 4.
const NS: i32[] = [1, 2, 3, 17];
const DS: i32[] = [1, 3, 4, 5, 17];
const SS: i32[] = [1, 3, 4, 5, 8, 9, 17, 49];

// Where a sum's order differs from the twin's (lanes, chunks), results agree to rounding: the
// float32 tolerances below, times 1e-7 for float64 (its rounding is 2^-29 times float32's, so
// this leaves a margin of about 50 for sums in a different order).
const TOL: real = FLOAT32 ? 1 : 1e-7;

/** pattern(n, salt) mapped to scale * v + shift (per element, a fixed affine map). */
function affine(n: i32, salt: i32, scale: real, shift: real): usize {
  const p = pattern(n, salt);
  for (let i = 0; i < n; i++) store<real>(p + (<usize>i << SHIFT), scale * load<real>(p + (<usize>i << SHIFT)) + shift);
  return p;
}

/** x whose features (or channels) have very different scales and offsets: feature j ~ 4^(j%3). */
function features(n: i32, c: i32, s: i32, salt: i32): usize {
  const p = pattern(n * c * s, salt);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const scale = <real>(1 << ((ch % 3) * 2));
      for (let k = 0; k < s; k++) {
        const q = p + (<usize>((i * c + ch) * s + k) << SHIFT);
        store<real>(q, scale * load<real>(q) + <real>ch * 0.5);
      }
    }
  }
  return p;
}

function same(name: string, a: usize, b: usize, n: i32): void {
  const at = firstDifference(a, b, n);
  expect<i32>(at).toBe(-1, DTYPE + " " + name + " differs at " + at.toString());
  expect<bool>(guardIntact(a, n)).toBe(true, DTYPE + " " + name + " wrote past the end");
}

function close(name: string, a: usize, b: usize, n: i32, tol: real): void {
  const e = maxAbsDiff(a, b, n);
  expect<bool>(e <= tol * TOL).toBe(true, DTYPE + " " + name + " max |diff| " + e.toString());
  expect<bool>(guardIntact(a, n)).toBe(true, DTYPE + " " + name + " wrote past the end");
}


function copyOf(p: usize, n: i32): usize {
  const q = buffer(n);
  copyReals(q, p, n);
  return q;
}

describe("batchnorm rows kernels (N, D) vs scalar twins: identical bits, " + DTYPE, () => {
  it("train forward: out, mean, invstd, running stats", () => {
    for (let a = 0; a < NS.length; a++) {
      for (let b = 0; b < DS.length; b++) {
        const n = NS[a], d = DS[b];
        const tag = " N=" + n.toString() + " D=" + d.toString();
        const x = features(n, d, 1, 1), g = affine(d, 2, 0.5, 1), be = pattern(d, 3);
        const rm0 = pattern(d, 4), rv0 = affine(d, 5, 0.25, 1);
        const out1 = buffer(n * d), m1 = buffer(d), i1 = buffer(d), rm1 = copyOf(rm0, d), rv1 = copyOf(rv0, d);
        const out2 = buffer(n * d), m2 = buffer(d), i2 = buffer(d), rm2 = copyOf(rm0, d), rv2 = copyOf(rv0, d);
        batchnorm_forward_train(out1, m1, i1, rm1, rv1, x, g, be, n, d, 1e-5, 0.9);
        batchnorm_forward_train__scalar(out2, m2, i2, rm2, rv2, x, g, be, n, d, 1, 1e-5, 0.9);
        same("out" + tag, out1, out2, n * d);
        same("mean" + tag, m1, m2, d);
        same("invstd" + tag, i1, i2, d);
        same("runningMean" + tag, rm1, rm2, d);
        same("runningVar" + tag, rv1, rv2, d);
      }
    }
  });
  it("test forward", () => {
    for (let a = 0; a < NS.length; a++) {
      for (let b = 0; b < DS.length; b++) {
        const n = NS[a], d = DS[b];
        const tag = " N=" + n.toString() + " D=" + d.toString();
        const x = features(n, d, 1, 6), g = affine(d, 7, 0.5, 1), be = pattern(d, 8);
        const rm = pattern(d, 9), rv = affine(d, 10, 0.25, 1);
        const out1 = buffer(n * d), m1 = buffer(d), i1 = buffer(d);
        const out2 = buffer(n * d), m2 = buffer(d), i2 = buffer(d);
        batchnorm_forward_test(out1, m1, i1, x, g, be, rm, rv, n, d, 1e-3);
        batchnorm_forward_test__scalar(out2, m2, i2, x, g, be, rm, rv, n, d, 1, 1e-3);
        same("out" + tag, out1, out2, n * d);
        same("mean" + tag, m1, m2, d);
        same("invstd" + tag, i1, i2, d);
      }
    }
  });
  it("backward, batch statistics and frozen statistics", () => {
    for (let a = 0; a < NS.length; a++) {
      for (let b = 0; b < DS.length; b++) {
        for (let bs = 0; bs < 2; bs++) {
          const n = NS[a], d = DS[b];
          const tag = " N=" + n.toString() + " D=" + d.toString() + " batchStats=" + bs.toString();
          const x = features(n, d, 1, 11), g = affine(d, 12, 0.5, 1), dout = pattern(n * d, 13);
          const m = pattern(d, 14), inv = affine(d, 15, 0.25, 1);
          const dx1 = buffer(n * d), dg1 = buffer(d), db1 = buffer(d);
          const dx2 = buffer(n * d), dg2 = buffer(d), db2 = buffer(d);
          batchnorm_backward(dx1, dg1, db1, dout, x, g, m, inv, n, d, bs == 1);
          batchnorm_backward__scalar(dx2, dg2, db2, dout, x, g, m, inv, n, d, 1, bs == 1);
          same("dx" + tag, dx1, dx2, n * d);
          same("dgamma" + tag, dg1, dg2, d);
          same("dbeta" + tag, db1, db2, d);
        }
      }
    }
  });
  it("in place: out may alias x, dx may alias dout", () => {
    const n = 17, d = 5;
    const x = features(n, d, 1, 16), g = affine(d, 17, 0.5, 1), be = pattern(d, 18);
    const out = buffer(n * d), m = buffer(d), inv = buffer(d), rm = buffer(d), rv = buffer(d);
    batchnorm_forward_train(out, m, inv, rm, rv, x, g, be, n, d, 1e-5, 0.9);
    const y = copyOf(x, n * d), m2 = buffer(d), inv2 = buffer(d);
    batchnorm_forward_train(y, m2, inv2, rm, rv, y, g, be, n, d, 1e-5, 0.9);
    same("in-place out", y, out, n * d);
    const dout = copyOf(pattern(n * d, 19), n * d), dx = buffer(n * d), dg = buffer(d), db = buffer(d);
    batchnorm_backward(dx, dg, db, dout, x, g, m, inv, n, d, true);
    batchnorm_backward(dout, dg, db, dout, x, g, m, inv, n, d, true);
    same("in-place dx", dout, dx, n * d);
  });
  it("N = 1: variance 0, out = beta, dx = 0", () => {
    const d = 5;
    const x = pattern(d, 20), g = affine(d, 21, 0.5, 1), be = pattern(d, 22);
    const out = buffer(d), m = buffer(d), inv = buffer(d), rm = buffer(d), rv = buffer(d);
    batchnorm_forward_train(out, m, inv, rm, rv, x, g, be, 1, d, 1e-5, 0.9);
    same("out = beta", out, be, d);
    const dout = pattern(d, 23), dx = buffer(d), dg = buffer(d), db = buffer(d);
    batchnorm_backward(dx, dg, db, dout, x, g, m, inv, 1, d, true);
    close("dx = 0", dx, buffer(d), d, 0);
  });
});

describe("spatial batchnorm kernels (N, C, H*W) vs scalar twins, " + DTYPE, () => {
  it("train forward and backward (sums split over lanes: within 1e-5 in float32, 1e-12 in float64)", () => {
    for (let a = 0; a < NS.length; a++) {
      for (let c = 1; c <= 3; c += 2) {
        for (let b = 0; b < SS.length; b++) {
          const n = NS[a], s = SS[b], size = n * c * s;
          const tag = " N=" + n.toString() + " C=" + c.toString() + " S=" + s.toString();
          const x = features(n, c, s, 30), g = affine(c, 31, 0.5, 1), be = pattern(c, 32);
          const out1 = buffer(size), m1 = buffer(c), i1 = buffer(c), rm1 = buffer(c), rv1 = buffer(c);
          const out2 = buffer(size), m2 = buffer(c), i2 = buffer(c), rm2 = buffer(c), rv2 = buffer(c);
          spatial_batchnorm_forward_train(out1, m1, i1, rm1, rv1, x, g, be, n, c, s, 1e-5, 0.9);
          batchnorm_forward_train__scalar(out2, m2, i2, rm2, rv2, x, g, be, n, c, s, 1e-5, 0.9);
          close("out" + tag, out1, out2, size, 1e-5);
          close("mean" + tag, m1, m2, c, 1e-6);
          close("runningVar" + tag, rv1, rv2, c, 1e-6);
          close("invstd" + tag, i1, i2, c, 1e-3);
          const dout = pattern(size, 33);
          const dx1 = buffer(size), dg1 = buffer(c), db1 = buffer(c);
          const dx2 = buffer(size), dg2 = buffer(c), db2 = buffer(c);
          spatial_batchnorm_backward(dx1, dg1, db1, dout, x, g, m1, i1, n, c, s, true);
          batchnorm_backward__scalar(dx2, dg2, db2, dout, x, g, m1, i1, n, c, s, true);
          close("dx" + tag, dx1, dx2, size, 1e-5);
          close("dgamma" + tag, dg1, dg2, c, 1e-5);
          close("dbeta" + tag, db1, db2, c, 1e-5);
        }
      }
    }
  });
  it("test forward and frozen-statistics backward", () => {
    for (let b = 0; b < SS.length; b++) {
      const n = 3, c = 3, s = SS[b], size = n * c * s;
      const tag = " S=" + s.toString();
      const x = features(n, c, s, 40), g = affine(c, 41, 0.5, 1), be = pattern(c, 42);
      const rm = pattern(c, 43), rv = affine(c, 44, 0.25, 1);
      const out1 = buffer(size), m1 = buffer(c), i1 = buffer(c);
      const out2 = buffer(size), m2 = buffer(c), i2 = buffer(c);
      spatial_batchnorm_forward_test(out1, m1, i1, x, g, be, rm, rv, n, c, s, 1e-5);
      batchnorm_forward_test__scalar(out2, m2, i2, x, g, be, rm, rv, n, c, s, 1e-5);
      same("out" + tag, out1, out2, size);
      same("invstd" + tag, i1, i2, c);
      const dout = pattern(size, 45);
      const dx1 = buffer(size), dg1 = buffer(c), db1 = buffer(c);
      const dx2 = buffer(size), dg2 = buffer(c), db2 = buffer(c);
      spatial_batchnorm_backward(dx1, dg1, db1, dout, x, g, m1, i1, n, c, s, false);
      batchnorm_backward__scalar(dx2, dg2, db2, dout, x, g, m1, i1, n, c, s, false);
      same("frozen dx" + tag, dx1, dx2, size);
      close("frozen dgamma" + tag, dg1, dg2, c, 1e-5);
    }
  });
  it("H*W = 1 gives the same bits as the rows kernels", () => {
    const n = 17, c = 5;
    const x = features(n, c, 1, 50), g = affine(c, 51, 0.5, 1), be = pattern(c, 52);
    const out1 = buffer(n * c), m1 = buffer(c), i1 = buffer(c), rm1 = buffer(c), rv1 = buffer(c);
    const out2 = buffer(n * c), m2 = buffer(c), i2 = buffer(c), rm2 = buffer(c), rv2 = buffer(c);
    spatial_batchnorm_forward_train(out1, m1, i1, rm1, rv1, x, g, be, n, c, 1, 1e-5, 0.9);
    batchnorm_forward_train(out2, m2, i2, rm2, rv2, x, g, be, n, c, 1e-5, 0.9);
    same("out", out1, out2, n * c);
    same("runningVar", rv1, rv2, c);
    const dout = pattern(n * c, 53);
    const dx1 = buffer(n * c), dg1 = buffer(c), db1 = buffer(c);
    const dx2 = buffer(n * c), dg2 = buffer(c), db2 = buffer(c);
    spatial_batchnorm_backward(dx1, dg1, db1, dout, x, g, m1, i1, n, c, 1, true);
    batchnorm_backward(dx2, dg2, db2, dout, x, g, m2, i2, n, c, true);
    same("dx", dx1, dx2, n * c);
    same("dgamma", dg1, dg2, c);
  });
});

// ---------------------------------------------------------------------------------------------
// The range and chunk entry points (one thread's share): a split into pieces (unaligned
// boundaries, one-element and empty pieces) gives the bits of one call over everything.

/** Cut points of [0, n): 0, 1, a point not on a multiple of the lane width, n (duplicates give empty pieces). */
function cuts(n: i32): i32[] {
  return [0, min(1, n), min(1, n), min(7, n), n];
}

const BN_N: i32[] = [1, 3, 17];
const BN_D: i32[] = [1, 3, 4, 9, 37];
const BN_S: i32[] = [1, 3, 5, 12];

describe("batch norm range and chunk entry points, " + DTYPE, () => {
  it("rows: feature ranges give the bits of the whole kernel (and the twin)", () => {
    for (let a = 0; a < BN_N.length; a++) {
      for (let b = 0; b < BN_D.length; b++) {
        const n = BN_N[a], d = BN_D[b], size = n * d;
        const tag = " N=" + n.toString() + " D=" + d.toString();
        const x = pattern(size, 50), g = pattern(d, 51), be = pattern(d, 52), dout = pattern(size, 53);
        const o1 = buffer(size), m1 = buffer(d), i1 = buffer(d), rm1 = buffer(d), rv1 = buffer(d);
        const o2 = buffer(size), m2 = buffer(d), i2 = buffer(d), rm2 = buffer(d), rv2 = buffer(d);
        const o3 = buffer(size), m3 = buffer(d), i3 = buffer(d), rm3 = buffer(d), rv3 = buffer(d);
        batchnorm_forward_train(o1, m1, i1, rm1, rv1, x, g, be, n, d, 1e-5, 0.9);
        const c = cuts(d);
        for (let k = 0; k + 1 < c.length; k++) batchnorm_forward_train_range(o2, m2, i2, rm2, rv2, x, g, be, n, d, 1e-5, 0.9, false, c[k], c[k + 1]);
        batchnorm_forward_train__scalar(o3, m3, i3, rm3, rv3, x, g, be, n, d, 1, 1e-5, 0.9);
        same("train out" + tag, o2, o1, size);
        same("train out vs twin" + tag, o2, o3, size);
        same("mean" + tag, m2, m1, d);
        same("invstd" + tag, i2, i1, d);
        same("runningVar" + tag, rv2, rv1, d);
        const t1 = buffer(size), t2 = buffer(size), tm = buffer(d), ti = buffer(d);
        batchnorm_forward_test(t1, tm, ti, x, g, be, rm1, rv1, n, d, 1e-5);
        for (let k = 0; k + 1 < c.length; k++) batchnorm_forward_test_range(t2, tm, ti, x, g, be, rm1, rv1, n, d, 1e-5, c[k], c[k + 1]);
        same("test out" + tag, t2, t1, size);
        const dx1 = buffer(size), dg1 = buffer(d), db1 = buffer(d);
        const dx2 = buffer(size), dg2 = buffer(d), db2 = buffer(d);
        const dx3 = buffer(size), dg3 = buffer(d), db3 = buffer(d);
        batchnorm_backward(dx1, dg1, db1, dout, x, g, m1, i1, n, d, true);
        for (let k = 0; k + 1 < c.length; k++) batchnorm_backward_range(dx2, dg2, db2, dout, x, g, m1, i1, n, d, true, c[k], c[k + 1]);
        batchnorm_backward__scalar(dx3, dg3, db3, dout, x, g, m1, i1, n, d, 1, true);
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
          spatial_batchnorm_forward_train(o1, m1, i1, rm1, rv1, x, g, be, n, c, s, 1e-5, 0.9);
          const dx1 = buffer(size), dg1 = buffer(c), db1 = buffer(c);
          spatial_batchnorm_backward(dx1, dg1, db1, dout, x, g, m1, i1, n, c, s, true);
          const t1 = buffer(size), tm = buffer(c), ti = buffer(c);
          spatial_batchnorm_forward_test(t1, tm, ti, x, g, be, rm1, rv1, n, c, s, 1e-5);
          // Channel ranges.
          const o2 = buffer(size), m2 = buffer(c), i2 = buffer(c), rm2 = buffer(c), rv2 = buffer(c);
          const dx2 = buffer(size), dg2 = buffer(c), db2 = buffer(c), t2 = buffer(size);
          const cc = cuts(c);
          for (let k = 0; k + 1 < cc.length; k++) {
            spatial_batchnorm_forward_train_range(o2, m2, i2, rm2, rv2, x, g, be, n, c, s, 1e-5, 0.9, false, cc[k], cc[k + 1]);
            spatial_batchnorm_backward_range(dx2, dg2, db2, dout, x, g, m1, i1, n, c, s, true, cc[k], cc[k + 1]);
            spatial_batchnorm_forward_test_range(t2, tm, ti, x, g, be, rm1, rv1, n, c, s, 1e-5, cc[k], cc[k + 1]);
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
              for (let k = 0; k + 1 < u.length; k++) spatial_bn_sums_chunks(sums, x, n, c, s, G, chunks, u[k], u[k + 1]);
              for (let k = 0; k + 1 < u.length; k++) spatial_bn_squares_chunks(squares, sums, x, n, c, s, G, chunks, u[k], u[k + 1]);
              for (let k = 0; k + 1 < u.length; k++) spatial_bn_normalize_chunks(o3, m3, i3, rm3, rv3, sums, squares, x, g, be, n, c, s, G, chunks, 1e-5, 0.9, false, u[k], u[k + 1]);
              for (let k = 0; k + 1 < u.length; k++) spatial_bn_backward_sums_chunks(sums, dout, x, m3, i3, n, c, s, G, chunks, u[k], u[k + 1]);
              for (let k = 0; k + 1 < u.length; k++) spatial_bn_backward_dx_chunks(dx3, dg3, db3, sums, dout, x, g, m3, i3, n, c, s, G, chunks, true, u[k], u[k + 1]);
              if (chunks == 1) {
                same("one chunk out" + gtag, o3, o1, size);
                same("one chunk runningMean" + gtag, rm3, rm1, c);
                same("one chunk dx" + gtag, dx3, dx1, size);
                same("one chunk dbeta" + gtag, db3, db1, c);
              } else {
                expect<bool>(maxRelErr(o3, o1, size) < 1e-5 * TOL).toBe(true, "chunked out" + gtag);
                expect<bool>(maxRelErr(dx3, dx1, size) < 1e-5 * TOL).toBe(true, "chunked dx" + gtag);
                expect<bool>(maxRelErr(dg3, dg1, c) < 1e-5 * TOL).toBe(true, "chunked dgamma" + gtag);
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

describe("unbiased running variance (PyTorch's BatchNorm), " + DTYPE, () => {
  it("rows: the kernel gives the twin's bits; the batch statistics and out do not change", () => {
    for (let a = 0; a < NS.length; a++) {
      for (let b = 0; b < DS.length; b++) {
        const n = NS[a], d = DS[b];
        const tag = " N=" + n.toString() + " D=" + d.toString();
        const x = features(n, d, 1, 70), g = affine(d, 71, 0.5, 1), be = pattern(d, 72);
        const rv0 = affine(d, 73, 0.25, 1);
        const out1 = buffer(n * d), m1 = buffer(d), i1 = buffer(d), rm1 = buffer(d), rv1 = copyOf(rv0, d);
        const out2 = buffer(n * d), m2 = buffer(d), i2 = buffer(d), rm2 = buffer(d), rv2 = copyOf(rv0, d);
        const out3 = buffer(n * d), m3 = buffer(d), i3 = buffer(d), rm3 = buffer(d), rv3 = copyOf(rv0, d);
        batchnorm_forward_train(out1, m1, i1, rm1, rv1, x, g, be, n, d, 1e-5, 0.9, true);
        batchnorm_forward_train__scalar(out2, m2, i2, rm2, rv2, x, g, be, n, d, 1, 1e-5, 0.9, true);
        batchnorm_forward_train(out3, m3, i3, rm3, rv3, x, g, be, n, d, 1e-5, 0.9, false);
        same("runningVar" + tag, rv1, rv2, d);
        same("out" + tag, out1, out3, n * d);
        same("invstd" + tag, i1, i3, d);
        // n = 1 has no unbiased estimate: the biased one (0) is kept rather than 0/0.
        if (n == 1) same("runningVar n=1" + tag, rv1, rv3, d);
        else expect<i32>(firstDifference(rv1, rv3, d)).not.toBe(-1, DTYPE + " unbiased changes runningVar" + tag);
      }
    }
  });
  it("spatial: fused, one chunk and several chunks agree with the twin", () => {
    for (let a = 1; a < NS.length; a++) {
      for (let b = 0; b < SS.length; b++) {
        const n = NS[a], c = 3, s = SS[b], size = n * c * s;
        const tag = " N=" + n.toString() + " S=" + s.toString();
        const x = features(n, c, s, 80), g = affine(c, 81, 0.5, 1), be = pattern(c, 82);
        const o1 = buffer(size), m1 = buffer(c), i1 = buffer(c), rm1 = buffer(c), rv1 = buffer(c);
        const o2 = buffer(size), m2 = buffer(c), i2 = buffer(c), rm2 = buffer(c), rv2 = buffer(c);
        spatial_batchnorm_forward_train(o1, m1, i1, rm1, rv1, x, g, be, n, c, s, 1e-5, 0.9, true);
        batchnorm_forward_train__scalar(o2, m2, i2, rm2, rv2, x, g, be, n, c, s, 1e-5, 0.9, true);
        close("runningVar" + tag, rv1, rv2, c, 1e-6);
        for (let G = 1; G <= n; G++) {
          const chunks = (n + G - 1) / G, units = c * chunks;
          const sums = heap.alloc(<usize>units << 4), squares = sums + (<usize>units << 3);
          const o3 = buffer(size), m3 = buffer(c), i3 = buffer(c), rm3 = buffer(c), rv3 = buffer(c);
          spatial_bn_sums_chunks(sums, x, n, c, s, G, chunks, 0, units);
          spatial_bn_squares_chunks(squares, sums, x, n, c, s, G, chunks, 0, units);
          spatial_bn_normalize_chunks(o3, m3, i3, rm3, rv3, sums, squares, x, g, be, n, c, s, G, chunks, 1e-5, 0.9, true, 0, units);
          if (chunks == 1) same("one chunk runningVar" + tag, rv3, rv1, c);
          else close("chunked runningVar" + tag + " G=" + G.toString(), rv3, rv2, c, 1e-6);
          heap.free(sums);
        }
      }
    }
  });
});
