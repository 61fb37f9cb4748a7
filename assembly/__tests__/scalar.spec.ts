import { f64_cos_pi, f64_sqrt } from "../scalar";
import { f64_cos_pi__scalar } from "../reference/scalar";

describe("f64_sqrt", () => {
  it("is the correctly rounded square root, with IEEE special cases", () => {
    expect<f64>(f64_sqrt(4)).toBe(2);
    expect<f64>(f64_sqrt(2.25)).toBe(1.5);
    // sqrt(2) rounded to nearest double is 0x3FF6A09E667F3BCD.
    expect<u64>(reinterpret<u64>(f64_sqrt(2))).toBe(0x3ff6a09e667f3bcd);
    expect<u64>(reinterpret<u64>(f64_sqrt(0))).toBe(0);
    expect<u64>(reinterpret<u64>(f64_sqrt(-0.0))).toBe(0x8000000000000000, "sqrt(-0) = -0");
    expect<bool>(isNaN(f64_sqrt(-1))).toBe(true);
    expect<f64>(f64_sqrt(Infinity)).toBe(Infinity);
    // 2/fanIn for fanIn = 3 * 3 * 64, a Kaiming scale: squaring the result gives back the input within 1 ulp.
    const x: f64 = 2.0 / 576.0;
    const r = f64_sqrt(x);
    expect<bool>(Math.abs(r * r - x) <= 2.220446049250313e-16 * x).toBe(true);
  });
});

describe("f64_cos_pi", () => {
  it("has the exact values at the ends and the middle of the cosine schedule", () => {
    expect<f64>(f64_cos_pi(0)).toBe(1);
    expect<f64>(f64_cos_pi(1)).toBe(-1);
    // pi is not exact in f64: cos(pi/2 rounded) is 6.123e-17, not 0.
    expect<bool>(Math.abs(f64_cos_pi(0.5)) < 1e-16).toBe(true);
    expect<bool>(Math.abs(f64_cos_pi(1.0 / 3.0) - 0.5) < 1e-15).toBe(true, "cos(pi/3) = 1/2");
    expect<bool>(Math.abs(f64_cos_pi(0.25) - 0.7071067811865476) < 1e-15).toBe(true, "cos(pi/4) = sqrt(2)/2");
  });

  it("agrees with the Taylor-series twin within 1e-15 on a grid of awkward progresses", () => {
    for (let i = 0; i <= 1000; i++) {
      const x = <f64>i / 1000.0 + <f64>(i % 7) * 1e-7;
      if (x > 1) continue;
      const err = Math.abs(f64_cos_pi(x) - f64_cos_pi__scalar(x));
      expect<bool>(err < 1e-15).toBe(true, `x = ${x}: error ${err}`);
    }
  });

  it("is symmetric: cos(pi x) = -cos(pi (1 - x)) within 1 ulp-ish", () => {
    for (let i = 0; i <= 100; i++) {
      const x = <f64>i / 100.0;
      expect<bool>(Math.abs(f64_cos_pi(x) + f64_cos_pi(1 - x)) < 1e-15).toBe(true);
    }
  });
});
