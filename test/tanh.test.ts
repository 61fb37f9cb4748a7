// Tanh: accuracy of the wasm tanh against the host's f64 Math.tanh (a test reference only),
// the exact backward formula, numeric gradients and errors.
import { describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { expectRelError, initAndCheckLeaks } from "./helpers.js";

initAndCheckLeaks();

/** |y - t| in units of the float32 spacing at t (t exact in f64; 2^-149 spacing below 2^-126). */
function ulpError(y: number, t: number): number {
  if (t === 0) return y === 0 ? 0 : Infinity;
  const e = Math.max(Math.floor(Math.log2(Math.abs(t))), -126);
  return Math.abs(y - t) / 2 ** (e - 23);
}

/** Inputs that stress every range: dense [-12, 12], the reduction boundaries, tiny and huge values. */
function inputs(): Float32Array {
  const v: number[] = [];
  for (let i = -120000; i <= 120000; i++) v.push(i * 1e-4); // step 1e-4 over [-12, 12]
  for (let k = -149; k <= 7; k += 0.125) v.push(2 ** k, -(2 ** k)); // subnormals .. 128
  for (let n = -30; n <= 30; n++) for (const d of [-1e-6, 0, 1e-6]) v.push((n * Math.LN2) / 2 + d); // 2|x| = n ln2
  const u = tl.rand([100000], { seed: 7 });
  for (const r of u.toArray()) v.push((r - 0.5) * 40);
  u.dispose();
  return Float32Array.from(v);
}

describe("Tanh", () => {
  it("within 0.51 ulp of the exact tanh over 340k inputs (x in [-20, 20], subnormals, 2|x| = n ln2)", () => {
    tl.tidy(() => {
      const xs = inputs();
      const [out] = tl.Tanh.forward(tl.tensor(xs));
      const y = out.toArray();
      let worst = 0,
        at = 0,
        exact = 0;
      for (let i = 0; i < xs.length; i++) {
        const t = Math.tanh(xs[i]);
        const e = ulpError(y[i], t);
        if (e > worst) {
          worst = e;
          at = i;
        }
        if (y[i] === Math.fround(t)) exact++;
      }
      console.log(
        `tanh: max error ${worst.toFixed(4)} ulp at x = ${xs[at]}; ${((100 * exact) / xs.length).toFixed(4)}% equal to fround(Math.tanh(x)) of ${xs.length}`,
      );
      expect(worst, `max ulp error at x = ${xs[at]} (got ${y[at]}, exact ${Math.tanh(xs[at])})`).toBeLessThan(0.51);
    });
  });

  it("special values: +-0 keep their sign, +-Infinity give +-1, NaN stays NaN, odd symmetry holds bit for bit", () => {
    tl.tidy(() => {
      const [out] = tl.Tanh.forward(tl.tensor([0, -0, Infinity, -Infinity, NaN, 1e-30, 30, -30]));
      const y = out.toArray();
      expect(Object.is(y[0], 0)).toBe(true);
      expect(Object.is(y[1], -0)).toBe(true);
      expect([y[2], y[3]]).toEqual([1, -1]);
      expect(Number.isNaN(y[4])).toBe(true);
      expect(y[5]).toBe(Math.fround(1e-30));
      expect([y[6], y[7]]).toEqual([1, -1]);
      const x = tl.randn([1001], { seed: 8, std: 3 });
      const neg = tl.tensor(x.toArray().map((v) => -v));
      const a = tl.Tanh.forward(x)[0].toArray();
      const b = tl.Tanh.forward(neg)[0].toArray();
      expect(Array.from(a, (v) => -v)).toEqual(Array.from(b));
    });
  });

  it("backward is dout * (1 - out^2) in float32, bit for bit, any shape (3, 5, 7)", () => {
    tl.tidy(() => {
      const x = tl.randn([3, 5, 7], { seed: 9, std: 2 });
      const dout = tl.randn([3, 5, 7], { seed: 10 });
      const [out, cache] = tl.Tanh.forward(x);
      const dx = tl.Tanh.backward(dout, cache);
      expect(dx.shape).toEqual([3, 5, 7]);
      const f = Math.fround;
      const y = out.toArray();
      const d = dout.toArray();
      expect(Array.from(dx.toArray())).toEqual(Array.from(y, (t, i) => f(d[i] * f(1 - f(t * t)))));
    });
  });

  it("backward matches numeric gradients (10 x 9, h = 1e-3)", () => {
    tl.tidy(() => {
      const x = tl.randn([10, 9], { seed: 11 });
      const dout = tl.randn([10, 9], { seed: 12 });
      const [, cache] = tl.Tanh.forward(x);
      const dx = tl.Tanh.backward(dout, cache);
      const e = tl.relError(
        dx,
        tl.evalNumericalGradientArray(() => tl.Tanh.forward(x)[0], x, dout, { h: 1e-3 }),
      );
      console.log(`Tanh dx relative error ${e.toExponential(2)}`);
      expectRelError("dx", e, 1e-2);
    });
  });

  it("clear errors: not a tensor, dout shape, bad cache", () => {
    tl.tidy(() => {
      expect(() => tl.Tanh.forward([1, 2] as never)).toThrow(/Tanh.forward: x must be a Tensor \(got an array of length 2\)/);
      const [, cache] = tl.Tanh.forward(tl.zeros([2, 3]));
      expect(() => tl.Tanh.backward(tl.zeros([3, 2]), cache)).toThrow(/Tanh.backward: dout must have shape \[2, 3\]/);
      expect(() => tl.Tanh.backward(tl.zeros([2, 3]), {} as never)).toThrow(/cache is missing "out"/);
    });
  });
});
