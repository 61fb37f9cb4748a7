// Batch normalization over the batch axis. Two layouts share one set of formulas:
//   rows:    x (n, d), statistics per feature j over the n rows       (BatchNorm)
//   spatial: x (n, c, s) with s = H*W, statistics per channel over n*s (SpatialBatchNorm, NCHW)
// The spatial kernels walk NCHW directly (channel c is n contiguous runs of s values), so no
// transposed copy is made.
//
// Formulas (every kernel and its scalar twin in reference/batchnorm.ts use exactly these):
//   mean   = f32(sum_f64(x) / count)                     count = n (rows) or n*s (spatial)
//   var    = f32(sum_f64((f64)(x - mean)^2) / count)     biased, two-pass (no cancellation)
//   invstd = 1 / sqrt(var + eps)                         f32
//   xhat   = (x - mean) * invstd;  out = gamma * xhat + beta
//   running = m * running + k * batch, m = f32(momentum), k = f32(1 - momentum) from the f64
//   momentum (0.9 gives k = f32(0.1), not f32(1 - f32(0.9))); train mode only, mean and var
// Backward (the compact closed form; dxhat = dout * gamma):
//   dbeta = sum dout,  dgamma = sum dout * xhat           (f64 sums, xhat recomputed bit-exactly)
//   dx = gamma * invstd * ((dout - dbeta/count) - xhat * dgamma/count)
//      = (1/count) * invstd * (count*dxhat - sum(dxhat) - xhat*sum(dxhat*xhat))
// With batchStats = false (a test-mode cache: the statistics are constants) dx = gamma*invstd*dout.
//
// Sums of f32 values accumulate in f64, in an order fixed by the sizes alone: the same bits in
// every engine. In the rows layout each feature is summed row by row, exactly like the twin.

// ---------------------------------------------------------------------------------------------
// f64 accumulation helpers: four f32 lanes into two f64x2 accumulators (lanes 0,1 and 2,3).

@inline function lowF64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

@inline function highF64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1));
}

