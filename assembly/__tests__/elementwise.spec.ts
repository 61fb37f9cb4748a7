import { f32_fill, f32_scale, f32_mul, f32_axpy, f32_relu, f32_relu_backward } from "../elementwise";
import { LENGTHS, pattern, buffer, firstDifference, guardIntact } from "./helpers";
import {
  f32_fill__scalar, f32_copy__scalar, f32_scale__scalar, f32_mul__scalar, f32_axpy__scalar,
  f32_relu__scalar, f32_relu_backward__scalar,
} from "../reference/elementwise";

// Each case runs the SIMD kernel and its scalar twin on the same inputs and requires identical
// bits, plus an untouched guard word after the output (no overrun at the tail).
function agree(name: string, n: i32, fast: usize, slow: usize): void {
  const at = firstDifference(fast, slow, n);
  expect<i32>(at).toBe(-1, name + " n=" + n.toString() + " differs at " + at.toString());
  expect<bool>(guardIntact(fast, n)).toBe(true, name + " n=" + n.toString() + " wrote past the end");
}

describe("elementwise kernels vs scalar twins (n in 0, 1, 3, 4, 5, 17, 1000)", () => {
  it("f32_fill", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const a = buffer(n), b = buffer(n);
      f32_fill(a, n, -2.5); f32_fill__scalar(b, n, -2.5);
      agree("fill", n, a, b);
    }
  });
  it("f32_scale", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const x = pattern(n, 2), a = buffer(n), b = buffer(n);
      f32_scale(a, x, n, 0.3); f32_scale__scalar(b, x, n, 0.3);
      agree("scale", n, a, b);
    }
  });
  it("f32_mul", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const x = pattern(n, 3), y = pattern(n, 4), a = buffer(n), b = buffer(n);
      f32_mul(a, x, y, n); f32_mul__scalar(b, x, y, n);
      agree("mul", n, a, b);
    }
  });
  it("f32_axpy", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const x = pattern(n, 5), a = pattern(n, 6), b = buffer(n);
      f32_copy__scalar(b, a, n);
      store<f32>(a + (<usize>n << 2), 12345.0);
      f32_axpy(a, x, n, -0.7); f32_axpy__scalar(b, x, n, -0.7);
      agree("axpy", n, a, b);
    }
  });
  it("f32_relu forward and backward", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const x = pattern(n, 7), dy = pattern(n, 8), a = buffer(n), b = buffer(n);
      f32_relu(a, x, n); f32_relu__scalar(b, x, n);
      agree("relu", n, a, b);
      f32_relu_backward(a, dy, x, n); f32_relu_backward__scalar(b, dy, x, n);
      agree("relu_backward", n, a, b);
    }
  });
  it("f32_relu by hand: max(x, 0), zero and negative zero give 0", () => {
    const x = buffer(5), y = buffer(5);
    store<f32>(x, -1.5); store<f32>(x + 4, 0.0); store<f32>(x + 8, 2.25); store<f32>(x + 12, -0.0); store<f32>(x + 16, 3.0);
    f32_relu(y, x, 5);
    expect<f32>(load<f32>(y)).toBe(0);
    expect<f32>(load<f32>(y + 4)).toBe(0);
    expect<f32>(load<f32>(y + 8)).toBe(2.25);
    expect<u32>(load<u32>(y + 12)).toBe(0, "-0 becomes +0");
    expect<f32>(load<f32>(y + 16)).toBe(3.0);
  });
});
