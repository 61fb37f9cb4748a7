import { sgd, sgd_momentum, sgd_nesterov, adagrad, rmsprop, adam, ema_update } from "../optim";
import {
  sgd__scalar, sgd_momentum__scalar, sgd_nesterov__scalar, adagrad__scalar, rmsprop__scalar, adam__scalar, ema_update__scalar,
} from "../reference/optim";
import { SHIFT } from "../real";
import { DTYPE, LENGTHS, pattern, buffer, firstDifference, guardIntact } from "./helpers";

// The update rules are elementwise and the twins use the same operations in the same order,
// so kernel and twin must agree to the bit, on every element (SIMD body and scalar tail), for the
// weights and for every state array, and must leave the guard word after each array untouched.

/** A guarded copy of n values (buffer() puts the sentinel after the end). */
function copyOf(src: usize, n: i32): usize {
  const p = buffer(n);
  memory.copy(p, src, <usize>n << SHIFT);
  return p;
}

/** n values in [0, scale): valid second-moment state (caches and Adam's v are never negative). */
function nonNegative(n: i32, salt: i32, scale: real): usize {
  const p = pattern(n, salt);
  for (let i = 0; i < n; i++) store<real>(p + (<usize>i << SHIFT), abs(load<real>(p + (<usize>i << SHIFT))) * scale);
  return p;
}

function agree(name: string, n: i32, fast: usize, slow: usize): void {
  const at = firstDifference(fast, slow, n);
  let detail = "";
  if (at >= 0) {
    detail = " kernel " + load<real>(fast + (<usize>at << SHIFT)).toString() + " twin " + load<real>(slow + (<usize>at << SHIFT)).toString();
  }
  expect<i32>(at).toBe(-1, DTYPE + " " + name + " n=" + n.toString() + " differs at " + at.toString() + detail);
  expect<bool>(guardIntact(fast, n)).toBe(true, DTYPE + " " + name + " n=" + n.toString() + " wrote past the end");
}

/** |got - want| <= tol, with the numbers in the message. */
function near(name: string, got: f64, want: f64, tol: f64): void {
  const err = Math.abs(got - want);
  expect<bool>(err <= tol).toBe(true, DTYPE + " " + name + ": got " + got.toString() + " want " + want.toString() + " err " + err.toString());
}

// Three consecutive steps with fresh gradients, so state written by one step feeds the next.
const STEPS = 3;

/**
 * Gradients spread over magnitudes 1 down to 1e-8 (pattern() times 10^-(2 (i mod 5))), so that eps
 * is not negligible next to sqrt(cache) for some elements: a misplaced eps changes bits.
 */
function gradient(n: i32, salt: i32): usize {
  const p = pattern(n, salt);
  const scales: real[] = [1, 1e-2, 1e-4, 1e-6, 1e-8];
  for (let i = 0; i < n; i++) store<real>(p + (<usize>i << SHIFT), load<real>(p + (<usize>i << SHIFT)) * scales[i % 5]);
  return p;
}