/** Four f32 lanes from two f64x2 values: [lo0, lo1, hi0, hi1]. */
@inline function joinF32(lo: v128, hi: v128): v128 {
  return v128.shuffle<u32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

@inline function sumLanes(a: v128): f64 {
  return f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
}

// ---------------------------------------------------------------------------------------------
// Rows layout (n, d): features in blocks of four walk the n rows with stride d (a column strip of
// n x 16 bytes, which stays in cache for the strip's passes and the next strips); the d % 4 last
// features take the scalar path. Every per-feature sum is sequential over rows.

// Range entry points (one thread's share): features [j0, j1) only, every other feature untouched.
// A feature's result does not depend on the range it falls in: the four-lane strips and the
// scalar tail do the same operations per feature (f64 sums row by row, the same f32 formulas).

/**
 * Train-mode forward over rows, features [j0, j1) of d. out: (n, d); mean, invstd: (d) saved for
 * backward; runningMean, runningVar: (d) updated in place; x: (n, d); gamma, beta: (d).
 * Preconditions: n >= 1, eps > 0, momentum in [0, 1] (f64), j0 <= j1 <= d. out may alias x (each
 * element is read before it is written); mean/invstd/running buffers alias nothing else.
 */
export function f32_batchnorm_forward_train_range(
  out: usize, mean: usize, invstd: usize, runningMean: usize, runningVar: usize,
  x: usize, gamma: usize, beta: usize, n: usize, d: usize, eps: f32, momentum: f64, j0: usize, j1: usize,
): void {
  const rowBytes = d << 2;
  const count = <f64>n;
  const vcount = f64x2.splat(count);
  const veps = f32x4.splat(eps);
  const mom = <f32>momentum;
  const keep = <f32>(1.0 - momentum);
  const vmom = f32x4.splat(mom);
  const vkeep = f32x4.splat(keep);
  const one = f32x4.splat(1.0);
  let j = j0;
  for (; j + 4 <= j1; j += 4) {
    const o = j << 2;
    // Pass 1: mean.
    let lo = f64x2.splat(0);
    let hi = f64x2.splat(0);
    let p = x + o;
    for (let i: usize = 0; i < n; i++, p += rowBytes) {
      const v = v128.load(p);
      lo = f64x2.add(lo, lowF64(v));
      hi = f64x2.add(hi, highF64(v));
    }
    const m = joinF32(f64x2.div(lo, vcount), f64x2.div(hi, vcount));
    // Pass 2: biased variance around the f32 mean, squares exact in f64.
    lo = f64x2.splat(0);
    hi = f64x2.splat(0);
    p = x + o;
    for (let i: usize = 0; i < n; i++, p += rowBytes) {
      const dv = f32x4.sub(v128.load(p), m);
      const dl = lowF64(dv);
      const dh = highF64(dv);
      lo = f64x2.add(lo, f64x2.mul(dl, dl));
      hi = f64x2.add(hi, f64x2.mul(dh, dh));
    }
    const vr = joinF32(f64x2.div(lo, vcount), f64x2.div(hi, vcount));
    const inv = f32x4.div(one, f32x4.sqrt(f32x4.add(vr, veps)));
    v128.store(mean + o, m);
    v128.store(invstd + o, inv);
    v128.store(runningMean + o, f32x4.add(f32x4.mul(vmom, v128.load(runningMean + o)), f32x4.mul(vkeep, m)));
    v128.store(runningVar + o, f32x4.add(f32x4.mul(vmom, v128.load(runningVar + o)), f32x4.mul(vkeep, vr)));
    // Pass 3: normalize, scale and shift.
    normalizeStrip(out + o, x + o, m, inv, v128.load(gamma + o), v128.load(beta + o), n, rowBytes);
  }
  for (; j < j1; j++) {
    const o = j << 2;
    let s: f64 = 0;
    for (let i: usize = 0; i < n; i++) s += <f64>load<f32>(x + o + i * rowBytes);
    const m = <f32>(s / count);
    s = 0;
    for (let i: usize = 0; i < n; i++) {
      const dv = <f64>(load<f32>(x + o + i * rowBytes) - m);
      s += dv * dv;
    }
    const vr = <f32>(s / count);
    const inv = <f32>1.0 / sqrt<f32>(vr + eps);
    store<f32>(mean + o, m);
    store<f32>(invstd + o, inv);
    store<f32>(runningMean + o, mom * load<f32>(runningMean + o) + keep * m);
    store<f32>(runningVar + o, mom * load<f32>(runningVar + o) + keep * vr);
    normalizeColumn(out + o, x + o, m, inv, load<f32>(gamma + o), load<f32>(beta + o), n, rowBytes);
  }
}

/**
 * Test-mode forward over rows with the running statistics, features [j0, j1) of d. out: (n, d);
 * mean, invstd: (d) written for a backward pass (mean = runningMean, invstd = 1/sqrt(runningVar + eps));
 * x: (n, d); gamma, beta, runningMean, runningVar: (d). Preconditions: eps > 0, j0 <= j1 <= d. out may alias x.
 */
export function f32_batchnorm_forward_test_range(
  out: usize, mean: usize, invstd: usize,
  x: usize, gamma: usize, beta: usize, runningMean: usize, runningVar: usize, n: usize, d: usize, eps: f32, j0: usize, j1: usize,
): void {
  const rowBytes = d << 2;
  const veps = f32x4.splat(eps);
  const one = f32x4.splat(1.0);
  let j = j0;
  for (; j + 4 <= j1; j += 4) {
    const o = j << 2;
    const m = v128.load(runningMean + o);
    const inv = f32x4.div(one, f32x4.sqrt(f32x4.add(v128.load(runningVar + o), veps)));
    v128.store(mean + o, m);
    v128.store(invstd + o, inv);
    normalizeStrip(out + o, x + o, m, inv, v128.load(gamma + o), v128.load(beta + o), n, rowBytes);
  }
  for (; j < j1; j++) {
    const o = j << 2;
    const m = load<f32>(runningMean + o);
    const inv = <f32>1.0 / sqrt<f32>(load<f32>(runningVar + o) + eps);
    store<f32>(mean + o, m);
    store<f32>(invstd + o, inv);
    normalizeColumn(out + o, x + o, m, inv, load<f32>(gamma + o), load<f32>(beta + o), n, rowBytes);
  }
}

/**
 * Backward over rows, features [j0, j1) of d. dx: (n, d); dgamma, dbeta: (d) (overwritten); dout, x: (n, d);
 * gamma, mean, invstd: (d) as saved by forward. batchStats: true for a train-mode cache (the batch
 * statistics depend on x), false for a test-mode one. Precondition: j0 <= j1 <= d. dx may alias dout or x.
 */
export function f32_batchnorm_backward_range(
  dx: usize, dgamma: usize, dbeta: usize,
  dout: usize, x: usize, gamma: usize, mean: usize, invstd: usize, n: usize, d: usize, batchStats: bool, j0: usize, j1: usize,
): void {
  const rowBytes = d << 2;
  const count = <f64>n;
  const vcount = f64x2.splat(count);
  const zero = f32x4.splat(0);
  let j = j0;
  for (; j + 4 <= j1; j += 4) {
    const o = j << 2;
    const m = v128.load(mean + o);
    const inv = v128.load(invstd + o);
    let bLo = f64x2.splat(0);
    let bHi = f64x2.splat(0);
    let gLo = f64x2.splat(0);
    let gHi = f64x2.splat(0);
    for (let i: usize = 0; i < n; i++) {
      const r = o + i * rowBytes;
      const g = v128.load(dout + r);
      const xh = f32x4.mul(f32x4.sub(v128.load(x + r), m), inv);
      const gl = lowF64(g);
      const gh = highF64(g);
      bLo = f64x2.add(bLo, gl);
      bHi = f64x2.add(bHi, gh);
      gLo = f64x2.add(gLo, f64x2.mul(gl, lowF64(xh)));
      gHi = f64x2.add(gHi, f64x2.mul(gh, highF64(xh)));
    }
    v128.store(dbeta + o, joinF32(bLo, bHi));
    v128.store(dgamma + o, joinF32(gLo, gHi));
    const a = batchStats ? joinF32(f64x2.div(bLo, vcount), f64x2.div(bHi, vcount)) : zero;
    const b = batchStats ? joinF32(f64x2.div(gLo, vcount), f64x2.div(gHi, vcount)) : zero;
    const k = f32x4.mul(v128.load(gamma + o), inv);
    for (let i: usize = 0; i < n; i++) {
      const r = o + i * rowBytes;
      const xh = f32x4.mul(f32x4.sub(v128.load(x + r), m), inv);
      v128.store(dx + r, f32x4.mul(k, f32x4.sub(f32x4.sub(v128.load(dout + r), a), f32x4.mul(xh, b))));
    }
  }
  for (; j < j1; j++) {
    const o = j << 2;
    const m = load<f32>(mean + o);
    const inv = load<f32>(invstd + o);
    let sb: f64 = 0;
    let sg: f64 = 0;
    for (let i: usize = 0; i < n; i++) {
      const r = o + i * rowBytes;
      const g = load<f32>(dout + r);
      const xh = (load<f32>(x + r) - m) * inv;
      sb += <f64>g;
      sg += <f64>g * <f64>xh;
    }
    store<f32>(dbeta + o, <f32>sb);
    store<f32>(dgamma + o, <f32>sg);
    const a: f32 = batchStats ? <f32>(sb / count) : 0;
    const b: f32 = batchStats ? <f32>(sg / count) : 0;
    const k = load<f32>(gamma + o) * inv;
    for (let i: usize = 0; i < n; i++) {
      const r = o + i * rowBytes;
      const xh = (load<f32>(x + r) - m) * inv;
      store<f32>(dx + r, k * ((load<f32>(dout + r) - a) - xh * b));
    }
  }
}

/** out = gamma * ((x - m) * inv) + beta down a strip of four features. */
@inline function normalizeStrip(out: usize, x: usize, m: v128, inv: v128, g: v128, b: v128, n: usize, rowBytes: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const r = i * rowBytes;
    v128.store(out + r, f32x4.add(f32x4.mul(g, f32x4.mul(f32x4.sub(v128.load(x + r), m), inv)), b));
  }
}

