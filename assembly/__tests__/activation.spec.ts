import { tanh, tanh_backward, sigmoid, sigmoid_backward, gelu, gelu_backward, GELU_ERF, GELU_TANH } from "../activation";
import { erfc } from "../erf";
import { FLOAT32, SHIFT } from "../real";
import {
  tanh__scalar, tanh_backward__scalar, sigmoid__scalar, sigmoid_backward__scalar, gelu__scalar, gelu_backward__scalar,
} from "../reference/activation";
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

/**
 * Whether a and b agree within `ulps` units in the last place, or within `absTol` (for values that
 * cancel to near zero, where an ulp of the result is far below the error of forming it).
 */
function closeEnough(a: usize, b: usize, n: i32, ulps: i64, absTol: f64): i32 {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << SHIFT;
    const u: i64 = FLOAT32 ? <i64>load<i32>(a + o) : load<i64>(a + o);
    const v: i64 = FLOAT32 ? <i64>load<i32>(b + o) : load<i64>(b + o);
    const d = u > v ? u - v : v - u;
    if (d <= ulps) continue;
    const x = <f64>load<real>(a + o), y = <f64>load<real>(b + o);
    if (Math.abs(x - y) <= absTol) continue;
    if (isNaN(x) && isNaN(y)) continue;
    return i;
  }
  return -1;
}

/** Ulps and absolute slack for sigmoid and GELU against their twins (see reference/activation.ts). */
const SMOOTH_ULPS: i64 = FLOAT32 ? 1 : 4;
const SMOOTH_ABS: f64 = FLOAT32 ? 1e-12 : 1e-15;
const WIDE: real[] = [1e-6, 0.1, 1, 3, 6, 12, 50];

/** x = scale·pattern(n) */
function scaled(n: i32, salt: i32, scale: real): usize {
  const x = pattern(n, salt);
  for (let i = 0; i < n; i++) store<real>(at(x, i), scale * load<real>(at(x, i)));
  return x;
}

function describeCase(name: string, n: i32, scale: real, at_: i32, a: usize, b: usize, x: usize): string {
  if (at_ < 0) return "";
  return name + " n=" + n.toString() + " scale=" + scale.toString() + " at " + at_.toString() + " x=" + load<real>(at(x, at_)).toString() +
    " kernel " + load<real>(at(a, at_)).toString() + " twin " + load<real>(at(b, at_)).toString();
}

