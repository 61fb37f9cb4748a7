// Smooth activations over `real` (see real.ts).
//
// float32 tanh is computed in f64 lanes (f64x2) from an expm1 whose error is far below
// float32's resolution, so the rounded f32 result is within about 0.5 ulp of the true tanh (nearly
// always the correctly rounded value), identical in every engine (IEEE f64 ops only, no fused
// multiply-add), and no slower than it needs to be: two f64x2 evaluations per four f32 values.
//
//   tanh(|x|) = -e / (2 + e),   e = expm1(-2|x|) in (-1, 0]     (no cancellation for any x)
//   expm1(z) = 2^k * expm1(t) + (2^k - 1),   z = k ln2 + t, |t| <= ln2/2   (Cody-Waite reduction)
//   expm1(t) = t + t^2/2! + ... + t^11/11!   (Taylor; truncation < 2e-14 relative on |t| <= 0.35)
// |x| is clamped to 10 first (tanh(10) rounds to 1 in f32), which keeps 2^k a normal number;
// the sign is put back at the end, so tanh(-0) = -0, and NaN stays NaN.

import { erfc } from "./erf";
import { FLOAT32, LANES, SHIFT } from "./real";

const CLAMP: f64 = 10.0;
const INV_LN2: f64 = 1.4426950408889634;
// ln2 split so k * LN2_HI is exact for |k| < 2^11 (fdlibm's constants).
const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
// Adding 1.5 * 2^52 rounds to an integer and leaves it in the low mantissa bits.
const ROUNDER: f64 = 6755399441055744.0;

/** tanh of both f64 lanes. */
@inline function tanh2(x: v128): v128 {
  const ax = f64x2.min(f64x2.abs(x), f64x2.splat(CLAMP)); // NaN propagates through min
  const z = f64x2.mul(ax, f64x2.splat(-2.0)); // [-20, 0], exact
  const kr = f64x2.add(f64x2.mul(z, f64x2.splat(INV_LN2)), f64x2.splat(ROUNDER));
  const k = f64x2.sub(kr, f64x2.splat(ROUNDER));
  const t = f64x2.sub(f64x2.sub(z, f64x2.mul(k, f64x2.splat(LN2_HI))), f64x2.mul(k, f64x2.splat(LN2_LO)));
  // 2^k: k sits in kr's low bits; biased exponent k + 1023 in [994, 1023].
  const s = i64x2.shl(i64x2.add(kr, i64x2.splat(1023)), 52);
  // expm1(t) by Horner: t * (1 + t * (1/2 + t * (1/6 + ... + t / 11!)))
  let p = f64x2.splat(2.505210838544172e-8); // 1/11!
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(2.755731922398589e-7)); // 1/10!
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(2.7557319223985893e-6)); // 1/9!
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(2.48015873015873e-5)); // 1/8!
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(1.984126984126984e-4)); // 1/7!
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(1.388888888888889e-3)); // 1/6!
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(8.333333333333333e-3)); // 1/5!
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(4.1666666666666664e-2)); // 1/4!
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(1.6666666666666666e-1)); // 1/3!
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(0.5));
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(1.0));
  p = f64x2.mul(p, t);
  const one = f64x2.splat(1.0);
  const e = f64x2.add(f64x2.mul(s, p), f64x2.sub(s, one)); // expm1(z)
  return f64x2.div(f64x2.neg(e), f64x2.add(f64x2.splat(2.0), e)); // tanh(|x|) >= 0
}

/** tanh of four f32 lanes, each within ~0.5 ulp. */
@inline function tanh4(v: v128): v128 {
  const lo = tanh2(f64x2.promote_low_f32x4(v));
  const hi = tanh2(f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1)));
  const r = v128.shuffle<u32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
  // r is tanh(|x|) (its sign bit may be set for x = 0 or NaN): give it x's sign.
  const sign = i32x4.splat(0x80000000);
  return v128.or(v128.andnot(r, sign), v128.and(v, sign));
}

