import {
  f32_batchnorm_forward_train, f32_batchnorm_forward_test, f32_batchnorm_backward,
  f32_spatial_batchnorm_forward_train, f32_spatial_batchnorm_forward_test, f32_spatial_batchnorm_backward,
} from "./whole";
import {
  f32_batchnorm_forward_train__scalar, f32_batchnorm_forward_test__scalar, f32_batchnorm_backward__scalar,
} from "../reference/batchnorm";
import { pattern, buffer, firstDifference, maxAbsDiff, guardIntact } from "./helpers";

// Batch sizes and feature counts around the 4-lane width: N = 1 (variance 0), 2, 3, 17;
// D (or H*W) not a multiple of 4.
const NS: i32[] = [1, 2, 3, 17];
const DS: i32[] = [1, 3, 4, 5, 17];
const SS: i32[] = [1, 3, 4, 5, 8, 9, 17, 49];

/** pattern(n, salt) mapped to scale * v + shift (per element, a fixed affine map). */
function affine(n: i32, salt: i32, scale: f32, shift: f32): usize {
  const p = pattern(n, salt);
  for (let i = 0; i < n; i++) store<f32>(p + (<usize>i << 2), scale * load<f32>(p + (<usize>i << 2)) + shift);
  return p;
}

/** x whose features (or channels) have very different scales and offsets: feature j ~ 4^(j%3). */
function features(n: i32, c: i32, s: i32, salt: i32): usize {
  const p = pattern(n * c * s, salt);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const scale = <f32>(1 << ((ch % 3) * 2));
      for (let k = 0; k < s; k++) {
        const q = p + (<usize>((i * c + ch) * s + k) << 2);
        store<f32>(q, scale * load<f32>(q) + <f32>ch * 0.5);
      }
    }
  }
  return p;
}

function same(name: string, a: usize, b: usize, n: i32): void {
  const at = firstDifference(a, b, n);
  expect<i32>(at).toBe(-1, name + " differs at " + at.toString());
  expect<bool>(guardIntact(a, n)).toBe(true, name + " wrote past the end");
}

function close(name: string, a: usize, b: usize, n: i32, tol: f32): void {
  const e = maxAbsDiff(a, b, n);
  expect<bool>(e <= tol).toBe(true, name + " max |diff| " + e.toString());
  expect<bool>(guardIntact(a, n)).toBe(true, name + " wrote past the end");
}

function copyOf(p: usize, n: i32): usize {
  const q = buffer(n);
  memory.copy(q, p, <usize>n << 2);
  return q;
}