describe("sigmoid and GELU kernels, " + DTYPE, () => {
  it("sigmoid within an ulp (float32) / 4 ulp (float64) of 1/(1 + exp(-x)) by musl's f64 exp, n in 0..1000, |x| up to 50", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      for (let q = 0; q < WIDE.length; q++) {
        const n = LENGTHS[k];
        const x = scaled(n, 90 + q, WIDE[q]);
        const a = buffer(n), b = buffer(n);
        sigmoid(a, x, n);
        sigmoid__scalar(b, x, n);
        const d = closeEnough(a, b, n, SMOOTH_ULPS, 0);
        expect<i32>(d).toBe(-1, describeCase("sigmoid", n, WIDE[q], d, a, b, x));
        expect<bool>(guardIntact(a, n)).toBe(true, "wrote past the end");
      }
    }
  });
  it("sigmoid special values: 0 and -0 give 0.5, +-inf give 1 and 0, NaN stays NaN, -100 is tiny and positive", () => {
    const x = buffer(7), y = buffer(7);
    const values: real[] = [0.0, -0.0, Infinity, -Infinity, NaN, -100.0, 40.0];
    for (let i = 0; i < 7; i++) store<real>(at(x, i), values[i]);
    sigmoid(y, x, 7);
    expect<real>(load<real>(at(y, 0))).toBe(0.5);
    expect<real>(load<real>(at(y, 1))).toBe(0.5);
    expect<real>(load<real>(at(y, 2))).toBe(1.0);
    expect<real>(load<real>(at(y, 3))).toBe(0.0);
    expect<bool>(isNaN(load<real>(at(y, 4)))).toBe(true, "NaN");
    const tiny = load<real>(at(y, 5));
    expect<bool>(tiny > 0 && <f64>tiny < 1e-43).toBe(true, "sigmoid(-100) = " + tiny.toString()); // e^-100: a subnormal in float32
    expect<real>(load<real>(at(y, 6))).toBe(1.0);
  });
  it("the odd last value of a float32 call gets the same bits as in the body (sigmoid and both GELUs)", () => {
    const x = scaled(1000, 95, 4), all = buffer(1000), allE = buffer(1000), allT = buffer(1000);
    sigmoid(all, x, 1000);
    gelu(allE, x, 1000, GELU_ERF);
    gelu(allT, x, 1000, GELU_TANH);
    for (let n = 1; n <= 7; n++) {
      const y = buffer(n), e = buffer(n), t = buffer(n);
      sigmoid(y, x, n);
      gelu(e, x, n, GELU_ERF);
      gelu(t, x, n, GELU_TANH);
      expect<i32>(firstDifference(y, all, n)).toBe(-1, "sigmoid n=" + n.toString());
      expect<i32>(firstDifference(e, allE, n)).toBe(-1, "gelu erf n=" + n.toString());
      expect<i32>(firstDifference(t, allT, n)).toBe(-1, "gelu tanh n=" + n.toString());
      expect<bool>(guardIntact(y, n) && guardIntact(e, n) && guardIntact(t, n)).toBe(true, "wrote past the end");
    }
  });
  it("sigmoid_backward matches its twin bit for bit (also in place)", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const yv = pattern(n, 96), dy = pattern(n, 97), a = buffer(n), b = buffer(n);
      sigmoid_backward(a, dy, yv, n);
      sigmoid_backward__scalar(b, dy, yv, n);
      expect<i32>(firstDifference(a, b, n)).toBe(-1, "n=" + n.toString());
      expect<bool>(guardIntact(a, n)).toBe(true, "wrote past the end");
    }
    const dy = pattern(17, 98), yv = pattern(17, 99), a = buffer(17), b = buffer(17);
    memory.copy(a, dy, 17 << SHIFT);
    sigmoid_backward(a, a, yv, 17);
    sigmoid_backward__scalar(b, dy, yv, 17);
    expect<i32>(firstDifference(a, b, 17)).toBe(-1, "in place");
  });
  it("GELU (erf and tanh) forward and backward within an ulp (float32) / 4 ulp (float64) of the twins, |x| up to 50", () => {
    for (let mode = 0; mode < 2; mode++) {
      const name = mode == GELU_TANH ? "gelu tanh" : "gelu erf";
      for (let k = 0; k < LENGTHS.length; k++) {
        for (let q = 0; q < WIDE.length; q++) {
          const n = LENGTHS[k];
          const x = scaled(n, 100 + q, WIDE[q]), dy = pattern(n, 110 + q);
          const a = buffer(n), b = buffer(n);
          gelu(a, x, n, mode);
          gelu__scalar(b, x, n, mode);
          let d = closeEnough(a, b, n, SMOOTH_ULPS, SMOOTH_ABS);
          expect<i32>(d).toBe(-1, describeCase(name, n, WIDE[q], d, a, b, x));
          expect<bool>(guardIntact(a, n)).toBe(true, name + " wrote past the end");
          gelu_backward(a, dy, x, n, mode);
          gelu_backward__scalar(b, dy, x, n, mode);
          d = closeEnough(a, b, n, SMOOTH_ULPS, SMOOTH_ABS);
          expect<i32>(d).toBe(-1, describeCase(name + " backward", n, WIDE[q], d, a, b, x));
          expect<bool>(guardIntact(a, n)).toBe(true, name + " backward wrote past the end");
        }
      }
    }
  });
  it("GELU special values: +-0 keep their sign, +inf stays, NaN stays NaN, x << 0 gives -0 or a tiny negative, both modes", () => {
    for (let mode = 0; mode < 2; mode++) {
      const x = buffer(5), y = buffer(5);
      const values: real[] = [0.0, -0.0, Infinity, NaN, -30.0];
      for (let i = 0; i < 5; i++) store<real>(at(x, i), values[i]);
      gelu(y, x, 5, mode);
      expect<bool>(load<real>(at(y, 0)) == 0 && 1 / load<real>(at(y, 0)) > 0).toBe(true, "gelu(+0) = +0");
      expect<bool>(load<real>(at(y, 1)) == 0 && 1 / load<real>(at(y, 1)) < 0).toBe(true, "gelu(-0) = -0");
      expect<real>(load<real>(at(y, 2))).toBe(Infinity);
      expect<bool>(isNaN(load<real>(at(y, 3)))).toBe(true, "NaN");
      const v = load<real>(at(y, 4));
      expect<bool>(v <= 0 && <f64>v > -1e-100).toBe(true, "gelu(-30) = " + v.toString());
    }
  });
  it("in place: gelu(y = x) and gelu_backward(dx = dy) give the out-of-place bits", () => {
    for (let mode = 0; mode < 2; mode++) {
      const x = scaled(17, 120, 3), dy = pattern(17, 121), a = buffer(17), b = buffer(17);
      gelu(b, x, 17, mode);
      memory.copy(a, x, 17 << SHIFT);
      gelu(a, a, 17, mode);
      expect<i32>(firstDifference(a, b, 17)).toBe(-1, "gelu in place");
      gelu_backward(b, dy, x, 17, mode);
      memory.copy(a, dy, 17 << SHIFT);
      gelu_backward(a, a, x, 17, mode);
      expect<i32>(firstDifference(a, b, 17)).toBe(-1, "gelu_backward in place");
    }
  });
});