@inline function normalizeColumn(out: usize, x: usize, m: f32, inv: f32, g: f32, b: f32, n: usize, rowBytes: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const r = i * rowBytes;
    store<f32>(out + r, g * ((load<f32>(x + r) - m) * inv) + b);
  }
}

// ---------------------------------------------------------------------------------------------
// Spatial layout (n, c, s): channel ch is the n runs x[i, ch, 0..s), each contiguous. Within a run
// eight lanes go to four f64x2 accumulators (then four lanes, then a scalar tail); the partial
// sums are combined at the end of the channel in a fixed order.
// The per-channel passes are plain functions, not @inline: the fused range kernels and the chunk
// kernels call one copy of each (a call per channel or chunk, nothing per element; inlined, they
// were second copies: 1.7 KB of wasm, 0.4 KB deflated, for the same bits and speed).

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
    for (; k + 8 <= s; k += 8) {
      const v = v128.load(p + (k << 2));
      const w = v128.load(p + (k << 2) + 16);
      a0 = f64x2.add(a0, lowF64(v));
      a1 = f64x2.add(a1, highF64(v));
      a2 = f64x2.add(a2, lowF64(w));
      a3 = f64x2.add(a3, highF64(w));
    }
    if (k + 4 <= s) {
      const v = v128.load(p + (k << 2));
      a0 = f64x2.add(a0, lowF64(v));
      a1 = f64x2.add(a1, highF64(v));
      k += 4;
    }
    for (; k < s; k++) tail += <f64>load<f32>(p + (k << 2));
  }
  return sumLanes(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3))) + tail;
}

