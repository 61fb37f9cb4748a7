// Batch normalization over the batch axis, over `real` (f32 or f64, see real.ts). Two layouts
// share one set of formulas:
//   rows:    x (n, d), statistics per feature j over the n rows       (BatchNorm)
//   spatial: x (n, c, s) with s = H*W, statistics per channel over n*s (SpatialBatchNorm, NCHW)
// The spatial kernels walk NCHW directly (channel c is n contiguous runs of s values), so no
// transposed copy is made.
//
// Formulas (every kernel and its scalar twin in reference/batchnorm.ts use exactly these; real(v)
// rounds an f64 to f32 in the float32 build and is v itself in the float64 build):
//   mean   = real(sum_f64(x) / count)                    count = n (rows) or n*s (spatial)
//   var    = real(sum_f64((f64)(x - mean)^2) / count)    biased, two-pass (no cancellation)
//   invstd = 1 / sqrt(var + eps)                         in real
//   xhat   = (x - mean) * invstd;  out = gamma * xhat + beta
//   running = m * running + k * batch, m = real(momentum), k = real(1 - momentum) from the f64
//   momentum (0.9 gives k = f32(0.1), not f32(1 - f32(0.9))); train mode only, mean and var.
//   With unbiased set (PyTorch's BatchNorm) the running var takes real(sum / (count - 1)) instead
//   (count > 1); the normalization always uses the biased var. Unset gives the course's bits.
// Backward (the compact closed form; dxhat = dout * gamma):
//   dbeta = sum dout,  dgamma = sum dout * xhat           (f64 sums, xhat recomputed bit-exactly)
//   dx = gamma * invstd * ((dout - dbeta/count) - xhat * dgamma/count)
//      = (1/count) * invstd * (count*dxhat - sum(dxhat) - xhat*sum(dxhat*xhat))
// With batchStats = false (a test-mode cache: the statistics are constants) dx = gamma*invstd*dout.
//
// Sums of real values accumulate in f64, in an order fixed by the sizes alone: the same bits in
// every engine. In the rows layout each feature is summed row by row, exactly like the twin.
import { FLOAT32, LANES, SHIFT } from "./real";

// ---------------------------------------------------------------------------------------------
// f64 accumulation of a v128 of reals. f32: four lanes go to two f64x2 accumulators, lanes 0,1
// (low) and 2,3 (high). f64: the two lanes already are an f64x2, so low is the value itself and
// there is no high half: wherever a strip keeps a second (high) accumulator, it is updated only
// `if (FLOAT32)` and left out of the result otherwise (joinReal, addHalves). Compile-time
// branches: the float32 build is the four-lane code, the float64 build the two-lane code.

@inline function lowF64(v: v128): v128 {
  return FLOAT32 ? f64x2.promote_low_f32x4(v) : v;
}

/** f32 only (lanes 2, 3 promoted); never used in the f64 build. */
@inline function highF64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1));
}

/** LANES reals from f64x2 values: f32 [lo0, lo1, hi0, hi1] (rounded); f64 lo itself (hi unused). */
@inline function joinReal(lo: v128, hi: v128): v128 {
  return FLOAT32 ? v128.shuffle<u32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5) : lo;
}

/** lo + hi as f64x2: both halves of an f32 strip; f64 has the low one only. */
@inline function addHalves(lo: v128, hi: v128): v128 {
  return FLOAT32 ? f64x2.add(lo, hi) : lo;
}

@inline function sumLanes(a: v128): f64 {
  return f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
}

// ---------------------------------------------------------------------------------------------
// Rows layout (n, d): features in strips of LANES (4 f32 or 2 f64) walk the n rows with stride d
// (a column strip of n x 16 bytes, which stays in cache for the strip's passes and the next
// strips); the d % LANES last features take the scalar path. Every per-feature sum is sequential
// over rows.

// Range entry points (one thread's share): features [j0, j1) only, every other feature untouched.
// A feature's result does not depend on the range it falls in: the strips and the scalar tail do
// the same operations per feature (f64 sums row by row, the same formulas in real).

/**
 * Train-mode forward over rows, features [j0, j1) of d. out: (n, d); mean, invstd: (d) saved for
 * backward; runningMean, runningVar: (d) updated in place; x: (n, d); gamma, beta: (d).
 * Preconditions: n >= 1, eps > 0, momentum in [0, 1] (f64), j0 <= j1 <= d. out may alias x (each
 * element is read before it is written); mean/invstd/running buffers alias nothing else.
 */