/**
 * y[i] = tanh(x[i]). y, x: (n); y may alias x.
 * float32: four lanes at a time through tanh4 above. float64: one value at a time from musl's
 * expm1 (compiled into the module), tanh(|x|) = -e / (2 + e) with e = expm1(-2|x|), the sign put
 * back at the end: within a few ulp of the true value, which the Taylor polynomial above is not
 * at f64 precision (its truncation, 2e-14, is fine only below f32's resolution).
 */
export function tanh(y: usize, x: usize, n: usize): void {
  if (!FLOAT32) {
    for (let i: usize = 0; i < n; i++) {
      const v = load<f64>(x + (i << 3));
      const e = Math.expm1(-2.0 * Math.abs(v));
      store<f64>(y + (i << 3), copysign<f64>(-e / (2.0 + e), v));
    }
    return;
  }
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (i << 2), tanh4(v128.load(x + (i << 2))));
  if (i < n) {
    // Tail through the same vector code (so every element gets the same bits wherever it sits).
    let v = f32x4.splat(0);
    v = f32x4.replace_lane(v, 0, load<f32>(x + (i << 2)));
    if (i + 1 < n) v = f32x4.replace_lane(v, 1, load<f32>(x + ((i + 1) << 2)));
    if (i + 2 < n) v = f32x4.replace_lane(v, 2, load<f32>(x + ((i + 2) << 2)));
    const r = tanh4(v);
    store<f32>(y + (i << 2), f32x4.extract_lane(r, 0));
    if (i + 1 < n) store<f32>(y + ((i + 1) << 2), f32x4.extract_lane(r, 1));
    if (i + 2 < n) store<f32>(y + ((i + 2) << 2), f32x4.extract_lane(r, 2));
  }
}

/** dx[i] = dy[i] * (1 - y[i]^2), y = tanh(x) the forward output. dx, dy, y: (n); dx may alias dy. */
export function tanh_backward(dx: usize, dy: usize, y: usize, n: usize): void {
  const one = v128.splat<real>(1.0);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    const t = v128.load(y + o);
    v128.store(dx + o, v128.mul<real>(v128.load(dy + o), v128.sub<real>(one, v128.mul<real>(t, t))));
  }
  for (; i < n; i++) {
    const o = i << SHIFT;
    const t = load<real>(y + o);
    store<real>(dx + o, load<real>(dy + o) * (<real>1.0 - t * t));
  }
}

// ---------------------------------------------------------------------------------------------
// Sigmoid and GELU.
//
// float32: computed in f64 lanes from the f32 inputs and rounded once at the end (as tanh above),
// so every result is within about 0.5 ulp of the true value and the same bits in every engine.
// The exponential is the one tanh2 uses (Cody-Waite reduction and an 11th-degree Taylor
// polynomial, relative error below 2e-14: far below float32's resolution, not float64's), in
// f64x2, two lanes at a time. float64: one value at a time from musl's exp (Math.exp compiled into
// the module, within an ulp), because that polynomial is not accurate to float64 precision.
//
// Both sigmoid(z) and GELU-tanh (0.5·x·(1 + tanh(u)) = x·sigmoid(2u)) are formed from
// e = exp(-|z|) in (0, 1]: sigmoid(|z|) = r = 1 / (1 + e), sigmoid(-|z|) = e·r: no cancellation at
// either tail (1 + tanh(u) would cancel for u << 0), one division per pair of lanes.
//
// GELU-erf needs erfc (erf.ts, fdlibm): a range-split rational approximation with per-range
// branches and two exps past |x| = 1.25, so it runs one value at a time in both dtypes (float32
// through f64 and rounded). The forward computes Φ(x) = erfc(-x/√2) / 2, accurate on both tails.