/** sum over the channel's runs of f64(x - m)^2. */
function channelSquares(x: usize, m: f32, n: usize, runStride: usize, s: usize): f64 {
  const vm = f32x4.splat(m);
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let a2 = f64x2.splat(0);
  let a3 = f64x2.splat(0);
  let tail: f64 = 0;
  for (let i: usize = 0; i < n; i++) {
    const p = x + i * runStride;
    let k: usize = 0;
    for (; k + 8 <= s; k += 8) {
      const v = f32x4.sub(v128.load(p + (k << 2)), vm);
      const w = f32x4.sub(v128.load(p + (k << 2) + 16), vm);
      const v0 = lowF64(v), v1 = highF64(v), w0 = lowF64(w), w1 = highF64(w);
      a0 = f64x2.add(a0, f64x2.mul(v0, v0));
      a1 = f64x2.add(a1, f64x2.mul(v1, v1));
      a2 = f64x2.add(a2, f64x2.mul(w0, w0));
      a3 = f64x2.add(a3, f64x2.mul(w1, w1));
    }
    if (k + 4 <= s) {
      const v = f32x4.sub(v128.load(p + (k << 2)), vm);
      const v0 = lowF64(v), v1 = highF64(v);
      a0 = f64x2.add(a0, f64x2.mul(v0, v0));
      a1 = f64x2.add(a1, f64x2.mul(v1, v1));
      k += 4;
    }
    for (; k < s; k++) {
      const dv = <f64>(load<f32>(p + (k << 2)) - m);
      tail += dv * dv;
    }
  }
  return sumLanes(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3))) + tail;
}

/** out = g * ((x - m) * inv) + b over the channel's runs. */
function normalizeChannel(out: usize, x: usize, m: f32, inv: f32, g: f32, b: f32, n: usize, runStride: usize, s: usize): void {
  const vm = f32x4.splat(m);
  const vi = f32x4.splat(inv);
  const vg = f32x4.splat(g);
  const vb = f32x4.splat(b);
  for (let i: usize = 0; i < n; i++) {
    const px = x + i * runStride;
    const po = out + i * runStride;
    let k: usize = 0;
    for (; k + 4 <= s; k += 4) {
      const o = k << 2;
      v128.store(po + o, f32x4.add(f32x4.mul(vg, f32x4.mul(f32x4.sub(v128.load(px + o), vm), vi)), vb));
    }
    for (; k < s; k++) {
      const o = k << 2;
      store<f32>(po + o, g * ((load<f32>(px + o) - m) * inv) + b);
    }
  }
}