export function batchnorm_forward_train_range(
  out: usize, mean: usize, invstd: usize, runningMean: usize, runningVar: usize,
  x: usize, gamma: usize, beta: usize, n: usize, d: usize, eps: real, momentum: f64, unbiased: bool, j0: usize, j1: usize,
): void {
  const rowBytes = d << SHIFT;
  const count = <f64>n;
  const vcount = f64x2.splat(count);
  const runCount = unbiased && n > 1 ? count - 1 : count;
  const vrunCount = f64x2.splat(runCount);
  const veps = v128.splat<real>(eps);
  const mom = <real>momentum;
  const keep = <real>(1.0 - momentum);
  const vmom = v128.splat<real>(mom);
  const vkeep = v128.splat<real>(keep);
  const one = v128.splat<real>(1.0);
  let j = j0;
  for (; j + LANES <= j1; j += LANES) {
    const o = j << SHIFT;
    // Pass 1: mean.
    let lo = f64x2.splat(0);
    let hi = f64x2.splat(0);
    let p = x + o;
    for (let i: usize = 0; i < n; i++, p += rowBytes) {
      const v = v128.load(p);
      lo = f64x2.add(lo, lowF64(v));
      if (FLOAT32) hi = f64x2.add(hi, highF64(v));
    }
    const m = joinReal(f64x2.div(lo, vcount), f64x2.div(hi, vcount));
    // Pass 2: biased variance around the rounded mean (squares of f32 differences are exact in f64).
    lo = f64x2.splat(0);
    hi = f64x2.splat(0);
    p = x + o;
    for (let i: usize = 0; i < n; i++, p += rowBytes) {
      const dv = v128.sub<real>(v128.load(p), m);
      if (FLOAT32) {
        const dl = lowF64(dv);
        const dh = highF64(dv);
        lo = f64x2.add(lo, f64x2.mul(dl, dl));
        hi = f64x2.add(hi, f64x2.mul(dh, dh));
      } else {
        lo = f64x2.add(lo, f64x2.mul(dv, dv));
      }
    }
    const vr = joinReal(f64x2.div(lo, vcount), f64x2.div(hi, vcount));
    const vrun = unbiased ? joinReal(f64x2.div(lo, vrunCount), f64x2.div(hi, vrunCount)) : vr;
    const inv = v128.div<real>(one, v128.sqrt<real>(v128.add<real>(vr, veps)));
    v128.store(mean + o, m);
    v128.store(invstd + o, inv);
    v128.store(runningMean + o, v128.add<real>(v128.mul<real>(vmom, v128.load(runningMean + o)), v128.mul<real>(vkeep, m)));
    v128.store(runningVar + o, v128.add<real>(v128.mul<real>(vmom, v128.load(runningVar + o)), v128.mul<real>(vkeep, vrun)));
    // Pass 3: normalize, scale and shift.
    normalizeStrip(out + o, x + o, m, inv, v128.load(gamma + o), v128.load(beta + o), n, rowBytes);
  }
  for (; j < j1; j++) {
    const o = j << SHIFT;
    let s: f64 = 0;
    for (let i: usize = 0; i < n; i++) s += <f64>load<real>(x + o + i * rowBytes);
    const m = <real>(s / count);
    s = 0;
    for (let i: usize = 0; i < n; i++) {
      const dv = <f64>(load<real>(x + o + i * rowBytes) - m);
      s += dv * dv;
    }
    const vr = <real>(s / count);
    const vrun = <real>(s / runCount);
    const inv = <real>1.0 / sqrt<real>(vr + eps);
    store<real>(mean + o, m);
    store<real>(invstd + o, inv);
    store<real>(runningMean + o, mom * load<real>(runningMean + o) + keep * m);
    store<real>(runningVar + o, mom * load<real>(runningVar + o) + keep * vrun);
    normalizeColumn(out + o, x + o, m, inv, load<real>(gamma + o), load<real>(beta + o), n, rowBytes);
  }
}

