import { f32_tanh, f32_tanh_backward } from "../activation";
import { f32_tanh__scalar, f32_tanh_backward__scalar } from "../reference/activation";
import { LENGTHS, pattern, buffer, firstDifference, guardIntact } from "./helpers";

/** Largest distance in units in the last place between a[i] and b[i] (same-sign finite values). */
function maxUlps(a: usize, b: usize, n: i32): i32 {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const u = load<i32>(a + (<usize>i << 2));
    const v = load<i32>(b + (<usize>i << 2));
    const d = u > v ? u - v : v - u;
    if (d > worst) worst = d;
  }
  return worst;
}

const SCALES: f32[] = [1e-6, 0.1, 1, 3, 12];

describe("tanh kernels", () => {
  it("f32_tanh within 1 ulp of musl's f64 tanh at n in 0, 1, 3, 4, 5, 17, 1000 and scales 1e-6..12", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      for (let q = 0; q < SCALES.length; q++) {
        const n = LENGTHS[k];
        const x = pattern(n, 60 + q);
        for (let i = 0; i < n; i++) store<f32>(x + (<usize>i << 2), SCALES[q] * load<f32>(x + (<usize>i << 2)));
        const a = buffer(n), b = buffer(n);
        f32_tanh(a, x, n);
        f32_tanh__scalar(b, x, n);
        const u = maxUlps(a, b, n);
        expect<bool>(u <= 1).toBe(true, "n=" + n.toString() + " scale=" + SCALES[q].toString() + " ulps=" + u.toString());
        expect<bool>(guardIntact(a, n)).toBe(true, "wrote past the end");
      }
    }
  });
  it("tail elements get the same bits as in the vector body", () => {
    const x = pattern(1000, 70), all = buffer(1000);
    f32_tanh(all, x, 1000);
    for (let n = 1; n <= 7; n++) {
      const y = buffer(n);
      f32_tanh(y, x, n);
      expect<i32>(firstDifference(y, all, n)).toBe(-1, "n=" + n.toString());
      expect<bool>(guardIntact(y, n)).toBe(true, "wrote past the end");
    }
  });
  it("special values: +-0 keep their sign, +-inf and large give +-1, NaN stays NaN, tiny x gives x", () => {
    const x = buffer(8), y = buffer(8);
    store<f32>(x, 0.0); store<f32>(x + 4, -0.0); store<f32>(x + 8, Infinity); store<f32>(x + 12, -Infinity);
    store<f32>(x + 16, NaN); store<f32>(x + 20, 1e-30); store<f32>(x + 24, -200.0); store<u32>(x + 28, 1); // smallest subnormal
    f32_tanh(y, x, 8);
    expect<u32>(load<u32>(y)).toBe(0, "tanh(+0) = +0");
    expect<u32>(load<u32>(y + 4)).toBe(0x80000000, "tanh(-0) = -0");
    expect<f32>(load<f32>(y + 8)).toBe(1.0);
    expect<f32>(load<f32>(y + 12)).toBe(-1.0);
    expect<bool>(isNaN(load<f32>(y + 16))).toBe(true, "NaN");
    expect<f32>(load<f32>(y + 20)).toBe(1e-30);
    expect<f32>(load<f32>(y + 24)).toBe(-1.0);
    expect<u32>(load<u32>(y + 28)).toBe(1, "subnormal");
  });
  it("f32_tanh_backward matches its twin bit for bit", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const yv = pattern(n, 80), dy = pattern(n, 81), a = buffer(n), b = buffer(n);
      f32_tanh_backward(a, dy, yv, n);
      f32_tanh_backward__scalar(b, dy, yv, n);
      expect<i32>(firstDifference(a, b, n)).toBe(-1, "n=" + n.toString());
      expect<bool>(guardIntact(a, n)).toBe(true, "wrote past the end");
    }
  });
});
