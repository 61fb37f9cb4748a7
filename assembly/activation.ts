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