/**
 * Test-mode forward over rows with the running statistics, features [j0, j1) of d. out: (n, d);
 * mean, invstd: (d) written for a backward pass (mean = runningMean, invstd = 1/sqrt(runningVar + eps));
 * x: (n, d); gamma, beta, runningMean, runningVar: (d). Preconditions: eps > 0, j0 <= j1 <= d. out may alias x.
 */
export function batchnorm_forward_test_range(
  out: usize, mean: usize, invstd: usize,
  x: usize, gamma: usize, beta: usize, runningMean: usize, runningVar: usize, n: usize, d: usize, eps: real, j0: usize, j1: usize,
): void {
  const rowBytes = d << SHIFT;
  const veps = v128.splat<real>(eps);
  const one = v128.splat<real>(1.0);
  let j = j0;
  for (; j + LANES <= j1; j += LANES) {
    const o = j << SHIFT;
    const m = v128.load(runningMean + o);
    const inv = v128.div<real>(one, v128.sqrt<real>(v128.add<real>(v128.load(runningVar + o), veps)));
    v128.store(mean + o, m);
    v128.store(invstd + o, inv);
    normalizeStrip(out + o, x + o, m, inv, v128.load(gamma + o), v128.load(beta + o), n, rowBytes);
  }
  for (; j < j1; j++) {
    const o = j << SHIFT;
    const m = load<real>(runningMean + o);
    const inv = <real>1.0 / sqrt<real>(load<real>(runningVar + o) + eps);
    store<real>(mean + o, m);
    store<real>(invstd + o, inv);
    normalizeColumn(out + o, x + o, m, inv, load<real>(gamma + o), load<real>(beta + o), n, rowBytes);
  }
}

/**
 * Backward over rows, features [j0, j1) of d. dx: (n, d); dgamma, dbeta: (d) (overwritten); dout, x: (n, d);
 * gamma, mean, invstd: (d) as saved by forward. batchStats: true for a train-mode cache (the batch
 * statistics depend on x), false for a test-mode one. Precondition: j0 <= j1 <= d. dx may alias dout or x.
 */
export function batchnorm_backward_range(
  dx: usize, dgamma: usize, dbeta: usize,
  dout: usize, x: usize, gamma: usize, mean: usize, invstd: usize, n: usize, d: usize, batchStats: bool, j0: usize, j1: usize,
): void {
  const rowBytes = d << SHIFT;
  const count = <f64>n;
  const vcount = f64x2.splat(count);
  const zero = v128.splat<real>(0);
  let j = j0;
  for (; j + LANES <= j1; j += LANES) {
    const o = j << SHIFT;
    const m = v128.load(mean + o);
    const inv = v128.load(invstd + o);
    let bLo = f64x2.splat(0);
    let bHi = f64x2.splat(0);
    let gLo = f64x2.splat(0);
    let gHi = f64x2.splat(0);
    for (let i: usize = 0; i < n; i++) {
      const r = o + i * rowBytes;
      const g = v128.load(dout + r);
      const xh = v128.mul<real>(v128.sub<real>(v128.load(x + r), m), inv);
      if (FLOAT32) {
        const gl = lowF64(g);
        const gh = highF64(g);
        bLo = f64x2.add(bLo, gl);
        bHi = f64x2.add(bHi, gh);
        gLo = f64x2.add(gLo, f64x2.mul(gl, lowF64(xh)));
        gHi = f64x2.add(gHi, f64x2.mul(gh, highF64(xh)));
      } else {
        bLo = f64x2.add(bLo, g);
        gLo = f64x2.add(gLo, f64x2.mul(g, xh));
      }
    }
    v128.store(dbeta + o, joinReal(bLo, bHi));
    v128.store(dgamma + o, joinReal(gLo, gHi));
    const a = batchStats ? joinReal(f64x2.div(bLo, vcount), f64x2.div(bHi, vcount)) : zero;
    const b = batchStats ? joinReal(f64x2.div(gLo, vcount), f64x2.div(gHi, vcount)) : zero;
    const k = v128.mul<real>(v128.load(gamma + o), inv);
    for (let i: usize = 0; i < n; i++) {
      const r = o + i * rowBytes;
      const xh = v128.mul<real>(v128.sub<real>(v128.load(x + r), m), inv);
      v128.store(dx + r, v128.mul<real>(k, v128.sub<real>(v128.sub<real>(v128.load(dout + r), a), v128.mul<real>(xh, b))));
    }
  }
  for (; j < j1; j++) {
    const o = j << SHIFT;
    const m = load<real>(mean + o);
    const inv = load<real>(invstd + o);
    let sb: f64 = 0;
    let sg: f64 = 0;
    for (let i: usize = 0; i < n; i++) {
      const r = o + i * rowBytes;
      const g = load<real>(dout + r);
      const xh = (load<real>(x + r) - m) * inv;
      sb += <f64>g;
      sg += <f64>g * <f64>xh;
    }
    store<real>(dbeta + o, <real>sb);
    store<real>(dgamma + o, <real>sg);
    const a: real = batchStats ? <real>(sb / count) : 0;
    const b: real = batchStats ? <real>(sg / count) : 0;
    const k = load<real>(gamma + o) * inv;
    for (let i: usize = 0; i < n; i++) {
      const r = o + i * rowBytes;
      const xh = (load<real>(x + r) - m) * inv;
      store<real>(dx + r, k * ((load<real>(dout + r) - a) - xh * b));
    }
  }
}