// erfc(x) to 60 digits (mpmath 1.2.1), rounded to f64: fdlibm promises less than an ulp.
const ERFC_TABLE: f64[][] = [
  [0.0, 1.0], [1e-300, 1.0], [8.673617379884035e-19, 1.0], [1e-10, 0.999999999887162], [0.1, 0.887537083981715],
  [0.25, 0.7236736098317631], [0.3, 0.6713732405408726], [0.5, 0.4795001221869535], [0.84375, 0.23277433876765838],
  [0.9, 0.20309178757716786], [1.0, 0.15729920705028513], [1.1, 0.11979493042591827], [1.25, 0.07709987174354177],
  [1.5, 0.033894853524689274], [2.0, 0.004677734981047266], [2.5, 0.0004069520174449589], [2.857, 5.3358260086846374e-05],
  [2.86, 5.24011730443978e-05], [3.0, 2.209049699858544e-05], [4.0, 1.541725790028002e-08], [5.0, 1.537459794428035e-12],
  [6.0, 2.1519736712498913e-17], [8.0, 1.1224297172982926e-29], [10.0, 2.088487583762545e-45], [15.0, 7.212994172451207e-100],
  [20.0, 5.395865611607901e-176], [26.0, 5.663192408856143e-296], [28.0, 0.0], [30.0, 0.0],
  [-1e-10, 1.000000000112838], [-0.1, 1.1124629160182848], [-0.3, 1.3286267594591274], [-0.5, 1.5204998778130465],
  [-0.9, 1.7969082124228322], [-1.0, 1.8427007929497148], [-1.1, 1.8802050695740817], [-1.5, 1.9661051464753108],
  [-2.0, 1.9953222650189528], [-3.0, 1.9999779095030015], [-5.0, 1.9999999999984626], [-6.5, 2.0], [-30.0, 2.0],
];

describe("erfc (fdlibm port, erf.ts), " + DTYPE, () => {
  it("within an ulp of 60-digit values over every range (|x| < 0.84375, < 1.25, < 1/0.35, < 28, beyond; both signs)", () => {
    for (let i = 0; i < ERFC_TABLE.length; i++) {
      const x = ERFC_TABLE[i][0], want = ERFC_TABLE[i][1];
      const got = erfc(x);
      const d = reinterpret<i64>(got) - reinterpret<i64>(want);
      expect<bool>(d >= -1 && d <= 1).toBe(true, "erfc(" + x.toString() + ") = " + got.toString() + ", want " + want.toString());
    }
  });
  it("special values: erfc(NaN) is NaN, erfc(+inf) = 0, erfc(-inf) = 2", () => {
    expect<bool>(isNaN(erfc(NaN))).toBe(true);
    expect<f64>(erfc(Infinity)).toBe(0.0);
    expect<f64>(erfc(-Infinity)).toBe(2.0);
  });
});