/** sqrt(2/pi), PyTorch's kBeta for GELU-tanh. */
const BETA: f64 = 0.7978845608028654;
const KAPPA: f64 = 0.044715;
const SQRT1_2: f64 = 0.7071067811865476;
/** 1/sqrt(2 pi): the normal density's factor. */
const INV_SQRT_2PI: f64 = 0.3989422804014327;
/** |z| is clamped here before exp(-|z|): e^-200 = 1.4e-87 is 0 once any f32 result is rounded, and 2^k stays normal. */
const EXP_CLAMP: f64 = 200.0;

/** e^z for both f64 lanes, z in [-EXP_CLAMP, 0] (the caller clamps), relative error below 2e-14. */
@inline function expNeg2(z: v128): v128 {
  const kr = f64x2.add(f64x2.mul(z, f64x2.splat(INV_LN2)), f64x2.splat(ROUNDER));
  const k = f64x2.sub(kr, f64x2.splat(ROUNDER));
  const t = f64x2.sub(f64x2.sub(z, f64x2.mul(k, f64x2.splat(LN2_HI))), f64x2.mul(k, f64x2.splat(LN2_LO)));
  // 2^k: k sits in kr's low bits; biased exponent k + 1023 in [734, 1023].
  const s = i64x2.shl(i64x2.add(kr, i64x2.splat(1023)), 52);
  let p = f64x2.splat(2.505210838544172e-8); // 1/11!, then expm1(t) by Horner as in tanh2
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(2.755731922398589e-7));
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(2.7557319223985893e-6));
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(2.48015873015873e-5));
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(1.984126984126984e-4));
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(1.388888888888889e-3));
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(8.333333333333333e-3));
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(4.1666666666666664e-2));
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(1.6666666666666666e-1));
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(0.5));
  p = f64x2.add(f64x2.mul(p, t), f64x2.splat(1.0));
  p = f64x2.mul(p, t);
  return f64x2.add(f64x2.mul(s, p), s); // 2^k (1 + expm1(t))
}

/** exp(-|z|) for both f64 lanes, |z| clamped to EXP_CLAMP; NaN stays NaN (f64x2.min propagates it). */
@inline function expNegAbs2(z: v128): v128 {
  return expNeg2(f64x2.neg(f64x2.min(f64x2.abs(z), f64x2.splat(EXP_CLAMP))));
}

/** All ones in the lanes whose sign bit is set (z < 0 or -0). */
@inline function negative2(z: v128): v128 {
  return i64x2.shr_s(z, 63);
}

/** sigmoid(z) for both f64 lanes, from e = exp(-|z|) and r = 1 / (1 + e): r for z >= 0, e·r for z < 0 (one division for both). */
@inline function sigmoidFrom2(z: v128, e: v128, r: v128): v128 {
  return v128.bitselect(f64x2.mul(e, r), r, negative2(z));
}
/** 1 - sigmoid(z) = sigmoid(-z) for both f64 lanes, from e and r as above (no cancellation). */
@inline function sigmoidComplementFrom2(z: v128, e: v128, r: v128): v128 {
  return v128.bitselect(r, f64x2.mul(e, r), negative2(z));
}
/** 1 / (1 + e) for both lanes. */
@inline function reciprocal1p2(e: v128): v128 {
  return f64x2.div(f64x2.splat(1.0), f64x2.add(f64x2.splat(1.0), e));
}

/** sigmoid(z) in f64 from musl's exp (float64's path). */
@inline function sigmoid1(z: f64): f64 {
  const e = Math.exp(-Math.abs(z));
  return (reinterpret<u64>(z) >> 63) != 0 ? e / (1.0 + e) : 1.0 / (1.0 + e);
}

// float32 runs four values per step as two f64x2 (two independent chains, as tanh4): loaded,
// promoted, computed, rounded once, stored. The last 1..3 values go through the same code from a
// zero-padded vector, so they get the same bits wherever they sit.