/** out = gamma * ((x - m) * inv) + beta down a strip of LANES features. */
@inline function normalizeStrip(out: usize, x: usize, m: v128, inv: v128, g: v128, b: v128, n: usize, rowBytes: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const r = i * rowBytes;
    v128.store(out + r, v128.add<real>(v128.mul<real>(g, v128.mul<real>(v128.sub<real>(v128.load(x + r), m), inv)), b));
  }
}

@inline function normalizeColumn(out: usize, x: usize, m: real, inv: real, g: real, b: real, n: usize, rowBytes: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const r = i * rowBytes;
    store<real>(out + r, g * ((load<real>(x + r) - m) * inv) + b);
  }
}

// ---------------------------------------------------------------------------------------------
// Spatial layout (n, c, s): channel ch is the n runs x[i, ch, 0..s), each contiguous. Within a run
// two v128 at a time (8 f32 lanes to four f64x2 accumulators; 4 f64 lanes to two of them), then
// one v128, then a scalar tail; the partial sums are combined at the end of the channel in a fixed
// order.
// The per-channel passes are plain functions, not @inline: the fused range kernels and the chunk
// kernels call one copy of each (a call per channel or chunk, nothing per element; inlined, they
// were second copies: 1.7 KB of wasm, 0.4 KB deflated, for the same bits and speed).

/** The four accumulators of a run pass, summed: f32 (a0 + a1) + (a2 + a3); f64 a0 + a2 (a1, a3 unused). */
@inline function addQuarters(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  return FLOAT32 ? f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)) : f64x2.add(a0, a2);
}

/** sum over the channel's runs of f64(x). */
function channelSum(x: usize, n: usize, runStride: usize, s: usize): f64 {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let a2 = f64x2.splat(0);
  let a3 = f64x2.splat(0);
  let tail: f64 = 0;
  for (let i: usize = 0; i < n; i++) {
    const p = x + i * runStride;
    let k: usize = 0;
    for (; k + 2 * LANES <= s; k += 2 * LANES) {
      const v = v128.load(p + (k << SHIFT));
      const w = v128.load(p + (k << SHIFT) + 16);
      a0 = f64x2.add(a0, lowF64(v));
      if (FLOAT32) a1 = f64x2.add(a1, highF64(v));
      a2 = f64x2.add(a2, lowF64(w));
      if (FLOAT32) a3 = f64x2.add(a3, highF64(w));
    }
    if (k + LANES <= s) {
      const v = v128.load(p + (k << SHIFT));
      a0 = f64x2.add(a0, lowF64(v));
      if (FLOAT32) a1 = f64x2.add(a1, highF64(v));
      k += LANES;
    }
    for (; k < s; k++) tail += <f64>load<real>(p + (k << SHIFT));
  }
  return sumLanes(addQuarters(a0, a1, a2, a3)) + tail;
}