/**
 * Train-mode forward, NCHW, channels [c0, c1) of c (each channel is independent). out, x: (n, c, s)
 * with s = H*W; mean, invstd: (c) saved for backward; runningMean, runningVar: (c) updated in place;
 * gamma, beta: (c). Preconditions: n >= 1, s >= 1, eps > 0, momentum in [0, 1] (f64). out may alias x.
 */
export function f32_spatial_batchnorm_forward_train_range(
  out: usize, mean: usize, invstd: usize, runningMean: usize, runningVar: usize,
  x: usize, gamma: usize, beta: usize, n: usize, c: usize, s: usize, eps: f32, momentum: f64, c0: usize, c1: usize,
): void {
  const runStride = (c * s) << 2;
  const count = <f64>n * <f64>s;
  const mom = <f32>momentum;
  const keep = <f32>(1.0 - momentum);
  for (let ch = c0; ch < c1; ch++) {
    const o = ch << 2;
    const xc = x + ((ch * s) << 2);
    const m = <f32>(channelSum(xc, n, runStride, s) / count);
    const vr = <f32>(channelSquares(xc, m, n, runStride, s) / count);
    const inv = <f32>1.0 / sqrt<f32>(vr + eps);
    store<f32>(mean + o, m);
    store<f32>(invstd + o, inv);
    store<f32>(runningMean + o, mom * load<f32>(runningMean + o) + keep * m);
    store<f32>(runningVar + o, mom * load<f32>(runningVar + o) + keep * vr);
    normalizeChannel(out + ((ch * s) << 2), xc, m, inv, load<f32>(gamma + o), load<f32>(beta + o), n, runStride, s);
  }
}

/**
 * Test-mode forward, NCHW, with the running statistics, channels [c0, c1) of c. Shapes as in the
 * train kernel; mean and invstd are written for a backward pass. out may alias x.
 */
export function f32_spatial_batchnorm_forward_test_range(
  out: usize, mean: usize, invstd: usize,
  x: usize, gamma: usize, beta: usize, runningMean: usize, runningVar: usize, n: usize, c: usize, s: usize, eps: f32, c0: usize, c1: usize,
): void {
  const runStride = (c * s) << 2;
  for (let ch = c0; ch < c1; ch++) {
    const o = ch << 2;
    const m = load<f32>(runningMean + o);
    const inv = <f32>1.0 / sqrt<f32>(load<f32>(runningVar + o) + eps);
    store<f32>(mean + o, m);
    store<f32>(invstd + o, inv);
    normalizeChannel(out + ((ch * s) << 2), x + ((ch * s) << 2), m, inv, load<f32>(gamma + o), load<f32>(beta + o), n, runStride, s);
  }
}

/**
 * Backward, NCHW, channels [c0, c1) of c. dx, dout, x: (n, c, s); dgamma, dbeta: (c) (overwritten);
 * gamma, mean, invstd: (c) as saved by forward; batchStats as in f32_batchnorm_backward_range.
 * dx may alias dout or x.
 */
export function f32_spatial_batchnorm_backward_range(
  dx: usize, dgamma: usize, dbeta: usize,
  dout: usize, x: usize, gamma: usize, mean: usize, invstd: usize, n: usize, c: usize, s: usize, batchStats: bool, c0: usize, c1: usize,
): void {
  const runStride = (c * s) << 2;
  const count = <f64>n * <f64>s;
  for (let ch = c0; ch < c1; ch++) {
    const o = ch << 2;
    const off = (ch * s) << 2;
    const m = load<f32>(mean + o);
    const inv = load<f32>(invstd + o);
    // Pass 1: sum dout and sum dout * xhat.
    const sums = channelGradSums(dout + off, x + off, m, inv, n, runStride, s);
    const sb = f64x2.extract_lane(sums, 0);
    const sg = f64x2.extract_lane(sums, 1);
    store<f32>(dbeta + o, <f32>sb);
    store<f32>(dgamma + o, <f32>sg);
    // Pass 2: dx.
    const a: f32 = batchStats ? <f32>(sb / count) : 0;
    const b: f32 = batchStats ? <f32>(sg / count) : 0;
    channelDx(dx + off, dout + off, x + off, m, inv, a, b, load<f32>(gamma + o) * inv, n, runStride, s);
  }
}

