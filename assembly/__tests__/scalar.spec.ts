import { f64_sqrt } from "../scalar";

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