/** sum over the channel's runs of f64(x - m)^2. */
function channelSquares(x: usize, m: real, n: usize, runStride: usize, s: usize): f64 {
  const vm = v128.splat<real>(m);
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let a2 = f64x2.splat(0);
  let a3 = f64x2.splat(0);
  let tail: f64 = 0;
  for (let i: usize = 0; i < n; i++) {
    const p = x + i * runStride;
    let k: usize = 0;
    for (; k + 2 * LANES <= s; k += 2 * LANES) {
      const v = v128.sub<real>(v128.load(p + (k << SHIFT)), vm);
      const w = v128.sub<real>(v128.load(p + (k << SHIFT) + 16), vm);
      if (FLOAT32) {
        const v0 = lowF64(v), v1 = highF64(v), w0 = lowF64(w), w1 = highF64(w);
        a0 = f64x2.add(a0, f64x2.mul(v0, v0));
        a1 = f64x2.add(a1, f64x2.mul(v1, v1));
        a2 = f64x2.add(a2, f64x2.mul(w0, w0));
        a3 = f64x2.add(a3, f64x2.mul(w1, w1));
      } else {
        a0 = f64x2.add(a0, f64x2.mul(v, v));
        a2 = f64x2.add(a2, f64x2.mul(w, w));
      }
    }
    if (k + LANES <= s) {
      const v = v128.sub<real>(v128.load(p + (k << SHIFT)), vm);
      if (FLOAT32) {
        const v0 = lowF64(v), v1 = highF64(v);
        a0 = f64x2.add(a0, f64x2.mul(v0, v0));
        a1 = f64x2.add(a1, f64x2.mul(v1, v1));
      } else {
        a0 = f64x2.add(a0, f64x2.mul(v, v));
      }
      k += LANES;
    }
    for (; k < s; k++) {
      const dv = <f64>(load<real>(p + (k << SHIFT)) - m);
      tail += dv * dv;
    }
  }
  return sumLanes(addQuarters(a0, a1, a2, a3)) + tail;
}

/** out = g * ((x - m) * inv) + b over the channel's runs. */
function normalizeChannel(out: usize, x: usize, m: real, inv: real, g: real, b: real, n: usize, runStride: usize, s: usize): void {
  const vm = v128.splat<real>(m);
  const vi = v128.splat<real>(inv);
  const vg = v128.splat<real>(g);
  const vb = v128.splat<real>(b);
  for (let i: usize = 0; i < n; i++) {
    const px = x + i * runStride;
    const po = out + i * runStride;
    let k: usize = 0;
    for (; k + LANES <= s; k += LANES) {
      const o = k << SHIFT;
      v128.store(po + o, v128.add<real>(v128.mul<real>(vg, v128.mul<real>(v128.sub<real>(v128.load(px + o), vm), vi)), vb));
    }
    for (; k < s; k++) {
      const o = k << SHIFT;
      store<real>(po + o, g * ((load<real>(px + o) - m) * inv) + b);
    }
  }
}

/**
 * Train-mode forward, NCHW, channels [c0, c1) of c (each channel is independent). out, x: (n, c, s)
 * with s = H*W; mean, invstd: (c) saved for backward; runningMean, runningVar: (c) updated in place;
 * gamma, beta: (c). Preconditions: n >= 1, s >= 1, eps > 0, momentum in [0, 1] (f64). out may alias x.
 */
export function spatial_batchnorm_forward_train_range(
  out: usize, mean: usize, invstd: usize, runningMean: usize, runningVar: usize,
  x: usize, gamma: usize, beta: usize, n: usize, c: usize, s: usize, eps: real, momentum: f64, unbiased: bool, c0: usize, c1: usize,
): void {
  const runStride = (c * s) << SHIFT;
  const count = <f64>n * <f64>s;
  const runCount = unbiased && count > 1 ? count - 1 : count;
  const mom = <real>momentum;
  const keep = <real>(1.0 - momentum);
  for (let ch = c0; ch < c1; ch++) {
    const o = ch << SHIFT;
    const xc = x + ((ch * s) << SHIFT);
    const m = <real>(channelSum(xc, n, runStride, s) / count);
    const squares = channelSquares(xc, m, n, runStride, s);
    const vr = <real>(squares / count);
    const inv = <real>1.0 / sqrt<real>(vr + eps);
    store<real>(mean + o, m);
    store<real>(invstd + o, inv);
    store<real>(runningMean + o, mom * load<real>(runningMean + o) + keep * m);
    store<real>(runningVar + o, mom * load<real>(runningVar + o) + keep * <real>(squares / runCount));
    normalizeChannel(out + ((ch * s) << SHIFT), xc, m, inv, load<real>(gamma + o), load<real>(beta + o), n, runStride, s);
  }
}