describe("batchnorm rows kernels (N, D) vs scalar twins: identical bits", () => {
  it("train forward: out, mean, invstd, running stats", () => {
    for (let a = 0; a < NS.length; a++) {
      for (let b = 0; b < DS.length; b++) {
        const n = NS[a], d = DS[b];
        const tag = " N=" + n.toString() + " D=" + d.toString();
        const x = features(n, d, 1, 1), g = affine(d, 2, 0.5, 1), be = pattern(d, 3);
        const rm0 = pattern(d, 4), rv0 = affine(d, 5, 0.25, 1);
        const out1 = buffer(n * d), m1 = buffer(d), i1 = buffer(d), rm1 = copyOf(rm0, d), rv1 = copyOf(rv0, d);
        const out2 = buffer(n * d), m2 = buffer(d), i2 = buffer(d), rm2 = copyOf(rm0, d), rv2 = copyOf(rv0, d);
        f32_batchnorm_forward_train(out1, m1, i1, rm1, rv1, x, g, be, n, d, 1e-5, 0.9);
        f32_batchnorm_forward_train__scalar(out2, m2, i2, rm2, rv2, x, g, be, n, d, 1, 1e-5, 0.9);
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
        f32_batchnorm_forward_test(out1, m1, i1, x, g, be, rm, rv, n, d, 1e-3);
        f32_batchnorm_forward_test__scalar(out2, m2, i2, x, g, be, rm, rv, n, d, 1, 1e-3);
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
          f32_batchnorm_backward(dx1, dg1, db1, dout, x, g, m, inv, n, d, bs == 1);
          f32_batchnorm_backward__scalar(dx2, dg2, db2, dout, x, g, m, inv, n, d, 1, bs == 1);
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
    f32_batchnorm_forward_train(out, m, inv, rm, rv, x, g, be, n, d, 1e-5, 0.9);
    const y = copyOf(x, n * d), m2 = buffer(d), inv2 = buffer(d);
    f32_batchnorm_forward_train(y, m2, inv2, rm, rv, y, g, be, n, d, 1e-5, 0.9);
    same("in-place out", y, out, n * d);
    const dout = copyOf(pattern(n * d, 19), n * d), dx = buffer(n * d), dg = buffer(d), db = buffer(d);
    f32_batchnorm_backward(dx, dg, db, dout, x, g, m, inv, n, d, true);
    f32_batchnorm_backward(dout, dg, db, dout, x, g, m, inv, n, d, true);
    same("in-place dx", dout, dx, n * d);
  });
  it("N = 1: variance 0, out = beta, dx = 0", () => {
    const d = 5;
    const x = pattern(d, 20), g = affine(d, 21, 0.5, 1), be = pattern(d, 22);
    const out = buffer(d), m = buffer(d), inv = buffer(d), rm = buffer(d), rv = buffer(d);
    f32_batchnorm_forward_train(out, m, inv, rm, rv, x, g, be, 1, d, 1e-5, 0.9);
    same("out = beta", out, be, d);
    const dout = pattern(d, 23), dx = buffer(d), dg = buffer(d), db = buffer(d);
    f32_batchnorm_backward(dx, dg, db, dout, x, g, m, inv, 1, d, true);
    close("dx = 0", dx, buffer(d), d, 0);
  });
});

describe("spatial batchnorm kernels (N, C, H*W) vs scalar twins", () => {
  it("train forward and backward (sums split over lanes: within 1e-5)", () => {
    for (let a = 0; a < NS.length; a++) {
      for (let c = 1; c <= 3; c += 2) {
        for (let b = 0; b < SS.length; b++) {
          const n = NS[a], s = SS[b], size = n * c * s;
          const tag = " N=" + n.toString() + " C=" + c.toString() + " S=" + s.toString();
          const x = features(n, c, s, 30), g = affine(c, 31, 0.5, 1), be = pattern(c, 32);
          const out1 = buffer(size), m1 = buffer(c), i1 = buffer(c), rm1 = buffer(c), rv1 = buffer(c);
          const out2 = buffer(size), m2 = buffer(c), i2 = buffer(c), rm2 = buffer(c), rv2 = buffer(c);
          f32_spatial_batchnorm_forward_train(out1, m1, i1, rm1, rv1, x, g, be, n, c, s, 1e-5, 0.9);
          f32_batchnorm_forward_train__scalar(out2, m2, i2, rm2, rv2, x, g, be, n, c, s, 1e-5, 0.9);
          close("out" + tag, out1, out2, size, 1e-5);
          close("mean" + tag, m1, m2, c, 1e-6);
          close("runningVar" + tag, rv1, rv2, c, 1e-6);
          close("invstd" + tag, i1, i2, c, 1e-3);
          const dout = pattern(size, 33);
          const dx1 = buffer(size), dg1 = buffer(c), db1 = buffer(c);
          const dx2 = buffer(size), dg2 = buffer(c), db2 = buffer(c);
          f32_spatial_batchnorm_backward(dx1, dg1, db1, dout, x, g, m1, i1, n, c, s, true);
          f32_batchnorm_backward__scalar(dx2, dg2, db2, dout, x, g, m1, i1, n, c, s, true);
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
      f32_spatial_batchnorm_forward_test(out1, m1, i1, x, g, be, rm, rv, n, c, s, 1e-5);
      f32_batchnorm_forward_test__scalar(out2, m2, i2, x, g, be, rm, rv, n, c, s, 1e-5);
      same("out" + tag, out1, out2, size);
      same("invstd" + tag, i1, i2, c);
      const dout = pattern(size, 45);
      const dx1 = buffer(size), dg1 = buffer(c), db1 = buffer(c);
      const dx2 = buffer(size), dg2 = buffer(c), db2 = buffer(c);
      f32_spatial_batchnorm_backward(dx1, dg1, db1, dout, x, g, m1, i1, n, c, s, false);
      f32_batchnorm_backward__scalar(dx2, dg2, db2, dout, x, g, m1, i1, n, c, s, false);
      same("frozen dx" + tag, dx1, dx2, size);
      close("frozen dgamma" + tag, dg1, dg2, c, 1e-5);
    }
  });
  it("H*W = 1 gives the same bits as the rows kernels", () => {
    const n = 17, c = 5;
    const x = features(n, c, 1, 50), g = affine(c, 51, 0.5, 1), be = pattern(c, 52);
    const out1 = buffer(n * c), m1 = buffer(c), i1 = buffer(c), rm1 = buffer(c), rv1 = buffer(c);
    const out2 = buffer(n * c), m2 = buffer(c), i2 = buffer(c), rm2 = buffer(c), rv2 = buffer(c);
    f32_spatial_batchnorm_forward_train(out1, m1, i1, rm1, rv1, x, g, be, n, c, 1, 1e-5, 0.9);
    f32_batchnorm_forward_train(out2, m2, i2, rm2, rv2, x, g, be, n, c, 1e-5, 0.9);
    same("out", out1, out2, n * c);
    same("runningVar", rv1, rv2, c);
    const dout = pattern(n * c, 53);
    const dx1 = buffer(n * c), dg1 = buffer(c), db1 = buffer(c);
    const dx2 = buffer(n * c), dg2 = buffer(c), db2 = buffer(c);
    f32_spatial_batchnorm_backward(dx1, dg1, db1, dout, x, g, m1, i1, n, c, 1, true);
    f32_batchnorm_backward(dx2, dg2, db2, dout, x, g, m2, i2, n, c, true);
    same("dx", dx1, dx2, n * c);
    same("dgamma", dg1, dg2, c);
  });
});