/**
 * The backward pass-1 sums over a channel's runs, as f64x2 (sum f64(dout), sum f64(dout) *
 * f64(xhat)): returned in one v128 so the fused kernel keeps them in registers and the chunk
 * kernel stores them with one store.
 */
function channelGradSums(dout: usize, x: usize, m: f32, inv: f32, n: usize, runStride: usize, s: usize): v128 {
  const vm = f32x4.splat(m);
  const vi = f32x4.splat(inv);
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
    for (; k + 4 <= s; k += 4) {
      const q = k << 2;
      const gv = v128.load(pd + q);
      const xh = f32x4.mul(f32x4.sub(v128.load(px + q), vm), vi);
      const gl = lowF64(gv);
      const gh = highF64(gv);
      b0 = f64x2.add(b0, gl);
      b1 = f64x2.add(b1, gh);
      g0 = f64x2.add(g0, f64x2.mul(gl, lowF64(xh)));
      g1 = f64x2.add(g1, f64x2.mul(gh, highF64(xh)));
    }
    for (; k < s; k++) {
      const q = k << 2;
      const gv = load<f32>(pd + q);
      const xh = (load<f32>(px + q) - m) * inv;
      tb += <f64>gv;
      tg += <f64>gv * <f64>xh;
    }
  }
  return f64x2.replace_lane(f64x2.splat(sumLanes(f64x2.add(b0, b1)) + tb), 1, sumLanes(f64x2.add(g0, g1)) + tg);
}