describe("optimizer kernels vs scalar twins, bit-exact (n in 0, 1, 3, 4, 5, 17, 1000)", () => {
  it("sgd", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const w0 = pattern(n, 11);
      const wa = copyOf(w0, n), wb = copyOf(w0, n);
      for (let s = 0; s < STEPS; s++) {
        const dw = gradient(n, 12 + s);
        sgd(wa, dw, n, 1e-2); sgd__scalar(wb, dw, n, 1e-2);
        agree("sgd w", n, wa, wb);
      }
    }
  });
  it("sgd_momentum", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const w0 = pattern(n, 21), v0 = pattern(n, 22);
      const wa = copyOf(w0, n), wb = copyOf(w0, n), va = copyOf(v0, n), vb = copyOf(v0, n);
      for (let s = 0; s < STEPS; s++) {
        const dw = gradient(n, 23 + s);
        sgd_momentum(wa, dw, va, n, 1e-2, 0.9); sgd_momentum__scalar(wb, dw, vb, n, 1e-2, 0.9);
        agree("momentum w", n, wa, wb);
        agree("momentum v", n, va, vb);
      }
    }
  });
  it("sgd_nesterov", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const w0 = pattern(n, 26), v0 = pattern(n, 27);
      const wa = copyOf(w0, n), wb = copyOf(w0, n), va = copyOf(v0, n), vb = copyOf(v0, n);
      for (let s = 0; s < STEPS; s++) {
        const dw = gradient(n, 28 + s);
        sgd_nesterov(wa, dw, va, n, 1e-2, 0.9); sgd_nesterov__scalar(wb, dw, vb, n, 1e-2, 0.9);
        agree("nesterov w", n, wa, wb);
        agree("nesterov v", n, va, vb);
      }
    }
  });
  it("adagrad", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const w0 = pattern(n, 31), c0 = nonNegative(n, 32, 0.5);
      const wa = copyOf(w0, n), wb = copyOf(w0, n), ca = copyOf(c0, n), cb = copyOf(c0, n);
      for (let s = 0; s < STEPS; s++) {
        const dw = gradient(n, 33 + s);
        adagrad(wa, dw, ca, n, 1e-2, 1e-5); adagrad__scalar(wb, dw, cb, n, 1e-2, 1e-5);
        agree("adagrad w", n, wa, wb);
        agree("adagrad cache", n, ca, cb);
      }
    }
  });
  it("rmsprop", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const w0 = pattern(n, 41), c0 = nonNegative(n, 42, 0.5);
      const wa = copyOf(w0, n), wb = copyOf(w0, n), ca = copyOf(c0, n), cb = copyOf(c0, n);
      for (let s = 0; s < STEPS; s++) {
        const dw = gradient(n, 43 + s);
        rmsprop(wa, dw, ca, n, 1e-2, 0.99, 1e-8); rmsprop__scalar(wb, dw, cb, n, 1e-2, 0.99, 1e-8);
        agree("rmsprop w", n, wa, wb);
        agree("rmsprop cache", n, ca, cb);
      }
    }
  });
  it("ema_update (rates 0.9, 1e-3, 2e-4: the warm-up's first rate and two decays' rates)", () => {
    const rates: real[] = [0.9, 1e-3, 2e-4];
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const a0 = pattern(n, 51);
      const fast = copyOf(a0, n), slow = copyOf(a0, n);
      for (let s = 0; s < rates.length; s++) {
        const w = gradient(n, 52 + s);
        ema_update(fast, w, n, rates[s]); ema_update__scalar(slow, w, n, rates[s]);
        agree("ema_update avg", n, fast, slow);
      }
    }
  });
  it("adam (t = 1, 2, 3 from zero state; t = 6, 7, 8 and 1000, 1001, 1002 from nonzero state)", () => {
    const starts: i32[] = [0, 5, 999];
    for (let q = 0; q < starts.length; q++) {
      for (let k = 0; k < LENGTHS.length; k++) {
        const n = LENGTHS[k];
        const t0 = starts[q];
        const w0 = pattern(n, 51);
        const m0 = t0 == 0 ? buffer(n) : pattern(n, 52);
        const v0 = t0 == 0 ? buffer(n) : nonNegative(n, 53, 0.3);
        const wa = copyOf(w0, n), wb = copyOf(w0, n), ma = copyOf(m0, n), mb = copyOf(m0, n);
        const va = copyOf(v0, n), vb = copyOf(v0, n);
        for (let s = 0; s < STEPS; s++) {
          const dw = gradient(n, 54 + s);
          const t = t0 + s + 1;
          adam(wa, dw, ma, va, n, 1e-3, 0.9, 0.999, 1e-8, <f64>t);
          adam__scalar(wb, dw, mb, vb, n, 1e-3, 0.9, 0.999, 1e-8, t);
          const tag = " t=" + t.toString();
          agree("adam m" + tag, n, ma, mb);
          agree("adam v" + tag, n, va, vb);
          agree("adam w" + tag, n, wa, wb);
        }
      }
    }
  });
});

