// cos(x) for |x| < 2^20 * pi/2: AssemblyScript's Math.cos (musl's cos.c) as the release build
// compiles it (shrinkLevel >= 1: no special case below 3pi/4), without the large-argument
// reduction (pio2_large_quot, about 0.6 KB of wasm with its table) that no caller can reach: the
// callers pass 2pi * u with u in [0, 1) (Box-Muller) and pi * x with x in [0, 1] (cosine
// schedule). Same operations in the same order, so the same bits as Math.cos in that range
// (test/cos-bounded.test.ts compares the two, built with the release options, bit for bit).

const PIO2_1 = reinterpret<f64>(0x3FF921FB54400000); // 1.57079632673412561417e+00
const PIO2_1T = reinterpret<f64>(0x3DD0B4611A626331); // 6.07710050650619224932e-11
const PIO2_2 = reinterpret<f64>(0x3DD0B4611A600000); // 6.07710050630396597660e-11
const PIO2_2T = reinterpret<f64>(0x3BA3198A2E037073); // 2.02226624879595063154e-21
const PIO2_3 = reinterpret<f64>(0x3BA3198A2E000000); // 2.02226624871116645580e-21
const PIO2_3T = reinterpret<f64>(0x397B839A252049C1); // 8.47842766036889956997e-32
const INV_PIO2 = reinterpret<f64>(0x3FE45F306DC9C883); // 0.63661977236758134308

/** musl's __sin(x, y, 1). */
@inline function sinKernel(x: f64, y: f64): f64 {
  const S1 = reinterpret<f64>(0xBFC5555555555549);
  const S2 = reinterpret<f64>(0x3F8111111110F8A6);
  const S3 = reinterpret<f64>(0xBF2A01A019C161D5);
  const S4 = reinterpret<f64>(0x3EC71DE357B1FE7D);
  const S5 = reinterpret<f64>(0xBE5AE5E68A2B9CEB);
  const S6 = reinterpret<f64>(0x3DE5D93A5ACFD57C);
  const z = x * x;
  const w = z * z;
  const r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
  const v = z * x;
  return x - ((z * (0.5 * y - v * r) - y) - v * S1);
}

/** musl's __cos(x, y). */
@inline function cosKernel(x: f64, y: f64): f64 {
  const C1 = reinterpret<f64>(0x3FA555555555554C);
  const C2 = reinterpret<f64>(0xBF56C16C16C15177);
  const C3 = reinterpret<f64>(0x3EFA01A019CB1590);
  const C4 = reinterpret<f64>(0xBE927E4F809C52AD);
  const C5 = reinterpret<f64>(0x3E21EE9EBDB4B1C4);
  const C6 = reinterpret<f64>(0xBDA8FAE9BE8838D4);
  const z = x * x;
  let w = z * z;
  const r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
  const hz = 0.5 * z;
  w = 1.0 - hz;
  return w + (((1.0 - w) - hz) + (z * r - x * y));
}

/** cos(x). Precondition: |x| < 2^20 * pi/2 (1647099), or x is NaN or infinite. */
export function cosBounded(x: f64): f64 {
  const u = reinterpret<u64>(x);
  const ix = <u32>(u >> 32) & 0x7FFFFFFF;
  if (ix <= 0x3FE921FB) { // |x| ~< pi/4
    if (ix < 0x3E46A09E) return 1.0; // |x| < 2^-27 sqrt(2)
    return cosKernel(x, 0);
  }
  if (ix >= 0x7FF00000) return x - x; // NaN or infinite
  // Cody-Waite reduction (musl's __rem_pio2, medium case).
  const q = nearest(x * INV_PIO2);
  let r = x - q * PIO2_1;
  let w = q * PIO2_1T; // good to 85 bits
  const j = ix >> 20;
  let y0 = r - w;
  let i = j - ((<u32>(reinterpret<u64>(y0) >> 32) >> 20) & 0x7FF);
  if (i > 16) { // a 2nd iteration, good to 118 bits
    let t = r;
    w = q * PIO2_2;
    r = t - w;
    w = q * PIO2_2T - ((t - r) - w);
    y0 = r - w;
    i = j - ((<u32>(reinterpret<u64>(y0) >> 32) >> 20) & 0x7FF);
    if (i > 49) { // a 3rd, 151 bits
      t = r;
      w = q * PIO2_3;
      r = t - w;
      w = q * PIO2_3T - ((t - r) - w);
      y0 = r - w;
    }
  }
  const y1 = (r - y0) - w;
  const n = <i32>q;
  const c = n & 1 ? sinKernel(y0, y1) : cosKernel(y0, y1);
  return (n + 1) & 2 ? -c : c;
}
