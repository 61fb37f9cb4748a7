import { tanh, tanh_backward } from "../activation";
import { FLOAT32, SHIFT } from "../real";
import { tanh__scalar, tanh_backward__scalar } from "../reference/activation";
import { DTYPE, LENGTHS, pattern, buffer, firstDifference, guardIntact } from "./helpers";

/** Largest distance in units in the last place between a[i] and b[i] (same-sign finite values). */
function maxUlps(a: usize, b: usize, n: i32): i64 {
  let worst: i64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << SHIFT;
    const u: i64 = FLOAT32 ? <i64>load<i32>(a + o) : load<i64>(a + o);
    const v: i64 = FLOAT32 ? <i64>load<i32>(b + o) : load<i64>(b + o);
    const d = u > v ? u - v : v - u;
    if (d > worst) worst = d;
  }
  return worst;
}

/** How far tanh may be from musl's f64 tanh rounded to `real`: 1 ulp in float32, a few in float64. */
const MAX_ULPS: i64 = FLOAT32 ? 1 : 4;

const SCALES: real[] = [1e-6, 0.1, 1, 3, 12];

function at(p: usize, i: i32): usize {
  return p + (<usize>i << SHIFT);
}

describe("tanh kernels, " + DTYPE, () => {
  it("tanh within MAX_ULPS of musl's f64 tanh at n in 0, 1, 3, 4, 5, 17, 1000 and scales 1e-6..12", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      for (let q = 0; q < SCALES.length; q++) {
        const n = LENGTHS[k];
        const x = pattern(n, 60 + q);
        for (let i = 0; i < n; i++) store<real>(at(x, i), SCALES[q] * load<real>(at(x, i)));
        const a = buffer(n), b = buffer(n);
        tanh(a, x, n);
        tanh__scalar(b, x, n);
        const u = maxUlps(a, b, n);
        expect<bool>(u <= MAX_ULPS).toBe(true, "n=" + n.toString() + " scale=" + SCALES[q].toString() + " ulps=" + u.toString());
        expect<bool>(guardIntact(a, n)).toBe(true, "wrote past the end");
      }
    }
  });
  it("tail elements get the same bits as in the vector body", () => {
    const x = pattern(1000, 70), all = buffer(1000);
    tanh(all, x, 1000);
    for (let n = 1; n <= 7; n++) {
      const y = buffer(n);
      tanh(y, x, n);
      expect<i32>(firstDifference(y, all, n)).toBe(-1, "n=" + n.toString());
      expect<bool>(guardIntact(y, n)).toBe(true, "wrote past the end");
    }
  });
  it("special values: +-0 keep their sign, +-inf and large give +-1, NaN stays NaN, tiny x gives x", () => {
    const x = buffer(8), y = buffer(8);
    const tiny: real = FLOAT32 ? <real>reinterpret<f32>(1) : <real>reinterpret<f64>(1); // the smallest subnormal
    const values: real[] = [0.0, -0.0, Infinity, -Infinity, NaN, 1e-30, -200.0, tiny];
    for (let i = 0; i < 8; i++) store<real>(at(x, i), values[i]);
    tanh(y, x, 8);
    expect<bool>(load<real>(at(y, 0)) == 0 && 1 / load<real>(at(y, 0)) > 0).toBe(true, "tanh(+0) = +0");
    expect<bool>(load<real>(at(y, 1)) == 0 && 1 / load<real>(at(y, 1)) < 0).toBe(true, "tanh(-0) = -0");
    expect<real>(load<real>(at(y, 2))).toBe(1.0);
    expect<real>(load<real>(at(y, 3))).toBe(-1.0);
    expect<bool>(isNaN(load<real>(at(y, 4)))).toBe(true, "NaN");
    expect<real>(load<real>(at(y, 5))).toBe(1e-30);
    expect<real>(load<real>(at(y, 6))).toBe(-1.0);
    expect<real>(load<real>(at(y, 7))).toBe(tiny, "subnormal");
  });
  it("tanh_backward matches its twin bit for bit", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const yv = pattern(n, 80), dy = pattern(n, 81), a = buffer(n), b = buffer(n);
      tanh_backward(a, dy, yv, n);
      tanh_backward__scalar(b, dy, yv, n);
      expect<i32>(firstDifference(a, b, n)).toBe(-1, "n=" + n.toString());
      expect<bool>(guardIntact(a, n)).toBe(true, "wrote past the end");
    }
    const dy = pattern(17, 82), a = buffer(17), b = buffer(17); // in place: dx aliases dy
    memory.copy(a, dy, 17 << SHIFT);
    memory.copy(b, dy, 17 << SHIFT);
    const yv = pattern(17, 83);
    tanh_backward(a, a, yv, 17);
    tanh_backward__scalar(b, b, yv, 17);
    expect<i32>(firstDifference(a, b, 17)).toBe(-1, "in place");
  });
});