// Hand-worked steps. The numbers in the comments are exact real-number arithmetic; in float32 the
// kernels get f32 inputs (0.1, 0.9, 0.99, 0.999, 1e-5, ... are rounded to f32, relative error
// <= 6e-8, except that 1 - f32(0.999) is 1.3e-5 smaller than 0.001, and 1 - f32(0.99) 9.5e-7
// smaller than 0.01) and round each operation to f32 (float64 is far closer). So: w within 1e-6 absolute (every wrong formula variant tried
// here, e.g. eps inside the sqrt, no bias correction, t off by one, moves w by more than 1e-3),
// state within 1e-6 relative, or 2e-5 relative where (1 - b2) enters.
// Each case is laid out as [A, B, A, B, A, B]: both in the SIMD body (0..3) and the scalar tail (4, 5).

/** Six-element array [a, b, a, b, a, b], guarded. */
function ab(a: real, b: real): usize {
  const p = buffer(6);
  for (let i = 0; i < 6; i++) store<real>(p + (<usize>i << SHIFT), (i & 1) ? b : a);
  return p;
}

/** Checks [a, b, a, b, a, b] against the hand values with the given relative and absolute slack. */
function handCheck(name: string, p: usize, a: f64, b: f64, rel: f64, absTol: f64): void {
  for (let i = 0; i < 6; i++) {
    const want = (i & 1) ? b : a;
    near(name + "[" + i.toString() + "]", <f64>load<real>(p + (<usize>i << SHIFT)), want, Math.max(absTol, rel * Math.abs(want)));
  }
  expect<bool>(guardIntact(p, 6)).toBe(true, name + " wrote past the end");
}

