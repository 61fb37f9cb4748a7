// erfc(x) in f64: a port of fdlibm's s_erf.c (as musl and FreeBSD carry it), for GELU's normal
// CDF, Φ(x) = erfc(-x/√2) / 2, which erfc gives to full relative precision on both tails (1 + erf
// would cancel for negative x). Scalar and branchy by design: the approximation is split into
// four ranges, each with its own rational function, and |x| >= 1.25 needs two exps. The
// coefficients are inline constants (no table), so the float64 module stays free of data.
//
// ====================================================
// Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
//
// Developed at SunPro, a Sun Microsystems, Inc. business.
// Permission to use, copy, modify, and distribute this
// software is freely granted, provided that this notice
// is preserved.
// ====================================================
//
// Method (fdlibm's comments, abridged):
//   |x| < 0.84375:        erfc(x) = 1 - (x + x·R(x²)), R = P/Q, |R - (erf(x) - x)/x| <= 2^-57.90
//                         (for x >= 1/4: 0.5 - ((x - 0.5) + x·R), keeping the bits)
//   0.84375 <= |x| < 1.25: s = |x| - 1, erfc(x) = (1 - c) - P1(s)/Q1(s) for x > 0,
//                          1 + (c + P1/Q1) for x < 0, c = 0.84506291151 rounded to 24 bits
//   1.25 <= |x| < 28:     erfc(|x|) = exp(-x² - 0.5625 + R/S(1/x²)) / |x| (two rational fits split
//                         at 1/0.35), erfc(-|x|) = 2 - erfc(|x|); exp(-x²) is formed as
//                         exp(-z² - 0.5625)·exp((z - x)(z + x) + R/S), z = x with its low 32 bits
//                         cleared, so z² is exact
//   x >= 28: 0 (fdlibm's tiny·tiny underflows to 0); x <= -6: 2; NaN stays NaN; erfc(±inf) = 0, 2.

const ERX: f64 = 8.45062911510467529297e-01;

/** erfc(x), within about 1 ulp (fdlibm). */
export function erfc(x: f64): f64 {
  const hx = <i32>(reinterpret<u64>(x) >> 32);
  const ix = hx & 0x7fffffff;
  if (ix >= 0x7ff00000) return <f64>((<u32>hx >> 31) << 1) + 1.0 / x; // NaN, erfc(+inf) = 0, erfc(-inf) = 2
  if (ix < 0x3feb0000) {
    // |x| < 0.84375
    if (ix < 0x3c700000) return 1.0 - x; // |x| < 2^-56
    const z = x * x;
    const r = 1.28379167095512558561e-01 + z * (-3.25042107247001499370e-01 + z * (-2.84817495755985104766e-02 +
      z * (-5.77027029648944159157e-03 + z * -2.37630166566501626084e-05)));
    const s = 1.0 + z * (3.97917223959155352819e-01 + z * (6.50222499887672944485e-02 + z * (5.08130628187576562776e-03 +
      z * (1.32494738004321644526e-04 + z * -3.96022827877536812320e-06))));
    const y = r / s;
    if (hx < 0x3fd00000) return 1.0 - (x + x * y); // x < 1/4
    return 0.5 - (x * y + (x - 0.5));
  }
  if (ix < 0x3ff40000) {
    // 0.84375 <= |x| < 1.25
    const s = Math.abs(x) - 1.0;
    const P = -2.36211856075265944077e-03 + s * (4.14856118683748331666e-01 + s * (-3.72207876035701323847e-01 +
      s * (3.18346619901161753674e-01 + s * (-1.10894694282396677476e-01 + s * (3.54783043256182359371e-02 +
      s * -2.16637559486879084300e-03)))));
    const Q = 1.0 + s * (1.06420880400844228286e-01 + s * (5.40397917702171048937e-01 + s * (7.18286544141962662868e-02 +
      s * (1.26171219808761642112e-01 + s * (1.36370839120290507362e-02 + s * 1.19844998467991074170e-02)))));
    if (hx >= 0) return (1.0 - ERX) - P / Q;
    return 1.0 + (ERX + P / Q);
  }
  if (ix < 0x403c0000) {
    // 1.25 <= |x| < 28
    const a = Math.abs(x);
    const s = 1.0 / (a * a);
    let R: f64, S: f64;
    if (ix < 0x4006db6d) {
      // |x| < 1/0.35
      R = -9.86494403484714822705e-03 + s * (-6.93858572707181764372e-01 + s * (-1.05586262253232909814e+01 +
        s * (-6.23753324503260060396e+01 + s * (-1.62396669462573470355e+02 + s * (-1.84605092906711035994e+02 +
        s * (-8.12874355063065934246e+01 + s * -9.81432934416914548592e+00))))));
      S = 1.0 + s * (1.96512716674392571292e+01 + s * (1.37657754143519042600e+02 + s * (4.34565877475229228821e+02 +
        s * (6.45387271733267880336e+02 + s * (4.29008140027567833386e+02 + s * (1.08635005541779435134e+02 +
        s * (6.57024977031928170135e+00 + s * -6.04244152148580987438e-02)))))));
    } else {
      if (hx < 0 && ix >= 0x40180000) return 2.0; // x < -6 (fdlibm: 2 - tiny, which rounds to 2)
      R = -9.86494292470009928597e-03 + s * (-7.99283237680523006574e-01 + s * (-1.77579549177547519889e+01 +
        s * (-1.60636384855821916062e+02 + s * (-6.37566443368389627722e+02 + s * (-1.02509513161107724954e+03 +
        s * -4.83519191608651397019e+02)))));
      S = 1.0 + s * (3.03380607434824582924e+01 + s * (3.25792512996573918826e+02 + s * (1.53672958608443695994e+03 +
        s * (3.19985821950859553908e+03 + s * (2.55305040643316442583e+03 + s * (4.74528541206955367215e+02 +
        s * -2.24409524465858183362e+01))))));
    }
    const z = reinterpret<f64>(reinterpret<u64>(a) & 0xffffffff00000000);
    const r = Math.exp(-z * z - 0.5625) * Math.exp((z - a) * (z + a) + R / S);
    if (hx > 0) return r / a;
    return 2.0 - r / a;
  }
  return hx > 0 ? 0.0 : 2.0;
}
