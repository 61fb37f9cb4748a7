import { f64_cos_pi, f64_sqrt } from "../scalar";
import { f64_cos_pi__scalar } from "../reference/scalar";
import { copy_planes } from "../memory";

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

describe("copy_planes", () => {
  it("frames planes into a larger buffer and crops them back, touching nothing else", () => {
    // 3 planes of 2x5 i32 values into frames of 4x7 (one cell of border), then back out.
    const planes: usize = 3, H: usize = 2, W: usize = 5, Hp: usize = 4, Wp: usize = 7;
    const src = heap.alloc(planes * H * W * 4), framed = heap.alloc(planes * Hp * Wp * 4 + 4), back = heap.alloc(planes * H * W * 4);
    for (let i: usize = 0; i < planes * H * W; i++) store<i32>(src + i * 4, <i32>i + 1);
    for (let i: usize = 0; i <= planes * Hp * Wp; i++) store<i32>(framed + i * 4, -7);
    copy_planes(framed + (Wp + 1) * 4, Hp * Wp * 4, Wp * 4, src, H * W * 4, W * 4, planes, H, W * 4);
    for (let p: usize = 0; p < planes; p++) {
      for (let r: usize = 0; r < Hp; r++) {
        for (let c: usize = 0; c < Wp; c++) {
          const inside = r >= 1 && r <= H && c >= 1 && c <= W;
          const want = inside ? <i32>(p * H * W + (r - 1) * W + (c - 1)) + 1 : -7;
          expect<i32>(load<i32>(framed + ((p * Hp + r) * Wp + c) * 4)).toBe(want);
        }
      }
    }
    expect<i32>(load<i32>(framed + planes * Hp * Wp * 4)).toBe(-7, "wrote past the last frame");
    copy_planes(back, H * W * 4, W * 4, framed + (Wp + 1) * 4, Hp * Wp * 4, Wp * 4, planes, H, W * 4);
    for (let i: usize = 0; i < planes * H * W; i++) expect<i32>(load<i32>(back + i * 4)).toBe(<i32>i + 1);
  });
});