describe("optimizer steps by hand", () => {
  it("sgd: w = 1, dw = 0.5, lr = 0.1 -> 0.95; w = -2, dw = -1 -> -1.9", () => {
    const w = ab(1, -2), dw = ab(0.5, -1);
    sgd(w, dw, 6, 0.1);
    handCheck("sgd w", w, 0.95, -1.9, 0, 1e-6);
  });
  it("momentum: lr 0.1, mu 0.9", () => {
    // A: v = 0.9 * 0.2 - 0.1 * 0.5 = 0.13,  w = 1 + 0.13 = 1.13
    // B: v = 0.9 * 0 - 0.1 * (-1) = 0.1,    w = -2 + 0.1 = -1.9
    const w = ab(1, -2), dw = ab(0.5, -1), v = ab(0.2, 0);
    sgd_momentum(w, dw, v, 6, 0.1, 0.9);
    handCheck("momentum v", v, 0.13, 0.1, 1e-6, 0);
    handCheck("momentum w", w, 1.13, -1.9, 0, 1e-6);
  });
  it("nesterov: lr 0.1, mu 0.9", () => {
    // A: v = 0.9 * 0.2 - 0.1 * 0.5 = 0.13;  w = 1 - 0.9 * 0.2 + 1.9 * 0.13 = 1.067
    // B: v = 0.9 * 0 - 0.1 * (-1) = 0.1;     w = -2 - 0 + 1.9 * 0.1 = -1.81
    const w = ab(1, -2), dw = ab(0.5, -1), v = ab(0.2, 0);
    sgd_nesterov(w, dw, v, 6, 0.1, 0.9);
    handCheck("nesterov v", v, 0.13, 0.1, 1e-6, 0);
    handCheck("nesterov w", w, 1.067, -1.81, 0, 1e-6);
  });
  it("adagrad: lr 0.1, eps 1e-5", () => {
    // A: cache = 0.75 + 0.5^2 = 1;      w = 1 - 0.1 * 0.5 / (sqrt(1) + 1e-5) = 1 - 0.05 / 1.00001 = 0.950000499995
    // B: cache = 0 + (1e-3)^2 = 1e-6;   w = 0 - 0.1 * 1e-3 / (1e-3 + 1e-5) = -1e-4 / 1.01e-3 = -0.0990099009901
    //    (eps inside the sqrt would give -0.0301)
    const w = ab(1, 0), dw = ab(0.5, 1e-3), cache = ab(0.75, 0);
    adagrad(w, dw, cache, 6, 0.1, 1e-5);
    handCheck("adagrad cache", cache, 1, 1e-6, 1e-6, 0);
    handCheck("adagrad w", w, 0.950000499995, -0.0990099009901, 0, 1e-6);
  });
  it("rmsprop: lr 0.1, decay 0.99, eps 1e-8", () => {
    // A: cache = 0.99 * 1 + 0.01 * 0.25 = 0.9925; sqrt = 0.996242942259; w = 1 - 0.05 / 0.996242952259 = 0.949811439181
    // B: cache = 0.99 * 0 + 0.01 * (1e-6)^2 = 1e-14; sqrt = 1e-7; w = 0 - 1e-7 / (1e-7 + 1e-8) = -0.909090909091
    const w = ab(1, 0), dw = ab(0.5, 1e-6), cache = ab(1, 0);
    rmsprop(w, dw, cache, 6, 0.1, 0.99, 1e-8);
    handCheck("rmsprop cache", cache, 0.9925, 1e-14, 1e-6, 0);
    handCheck("rmsprop w", w, 0.949811439181, -0.909090909091, 0, 1e-6);
  });
  it("ema_update: avg 1, w 3, rate 0.25 -> 1.5; avg -2, w -2 (unchanged) -> -2", () => {
    const avg = ab(1, -2), w = ab(3, -2);
    ema_update(avg, w, 6, 0.25);
    handCheck("ema avg", avg, 1.5, -2, 0, 0);
  });
  it("adam: two steps from nonzero m, v with the config's t going 5 -> 6 -> 7 (lr 0.1, b1 0.9, b2 0.999, eps 1e-8)", () => {
    // A starts at w = 1, m = 0.1, v = 0.01; B at w = 0, m = 0, v = 0.
    // Step t = 6, dw = 0.5 (A) / 1e-6 (B):  1 - 0.9^6 = 0.468559,  1 - 0.999^6 = 0.005985019985006
    //   A: m = 0.09 + 0.05 = 0.14;  v = 0.00999 + 0.00025 = 0.01024
    //      mHat = 0.14 / 0.468559 = 0.298788413;  vHat = 0.01024 / 0.005985019985 = 1.710938314; sqrt = 1.308028407
    //      w = 1 - 0.1 * 0.298788413 / 1.308028417 = 0.977157345430
    //   B: m = 1e-7; v = 1e-15; mHat = 2.134202950e-7; vHat = 1.670838197e-13; sqrt = 4.087588772e-7
    //      w = 0 - 0.1 * 2.134202950e-7 / (4.087588772e-7 + 1e-8) = -0.0509649601742
    // Step t = 7, dw = -0.25 (A) / 1e-6 (B):  1 - 0.9^7 = 0.5217031,  1 - 0.999^7 = 0.006979034965021
    //   A: m = 0.126 - 0.025 = 0.101;  v = 0.01022976 + 0.0000625 = 0.01029226
    //      mHat = 0.193596703;  vHat = 1.474739710; sqrt = 1.214388616
    //      w = 0.977157345430 - 0.1 * 0.193596703 / 1.214388626 = 0.961215438638
    //   B: m = 1.9e-7; v = 1.999e-15; mHat = 3.641918171e-7; vHat = 2.864292857e-13; sqrt = 5.351908872e-7
    //      w = -0.0509649601742 - 0.1 * 3.641918171e-7 / 5.451908872e-7 = -0.117765749717
    const w = ab(1, 0), m = ab(0.1, 0), v = ab(0.01, 0);
    adam(w, ab(0.5, 1e-6), m, v, 6, 0.1, 0.9, 0.999, 1e-8, 6);
    handCheck("adam t=6 m", m, 0.14, 1e-7, 1e-6, 0);
    handCheck("adam t=6 v", v, 0.01024, 1e-15, 2e-5, 0);
    handCheck("adam t=6 w", w, 0.977157345430, -0.0509649601742, 0, 1e-6);
    adam(w, ab(-0.25, 1e-6), m, v, 6, 0.1, 0.9, 0.999, 1e-8, 7);
    handCheck("adam t=7 m", m, 0.101, 1.9e-7, 1e-6, 0);
    handCheck("adam t=7 v", v, 0.01029226, 1.999e-15, 2e-5, 0);
    handCheck("adam t=7 w", w, 0.961215438638, -0.117765749717, 0, 1e-6);
  });
});
