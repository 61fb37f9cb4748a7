import { f64_tanh_backward } from "../f64/activation";
import { f64_sum_rows, f64_sum_squares, f64_sum_abs } from "../f64/reduce";
import { f64_sgd, f64_sgd_momentum, f64_adagrad, f64_rmsprop, f64_adam } from "../f64/optim";
import { f64_rand_normal, f64_rand_uniform, f64_dropout_mask } from "../f64/random";
import { f32_rand_normal, f32_dropout_mask } from "../random";
import {
  f64_tanh_backward__scalar, f64_sum_rows__scalar, f64_sum_squares__scalar, f64_sum_abs__scalar,
} from "../reference/f64-elementwise";
import { f64_sgd__scalar, f64_sgd_momentum__scalar, f64_adagrad__scalar, f64_rmsprop__scalar, f64_adam__scalar } from "../reference/f64-optim";
import { LENGTHS } from "./helpers";
import { pattern64, buffer64, guardIntact64, firstDifference64, copy64 } from "./helpers-f64";

// Each f64 SIMD kernel (two lanes, a scalar tail for odd n) against its scalar twin on the same
// inputs: identical bits, and an untouched guard element after the output.
function agree(name: string, n: i32, fast: usize, slow: usize): void {
  const at = firstDifference64(fast, slow, n);
  expect<i32>(at).toBe(-1, name + " n=" + n.toString() + " differs at " + at.toString());
  expect<bool>(guardIntact64(fast, n)).toBe(true, name + " n=" + n.toString() + " wrote past the end");
}

describe("f64 kernels vs scalar twins (n in 0, 1, 3, 4, 5, 17, 1000)", () => {
  it("tanh_backward (in place)", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const x = pattern64(n, 3), g = pattern64(n, 4);
      if (n > 2) store<f64>(x + 16, NaN);
      const a = buffer64(n), b = buffer64(n);
      copy64(a, g, n); copy64(b, g, n);
      f64_tanh_backward(a, a, x, n); f64_tanh_backward__scalar(b, b, x, n); agree("tanh_backward in place", n, a, b);
    }
  });
  it("sum_rows (rows x cols in {1, 2, 3, 5} x {1, 2, 3, 7}), sum_squares, sum_abs", () => {
    const R: i32[] = [1, 2, 3, 5], Cs: i32[] = [1, 2, 3, 7];
    for (let r = 0; r < R.length; r++) {
      for (let c = 0; c < Cs.length; c++) {
        const rows = R[r], cols = Cs[c];
        const x = pattern64(rows * cols, rows * 10 + cols);
        const a = buffer64(cols), b = buffer64(cols);
        f64_sum_rows(a, x, rows, cols, false); f64_sum_rows__scalar(b, x, rows, cols, false); agree("sum_rows", cols, a, b);
        f64_sum_rows(a, x, rows, cols, true); f64_sum_rows__scalar(b, x, rows, cols, true); agree("sum_rows accumulate", cols, a, b);
      }
    }
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const x = pattern64(n, 5);
      expect<u64>(reinterpret<u64>(f64_sum_squares(x, n))).toBe(reinterpret<u64>(f64_sum_squares__scalar(x, n)), "sum_squares n=" + n.toString());
      expect<u64>(reinterpret<u64>(f64_sum_abs(x, n))).toBe(reinterpret<u64>(f64_sum_abs__scalar(x, n)), "sum_abs n=" + n.toString());
    }
  });
});

describe("f64 update rules vs scalar twins (three steps, n in 0, 1, 3, 4, 5, 17, 1000)", () => {
  it("sgd, sgd_momentum, adagrad, rmsprop, adam: w and state agree bit for bit", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const w0 = pattern64(n, 6);
      for (let rule = 0; rule < 5; rule++) {
        const wa = buffer64(n), wb = buffer64(n), sa = buffer64(n), sb = buffer64(n), ta = buffer64(n), tb = buffer64(n);
        copy64(wa, w0, n); copy64(wb, w0, n);
        for (let step = 1; step <= 3; step++) {
          const g = pattern64(n, 10 + step);
          if (rule == 0) { f64_sgd(wa, g, n, 0.1); f64_sgd__scalar(wb, g, n, 0.1); }
          else if (rule == 1) { f64_sgd_momentum(wa, g, sa, n, 0.1, 0.9); f64_sgd_momentum__scalar(wb, g, sb, n, 0.1, 0.9); }
          else if (rule == 2) { f64_adagrad(wa, g, sa, n, 0.1, 1e-5); f64_adagrad__scalar(wb, g, sb, n, 0.1, 1e-5); }
          else if (rule == 3) { f64_rmsprop(wa, g, sa, n, 0.1, 0.99, 1e-8); f64_rmsprop__scalar(wb, g, sb, n, 0.1, 0.99, 1e-8); }
          else { f64_adam(wa, g, sa, ta, n, 1e-3, 0.9, 0.999, 1e-8, <f64>step); f64_adam__scalar(wb, g, sb, tb, n, 1e-3, 0.9, 0.999, 1e-8, <f64>step); }
        }
        const name = "rule " + rule.toString();
        agree(name + " w", n, wa, wb);
        agree(name + " state", n, sa, sb);
        agree(name + " second state", n, ta, tb);
      }
    }
  });
});

describe("f64 random kernels share the f32 counter-based streams", () => {
  it("normal: the f64 draws round to the f32 draws; dropout masks drop the same units; uniform in [0, 1)", () => {
    const n = 4097;
    const a = buffer64(n);
    const b = heap.alloc(<usize>n << 2);
    for (let offset = 0; offset < 3; offset++) {
      f64_rand_normal(a, n, 1234, <f64>(offset * 1000), 0, 1);
      f32_rand_normal(b, n, 1234, <f64>(offset * 1000), 0, 1);
      let bad = -1;
      for (let i = 0; i < n; i++) if (<f32>load<f64>(a + (<usize>i << 3)) != load<f32>(b + (<usize>i << 2))) { bad = i; break; }
      expect<i32>(bad).toBe(-1, "normal offset " + offset.toString() + " differs at " + bad.toString());
      f64_dropout_mask(a, n, 0.3, 77, <f64>offset);
      f32_dropout_mask(b, n, 0.3, 77, <f64>offset);
      bad = -1;
      for (let i = 0; i < n; i++) if ((load<f64>(a + (<usize>i << 3)) == 0) != (load<f32>(b + (<usize>i << 2)) == 0)) { bad = i; break; }
      expect<i32>(bad).toBe(-1, "dropout offset " + offset.toString() + " differs at " + bad.toString());
    }
    expect<bool>(guardIntact64(a, n)).toBe(true);
    f64_rand_uniform(a, n, 5, 0);
    let inRange = true, fine = false;
    for (let i = 0; i < n; i++) {
      const u = load<f64>(a + (<usize>i << 3));
      if (!(u >= 0 && u < 1)) inRange = false;
      if (<f64><f32>u != u) fine = true;
    }
    expect<bool>(inRange).toBe(true, "uniform outside [0, 1)");
    expect<bool>(fine).toBe(true, "uniform has no more than float32 resolution");
  });
});