/**
 * Test-mode forward, NCHW, with the running statistics, channels [c0, c1) of c. Shapes as in the
 * train kernel; mean and invstd are written for a backward pass. out may alias x.
 */
export function spatial_batchnorm_forward_test_range(
  out: usize, mean: usize, invstd: usize,
  x: usize, gamma: usize, beta: usize, runningMean: usize, runningVar: usize, n: usize, c: usize, s: usize, eps: real, c0: usize, c1: usize,
): void {
  const runStride = (c * s) << SHIFT;
  for (let ch = c0; ch < c1; ch++) {
    const o = ch << SHIFT;
    const m = load<real>(runningMean + o);
    const inv = <real>1.0 / sqrt<real>(load<real>(runningVar + o) + eps);
    store<real>(mean + o, m);
    store<real>(invstd + o, inv);
    normalizeChannel(out + ((ch * s) << SHIFT), x + ((ch * s) << SHIFT), m, inv, load<real>(gamma + o), load<real>(beta + o), n, runStride, s);
  }
}

/**
 * Backward, NCHW, channels [c0, c1) of c. dx, dout, x: (n, c, s); dgamma, dbeta: (c) (overwritten);
 * gamma, mean, invstd: (c) as saved by forward; batchStats as in batchnorm_backward_range.
 * dx may alias dout or x.
 */
export function spatial_batchnorm_backward_range(
  dx: usize, dgamma: usize, dbeta: usize,
  dout: usize, x: usize, gamma: usize, mean: usize, invstd: usize, n: usize, c: usize, s: usize, batchStats: bool, c0: usize, c1: usize,
): void {
  const runStride = (c * s) << SHIFT;
  const count = <f64>n * <f64>s;
  for (let ch = c0; ch < c1; ch++) {
    const o = ch << SHIFT;
    const off = (ch * s) << SHIFT;
    const m = load<real>(mean + o);
    const inv = load<real>(invstd + o);
    // Pass 1: sum dout and sum dout * xhat.
    const sums = channelGradSums(dout + off, x + off, m, inv, n, runStride, s);
    const sb = f64x2.extract_lane(sums, 0);
    const sg = f64x2.extract_lane(sums, 1);
    store<real>(dbeta + o, <real>sb);
    store<real>(dgamma + o, <real>sg);
    // Pass 2: dx.
    const a: real = batchStats ? <real>(sb / count) : 0;
    const b: real = batchStats ? <real>(sg / count) : 0;
    channelDx(dx + off, dout + off, x + off, m, inv, a, b, load<real>(gamma + o) * inv, n, runStride, s);
  }
}

/**
 * The backward pass-1 sums over a channel's runs, as f64x2 (sum f64(dout), sum f64(dout) *
 * f64(xhat)): returned in one v128 so the fused kernel keeps them in registers and the chunk
 * kernel stores them with one store.
 */
function channelGradSums(dout: usize, x: usize, m: real, inv: real, n: usize, runStride: usize, s: usize): v128 {
  const vm = v128.splat<real>(m);
  const vi = v128.splat<real>(inv);
  let b0 = f64x2.splat(0);
  let b1 = f64x2.splat(0);
  let g0 = f64x2.splat(0);
  let g1 = f64x2.splat(0);
  let tb: f64 = 0;
  let tg: f64 = 0;
  for (let i: usize = 0; i < n; i++) {
    const pd = dout + i * runStride;
    const px = x + i * runStride;
    let k: usize = 0;
    for (; k + LANES <= s; k += LANES) {
      const q = k << SHIFT;
      const gv = v128.load(pd + q);
      const xh = v128.mul<real>(v128.sub<real>(v128.load(px + q), vm), vi);
      if (FLOAT32) {
        const gl = lowF64(gv);
        const gh = highF64(gv);
        b0 = f64x2.add(b0, gl);
        b1 = f64x2.add(b1, gh);
        g0 = f64x2.add(g0, f64x2.mul(gl, lowF64(xh)));
        g1 = f64x2.add(g1, f64x2.mul(gh, highF64(xh)));
      } else {
        b0 = f64x2.add(b0, gv);
        g0 = f64x2.add(g0, f64x2.mul(gv, xh));
      }
    }
    for (; k < s; k++) {
      const q = k << SHIFT;
      const gv = load<real>(pd + q);
      const xh = (load<real>(px + q) - m) * inv;
      tb += <f64>gv;
      tg += <f64>gv * <f64>xh;
    }
  }
  return f64x2.replace_lane(f64x2.splat(sumLanes(addHalves(b0, b1)) + tb), 1, sumLanes(addHalves(g0, g1)) + tg);
}