/** The f64 lanes of four f32 values: low pair, high pair. */
@inline function lowPair(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}
@inline function highPair(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1));
}
/** Four f32 values from two f64 pairs, each rounded once. */
@inline function joinPairs(lo: v128, hi: v128): v128 {
  return v128.shuffle<u32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** Four f32 values at p, or the first `count` (1..3) of them in a zeroed vector. */
@inline function load4(p: usize, count: usize): v128 {
  if (count >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}
/** Stores four f32 lanes at p, or the first `count` (1..3). */
@inline function store4(p: usize, v: v128, count: usize): void {
  if (count >= 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** sigmoid of two f64 lanes. */
@inline function sigmoid2(x: v128): v128 {
  const e = expNegAbs2(x);
  return sigmoidFrom2(x, e, reciprocal1p2(e));
}

/**
 * y[i] = sigmoid(x[i]) = 1 / (1 + e^-x[i]). y, x: (n); y may alias x. float32: within about
 * 0.5 ulp (f64 lanes, rounded once); float64: within a few ulp (musl's exp). sigmoid(±inf) = 1, 0;
 * NaN stays NaN.
 */
export function sigmoid(y: usize, x: usize, n: usize): void {
  if (!FLOAT32) {
    for (let i: usize = 0; i < n; i++) store<f64>(y + (i << 3), sigmoid1(load<f64>(x + (i << 3))));
    return;
  }
  for (let i: usize = 0; i < n; i += 4) {
    const c = n - i;
    const v = load4(x + (i << 2), c);
    store4(y + (i << 2), joinPairs(sigmoid2(lowPair(v)), sigmoid2(highPair(v))), c);
  }
}

/** dx[i] = dy[i]·(1 - y[i])·y[i] (PyTorch's order), y = sigmoid(x) the forward OUTPUT. dx, dy, y: (n); dx may alias dy. */
export function sigmoid_backward(dx: usize, dy: usize, y: usize, n: usize): void {
  const one = v128.splat<real>(1.0);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    const s = v128.load(y + o);
    v128.store(dx + o, v128.mul<real>(v128.mul<real>(v128.load(dy + o), v128.sub<real>(one, s)), s));
  }
  for (; i < n; i++) {
    const o = i << SHIFT;
    const s = load<real>(y + o);
    store<real>(dx + o, load<real>(dy + o) * (<real>1.0 - s) * s);
  }
}

/** GELU modes, PyTorch's `approximate`: 0 = "none" (erf), 1 = "tanh". */
export const GELU_ERF: i32 = 0;
export const GELU_TANH: i32 = 1;

/** Φ(x), the standard normal CDF, in f64: erfc(-x/√2)/2. */
@inline function normalCdf(x: f64): f64 {
  return 0.5 * erfc(-x * SQRT1_2);
}

/** GELU-erf of one value in f64: x·Φ(x). */
@inline function geluErf1(x: f64): f64 {
  return x * normalCdf(x);
}
/** d GELU-erf / dx in f64: Φ(x) + x·φ(x). */
@inline function geluErfGrad1(x: f64): f64 {
  return normalCdf(x) + x * (Math.exp(-0.5 * x * x) * INV_SQRT_2PI);
}

/** 2u = 2·sqrt(2/pi)·(x + 0.044715·x³), the sigmoid argument of GELU-tanh, for f64 lanes. */
@inline function geluTanhArg2(x: v128): v128 {
  const x3 = f64x2.mul(f64x2.mul(x, x), x);
  const u = f64x2.mul(f64x2.splat(BETA), f64x2.add(x, f64x2.mul(f64x2.splat(KAPPA), x3)));
  return f64x2.add(u, u);
}
@inline function geluTanhArg(x: f64): f64 {
  const u = BETA * (x + KAPPA * (x * x * x));
  return u + u;
}

/** GELU-tanh of two f64 lanes: x·sigmoid(2u). */
@inline function geluTanh2(x: v128): v128 {
  const z = geluTanhArg2(x);
  const e = expNegAbs2(z);
  return f64x2.mul(x, sigmoidFrom2(z, e, reciprocal1p2(e)));
}
/** d GELU-tanh / dx of two f64 lanes: s + 2·x·s·(1 - s)·u', s = sigmoid(2u), u' = sqrt(2/pi)(1 + 3·0.044715·x²). */
@inline function geluTanhGrad2(x: v128): v128 {
  const z = geluTanhArg2(x);
  const e = expNegAbs2(z);
  const r = reciprocal1p2(e);
  const s = sigmoidFrom2(z, e, r);
  const du = f64x2.mul(f64x2.splat(BETA), f64x2.add(f64x2.splat(1.0), f64x2.mul(f64x2.splat(3.0 * KAPPA), f64x2.mul(x, x))));
  const xs = f64x2.mul(f64x2.add(x, x), f64x2.mul(s, sigmoidComplementFrom2(z, e, r)));
  return f64x2.add(s, f64x2.mul(xs, du));
}
@inline function geluTanh1(x: f64): f64 {
  return x * sigmoid1(geluTanhArg(x));
}
@inline function geluTanhGrad1(x: f64): f64 {
  const z = geluTanhArg(x);
  const e = Math.exp(-Math.abs(z));
  const d = 1.0 + e;
  const neg = (reinterpret<u64>(z) >> 63) != 0;
  const s = neg ? e / d : 1.0 / d;
  const c = neg ? 1.0 / d : e / d; // 1 - s
  const du = BETA * (1.0 + 3.0 * KAPPA * (x * x));
  return s + ((x + x) * (s * c)) * du;
}


/**
 * y[i] = GELU(x[i]). y, x: (n); y may alias x. approximate = GELU_ERF (0): x·Φ(x) =
 * 0.5·x·(1 + erf(x/√2)), PyTorch's nn.GELU(); GELU_TANH (1): 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))),
 * nn.GELU(approximate="tanh"), computed as x·sigmoid(2u). float32: in f64, rounded once (the tanh
 * form four values per step in two f64x2, the erf form one value at a time); float64: one value at a time.
 */
export function gelu(y: usize, x: usize, n: usize, approximate: i32): void {
  if (!FLOAT32 || approximate != GELU_TANH) {
    if (approximate == GELU_TANH) {
      for (let i: usize = 0; i < n; i++) store<real>(y + (i << SHIFT), <real>geluTanh1(<f64>load<real>(x + (i << SHIFT))));
    } else {
      for (let i: usize = 0; i < n; i++) store<real>(y + (i << SHIFT), <real>geluErf1(<f64>load<real>(x + (i << SHIFT))));
    }
    return;
  }
  for (let i: usize = 0; i < n; i += 4) {
    const c = n - i;
    const v = load4(x + (i << 2), c);
    store4(y + (i << 2), joinPairs(geluTanh2(lowPair(v)), geluTanh2(highPair(v))), c);
  }
}

/**
 * dx[i] = dy[i]·GELU'(x[i]), from the forward INPUT x (GELU's output does not determine x).
 * dx, dy, x: (n); dx may alias dy. approximate as for gelu. float32: in f64 (dy promoted too),
 * rounded once.
 */
export function gelu_backward(dx: usize, dy: usize, x: usize, n: usize, approximate: i32): void {
  if (!FLOAT32 || approximate != GELU_TANH) {
    for (let i: usize = 0; i < n; i++) {
      const o = i << SHIFT;
      const v = <f64>load<real>(x + o);
      const grad = approximate == GELU_TANH ? geluTanhGrad1(v) : geluErfGrad1(v);
      store<real>(dx + o, <real>(<f64>load<real>(dy + o) * grad));
    }
    return;
  }
  for (let i: usize = 0; i < n; i += 4) {
    const c = n - i;
    const o = i << 2;
    const g = load4(dy + o, c), v = load4(x + o, c);
    const lo = f64x2.mul(lowPair(g), geluTanhGrad2(lowPair(v)));
    const hi = f64x2.mul(highPair(g), geluTanhGrad2(highPair(v)));
    store4(dx + o, joinPairs(lo, hi), c);
  }
}
