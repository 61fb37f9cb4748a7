import { fill, scale, mul, axpy, relu, relu_backward, add, leaky_relu, leaky_relu_backward } from "../elementwise";
import { SHIFT } from "../real";
import { DTYPE, LENGTHS, pattern, buffer, firstDifference, guardIntact } from "./helpers";
import {
  fill__scalar, copy__scalar, scale__scalar, mul__scalar, axpy__scalar, relu__scalar, relu_backward__scalar,
  add__scalar, leaky_relu__scalar, leaky_relu_backward__scalar,
} from "../reference/elementwise";

// Each case runs the SIMD kernel and its scalar twin on the same inputs and requires identical
// bits, plus an untouched guard word after the output (no overrun at the tail).
function agree(name: string, n: i32, fast: usize, slow: usize): void {
  const at = firstDifference(fast, slow, n);
  expect<i32>(at).toBe(-1, DTYPE + " " + name + " n=" + n.toString() + " differs at " + at.toString());
  expect<bool>(guardIntact(fast, n)).toBe(true, DTYPE + " " + name + " n=" + n.toString() + " wrote past the end");
}

describe("elementwise kernels vs scalar twins (n in 0, 1, 3, 4, 5, 17, 1000), " + DTYPE, () => {
  it("fill", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const a = buffer(n), b = buffer(n);
      fill(a, n, -2.5); fill__scalar(b, n, -2.5);
      agree("fill", n, a, b);
    }
  });
  it("scale", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const x = pattern(n, 2), a = buffer(n), b = buffer(n);
      scale(a, x, n, 0.3); scale__scalar(b, x, n, 0.3);
      agree("scale", n, a, b);
    }
  });
  it("mul", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const x = pattern(n, 3), y = pattern(n, 4), a = buffer(n), b = buffer(n);
      mul(a, x, y, n); mul__scalar(b, x, y, n);
      agree("mul", n, a, b);
    }
  });
  it("axpy", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const x = pattern(n, 5), a = pattern(n, 6), b = buffer(n);
      copy__scalar(b, a, n);
      store<real>(a + (<usize>n << SHIFT), 12345.0);
      axpy(a, x, n, -0.7); axpy__scalar(b, x, n, -0.7);
      agree("axpy", n, a, b);
    }
  });
  it("relu forward and backward", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const x = pattern(n, 7), dy = pattern(n, 8), a = buffer(n), b = buffer(n);
      relu(a, x, n); relu__scalar(b, x, n);
      agree("relu", n, a, b);
      relu_backward(a, dy, x, n); relu_backward__scalar(b, dy, x, n);
      agree("relu_backward", n, a, b);
    }
  });
  it("relu by hand: max(x, 0), zero and negative zero give 0", () => {
    const x = buffer(5), y = buffer(5);
    const values: real[] = [-1.5, 0.0, 2.25, -0.0, 3.0];
    for (let i = 0; i < 5; i++) store<real>(x + (<usize>i << SHIFT), values[i]);
    relu(y, x, 5);
    expect<real>(load<real>(y)).toBe(0);
    expect<real>(load<real>(y + (1 << SHIFT))).toBe(0);
    expect<real>(load<real>(y + (2 << SHIFT))).toBe(2.25);
    expect<bool>(1 / load<real>(y + (3 << SHIFT)) > 0).toBe(true, "-0 becomes +0");
    expect<real>(load<real>(y + (4 << SHIFT))).toBe(3.0);
  });
  it("add, also in place (y = a and y = b)", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const x = pattern(n, 9), y = pattern(n, 10), a = buffer(n), b = buffer(n);
      add(a, x, y, n); add__scalar(b, x, y, n);
      agree("add", n, a, b);
      copy__scalar(a, x, n);
      add(a, a, y, n);
      agree("add y = a", n, a, b);
      copy__scalar(a, y, n);
      add(a, x, a, n);
      agree("add y = b", n, a, b);
    }
  });
  it("leaky_relu forward and backward, slopes 0.01, 0.2 and 0, also in place", () => {
    const slopes: real[] = [0.01, 0.2, 0];
    for (let q = 0; q < slopes.length; q++) {
      for (let k = 0; k < LENGTHS.length; k++) {
        const n = LENGTHS[k];
        const x = pattern(n, 11), dy = pattern(n, 12), a = buffer(n), b = buffer(n);
        leaky_relu(a, x, n, slopes[q]); leaky_relu__scalar(b, x, n, slopes[q]);
        agree("leaky_relu", n, a, b);
        copy__scalar(a, x, n);
        leaky_relu(a, a, n, slopes[q]);
        agree("leaky_relu in place", n, a, b);
        leaky_relu_backward(a, dy, x, n, slopes[q]); leaky_relu_backward__scalar(b, dy, x, n, slopes[q]);
        agree("leaky_relu_backward", n, a, b);
        copy__scalar(a, dy, n);
        leaky_relu_backward(a, a, x, n, slopes[q]);
        agree("leaky_relu_backward in place", n, a, b);
      }
    }
  });
  it("leaky_relu by hand: x > 0 kept, x <= 0 scaled (0 and -0 give +-0), NaN stays NaN; backward by the input's sign", () => {
    const x = buffer(6), y = buffer(6), g = buffer(6), dx = buffer(6);
    const values: real[] = [-2.0, 0.0, 1.5, -0.0, NaN, 3.0];
    for (let i = 0; i < 6; i++) { store<real>(x + (<usize>i << SHIFT), values[i]); store<real>(g + (<usize>i << SHIFT), 4.0); }
    leaky_relu(y, x, 6, 0.25);
    leaky_relu_backward(dx, g, x, 6, 0.25);
    expect<real>(load<real>(y)).toBe(-0.5);
    expect<bool>(load<real>(y + (1 << SHIFT)) == 0 && 1 / load<real>(y + (1 << SHIFT)) > 0).toBe(true, "0 -> +0");
    expect<real>(load<real>(y + (2 << SHIFT))).toBe(1.5);
    expect<bool>(load<real>(y + (3 << SHIFT)) == 0 && 1 / load<real>(y + (3 << SHIFT)) < 0).toBe(true, "-0 -> -0");
    expect<bool>(isNaN(load<real>(y + (4 << SHIFT)))).toBe(true, "NaN");
    expect<real>(load<real>(dx)).toBe(1.0);
    expect<real>(load<real>(dx + (1 << SHIFT))).toBe(1.0);
    expect<real>(load<real>(dx + (2 << SHIFT))).toBe(4.0);
    expect<real>(load<real>(dx + (5 << SHIFT))).toBe(4.0);
  });
});