/** dx = k1 * ((dout - a) - xhat * b) over a channel's runs. */
function channelDx(dx: usize, dout: usize, x: usize, m: real, inv: real, a: real, b: real, k1: real, n: usize, runStride: usize, s: usize): void {
  const vm = v128.splat<real>(m);
  const vi = v128.splat<real>(inv);
  const va = v128.splat<real>(a);
  const vb = v128.splat<real>(b);
  const vk = v128.splat<real>(k1);
  for (let i: usize = 0; i < n; i++) {
    const pd = dout + i * runStride;
    const px = x + i * runStride;
    const pdx = dx + i * runStride;
    let k: usize = 0;
    for (; k + LANES <= s; k += LANES) {
      const q = k << SHIFT;
      const xh = v128.mul<real>(v128.sub<real>(v128.load(px + q), vm), vi);
      v128.store(pdx + q, v128.mul<real>(vk, v128.sub<real>(v128.sub<real>(v128.load(pd + q), va), v128.mul<real>(xh, vb))));
    }
    for (; k < s; k++) {
      const q = k << SHIFT;
      const xh = (load<real>(px + q) - m) * inv;
      store<real>(pdx + q, k1 * ((load<real>(pd + q) - a) - xh * b));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Spatial layout in chunks, for threads when channels are few and n*s long. The host picks
// `chunks` (and G = ceil(n / chunks) images per chunk) from the sizes alone; a unit is one
// (channel, chunk) pair, u = ch * chunks + q, covering images [q*G, min(n, (q+1)*G)) of channel ch.
// Each pass is one kernel over a range of units [u0, u1) (a task); the per-unit f64 partial sums
// land in the host's `sums` buffer (one f64 per unit, or two for backward) and are added in
// chunk order (q = 0, 1, ...) by whoever needs the total, so any split of the units gives the
// same bits, and with chunks = 1 these give exactly the bits of the fused per-channel kernels.
// Pass order, train forward: sums, squares, normalize; backward: grad sums, dx.

/** Σ_q sums[(ch * chunks + q) * stride + lane], q ascending (the first term as is). */
@inline function chunkTotal(sums: usize, ch: usize, chunks: usize, stride: usize, lane: usize): f64 {
  const base = sums + ((ch * chunks * stride + lane) << 3);
  let t = load<f64>(base);
  for (let q: usize = 1; q < chunks; q++) t += load<f64>(base + ((q * stride) << 3));
  return t;
}

/** Pass 1 of the chunked train forward: sums[u] = Σ f64(x) over unit u. sums: f64 (c * chunks) */
export function spatial_bn_sums_chunks(sums: usize, x: usize, n: usize, c: usize, s: usize, G: usize, chunks: usize, u0: usize, u1: usize): void {
  const runStride = (c * s) << SHIFT;
  for (let u = u0; u < u1; u++) {
    const ch = u / chunks, q = u % chunks;
    const i0 = q * G, i1 = min(n, i0 + G);
    store<f64>(sums + (u << 3), channelSum(x + (((i0 * c + ch) * s) << SHIFT), i1 - i0, runStride, s));
  }
}

/** Pass 2: squares[u] = Σ f64(x - mean)^2 over unit u, mean = real(total sum / (n*s)). squares: f64 (c * chunks) */
export function spatial_bn_squares_chunks(
  squares: usize, sums: usize, x: usize, n: usize, c: usize, s: usize, G: usize, chunks: usize, u0: usize, u1: usize,
): void {
  const runStride = (c * s) << SHIFT;
  const count = <f64>n * <f64>s;
  for (let u = u0; u < u1; u++) {
    const ch = u / chunks, q = u % chunks;
    const i0 = q * G, i1 = min(n, i0 + G);
    const m = <real>(chunkTotal(sums, ch, chunks, 1, 0) / count);
    store<f64>(squares + (u << 3), channelSquares(x + (((i0 * c + ch) * s) << SHIFT), m, i1 - i0, runStride, s));
  }
}

/**
 * Pass 3: mean, invstd and the running statistics (written by each channel's chunk 0), and out
 * for unit u's images. Shapes and aliasing as spatial_batchnorm_forward_train_range.
 */
export function spatial_bn_normalize_chunks(
  out: usize, mean: usize, invstd: usize, runningMean: usize, runningVar: usize, sums: usize, squares: usize,
  x: usize, gamma: usize, beta: usize, n: usize, c: usize, s: usize, G: usize, chunks: usize, eps: real, momentum: f64,
  unbiased: bool, u0: usize, u1: usize,
): void {
  const runStride = (c * s) << SHIFT;
  const count = <f64>n * <f64>s;
  const runCount = unbiased && count > 1 ? count - 1 : count;
  const mom = <real>momentum;
  const keep = <real>(1.0 - momentum);
  for (let u = u0; u < u1; u++) {
    const ch = u / chunks, q = u % chunks;
    const i0 = q * G, i1 = min(n, i0 + G);
    const o = ch << SHIFT;
    const m = <real>(chunkTotal(sums, ch, chunks, 1, 0) / count);
    const total = chunkTotal(squares, ch, chunks, 1, 0);
    const vr = <real>(total / count);
    const inv = <real>1.0 / sqrt<real>(vr + eps);
    if (q == 0) {
      store<real>(mean + o, m);
      store<real>(invstd + o, inv);
      store<real>(runningMean + o, mom * load<real>(runningMean + o) + keep * m);
      store<real>(runningVar + o, mom * load<real>(runningVar + o) + keep * <real>(total / runCount));
    }
    const off = ((i0 * c + ch) * s) << SHIFT;
    normalizeChannel(out + off, x + off, m, inv, load<real>(gamma + o), load<real>(beta + o), i1 - i0, runStride, s);
  }
}

/** Backward pass 1: sums[2u] = Σ f64(dout), sums[2u + 1] = Σ f64(dout)·f64(xhat) over unit u. sums: f64 (2 * c * chunks) */
export function spatial_bn_backward_sums_chunks(
  sums: usize, dout: usize, x: usize, mean: usize, invstd: usize, n: usize, c: usize, s: usize, G: usize, chunks: usize, u0: usize, u1: usize,
): void {
  const runStride = (c * s) << SHIFT;
  for (let u = u0; u < u1; u++) {
    const ch = u / chunks, q = u % chunks;
    const i0 = q * G, i1 = min(n, i0 + G);
    const off = ((i0 * c + ch) * s) << SHIFT;
    const m = load<real>(mean + (ch << SHIFT));
    const inv = load<real>(invstd + (ch << SHIFT));
    v128.store(sums + (u << 4), channelGradSums(dout + off, x + off, m, inv, i1 - i0, runStride, s));
  }
}

/**
 * Backward pass 2: dbeta, dgamma (written by each channel's chunk 0) and dx for unit u's images.
 * Shapes, batchStats and aliasing as spatial_batchnorm_backward_range.
 */
export function spatial_bn_backward_dx_chunks(
  dx: usize, dgamma: usize, dbeta: usize, sums: usize, dout: usize, x: usize, gamma: usize, mean: usize, invstd: usize,
  n: usize, c: usize, s: usize, G: usize, chunks: usize, batchStats: bool, u0: usize, u1: usize,
): void {
  const runStride = (c * s) << SHIFT;
  const count = <f64>n * <f64>s;
  for (let u = u0; u < u1; u++) {
    const ch = u / chunks, q = u % chunks;
    const i0 = q * G, i1 = min(n, i0 + G);
    const o = ch << SHIFT;
    const sb = chunkTotal(sums, ch, chunks, 2, 0);
    const sg = chunkTotal(sums, ch, chunks, 2, 1);
    if (q == 0) {
      store<real>(dbeta + o, <real>sb);
      store<real>(dgamma + o, <real>sg);
    }
    const a: real = batchStats ? <real>(sb / count) : 0;
    const b: real = batchStats ? <real>(sg / count) : 0;
    const inv = load<real>(invstd + o);
    const off = ((i0 * c + ch) * s) << SHIFT;
    channelDx(dx + off, dout + off, x + off, load<real>(mean + o), inv, a, b, load<real>(gamma + o) * inv, i1 - i0, runStride, s);
  }
}