/** dx = k1 * ((dout - a) - xhat * b) over a channel's runs. */
function channelDx(dx: usize, dout: usize, x: usize, m: f32, inv: f32, a: f32, b: f32, k1: f32, n: usize, runStride: usize, s: usize): void {
  const vm = f32x4.splat(m);
  const vi = f32x4.splat(inv);
  const va = f32x4.splat(a);
  const vb = f32x4.splat(b);
  const vk = f32x4.splat(k1);
  for (let i: usize = 0; i < n; i++) {
    const pd = dout + i * runStride;
    const px = x + i * runStride;
    const pdx = dx + i * runStride;
    let k: usize = 0;
    for (; k + 4 <= s; k += 4) {
      const q = k << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(px + q), vm), vi);
      v128.store(pdx + q, f32x4.mul(vk, f32x4.sub(f32x4.sub(v128.load(pd + q), va), f32x4.mul(xh, vb))));
    }
    for (; k < s; k++) {
      const q = k << 2;
      const xh = (load<f32>(px + q) - m) * inv;
      store<f32>(pdx + q, k1 * ((load<f32>(pd + q) - a) - xh * b));
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
export function f32_spatial_bn_sums_chunks(sums: usize, x: usize, n: usize, c: usize, s: usize, G: usize, chunks: usize, u0: usize, u1: usize): void {
  const runStride = (c * s) << 2;
  for (let u = u0; u < u1; u++) {
    const ch = u / chunks, q = u % chunks;
    const i0 = q * G, i1 = min(n, i0 + G);
    store<f64>(sums + (u << 3), channelSum(x + (((i0 * c + ch) * s) << 2), i1 - i0, runStride, s));
  }
}

/** Pass 2: squares[u] = Σ f64(x - mean)^2 over unit u, mean = f32(total sum / (n*s)). squares: f64 (c * chunks) */
export function f32_spatial_bn_squares_chunks(
  squares: usize, sums: usize, x: usize, n: usize, c: usize, s: usize, G: usize, chunks: usize, u0: usize, u1: usize,
): void {
  const runStride = (c * s) << 2;
  const count = <f64>n * <f64>s;
  for (let u = u0; u < u1; u++) {
    const ch = u / chunks, q = u % chunks;
    const i0 = q * G, i1 = min(n, i0 + G);
    const m = <f32>(chunkTotal(sums, ch, chunks, 1, 0) / count);
    store<f64>(squares + (u << 3), channelSquares(x + (((i0 * c + ch) * s) << 2), m, i1 - i0, runStride, s));
  }
}

/**
 * Pass 3: mean, invstd and the running statistics (written by each channel's chunk 0), and out
 * for unit u's images. Shapes and aliasing as f32_spatial_batchnorm_forward_train_range.
 */
export function f32_spatial_bn_normalize_chunks(
  out: usize, mean: usize, invstd: usize, runningMean: usize, runningVar: usize, sums: usize, squares: usize,
  x: usize, gamma: usize, beta: usize, n: usize, c: usize, s: usize, G: usize, chunks: usize, eps: f32, momentum: f64,
  u0: usize, u1: usize,
): void {
  const runStride = (c * s) << 2;
  const count = <f64>n * <f64>s;
  const mom = <f32>momentum;
  const keep = <f32>(1.0 - momentum);
  for (let u = u0; u < u1; u++) {
    const ch = u / chunks, q = u % chunks;
    const i0 = q * G, i1 = min(n, i0 + G);
    const o = ch << 2;
    const m = <f32>(chunkTotal(sums, ch, chunks, 1, 0) / count);
    const vr = <f32>(chunkTotal(squares, ch, chunks, 1, 0) / count);
    const inv = <f32>1.0 / sqrt<f32>(vr + eps);
    if (q == 0) {
      store<f32>(mean + o, m);
      store<f32>(invstd + o, inv);
      store<f32>(runningMean + o, mom * load<f32>(runningMean + o) + keep * m);
      store<f32>(runningVar + o, mom * load<f32>(runningVar + o) + keep * vr);
    }
    const off = ((i0 * c + ch) * s) << 2;
    normalizeChannel(out + off, x + off, m, inv, load<f32>(gamma + o), load<f32>(beta + o), i1 - i0, runStride, s);
  }
}

/** Backward pass 1: sums[2u] = Σ f64(dout), sums[2u + 1] = Σ f64(dout)·f64(xhat) over unit u. sums: f64 (2 * c * chunks) */
export function f32_spatial_bn_backward_sums_chunks(
  sums: usize, dout: usize, x: usize, mean: usize, invstd: usize, n: usize, c: usize, s: usize, G: usize, chunks: usize, u0: usize, u1: usize,
): void {
  const runStride = (c * s) << 2;
  for (let u = u0; u < u1; u++) {
    const ch = u / chunks, q = u % chunks;
    const i0 = q * G, i1 = min(n, i0 + G);
    const off = ((i0 * c + ch) * s) << 2;
    const m = load<f32>(mean + (ch << 2));
    const inv = load<f32>(invstd + (ch << 2));
    v128.store(sums + (u << 4), channelGradSums(dout + off, x + off, m, inv, i1 - i0, runStride, s));
  }
}

/**
 * Backward pass 2: dbeta, dgamma (written by each channel's chunk 0) and dx for unit u's images.
 * Shapes, batchStats and aliasing as f32_spatial_batchnorm_backward_range.
 */
export function f32_spatial_bn_backward_dx_chunks(
  dx: usize, dgamma: usize, dbeta: usize, sums: usize, dout: usize, x: usize, gamma: usize, mean: usize, invstd: usize,
  n: usize, c: usize, s: usize, G: usize, chunks: usize, batchStats: bool, u0: usize, u1: usize,
): void {
  const runStride = (c * s) << 2;
  const count = <f64>n * <f64>s;
  for (let u = u0; u < u1; u++) {
    const ch = u / chunks, q = u % chunks;
    const i0 = q * G, i1 = min(n, i0 + G);
    const o = ch << 2;
    const sb = chunkTotal(sums, ch, chunks, 2, 0);
    const sg = chunkTotal(sums, ch, chunks, 2, 1);
    if (q == 0) {
      store<f32>(dbeta + o, <f32>sb);
      store<f32>(dgamma + o, <f32>sg);
    }
    const a: f32 = batchStats ? <f32>(sb / count) : 0;
    const b: f32 = batchStats ? <f32>(sg / count) : 0;
    const inv = load<f32>(invstd + o);
    const off = ((i0 * c + ch) * s) << 2;
    channelDx(dx + off, dout + off, x + off, load<f32>(mean + o), inv, a, b, load<f32>(gamma + o) * inv, i1 - i0, runStride, s);
  }
}
