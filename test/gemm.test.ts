import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { gemm, type GemmVariant } from "../src/ops/gemm.js";

beforeAll(() => tl.init({ float64: true }));

// Float64 reference of C (+)= op(A)·op(B) (+ bias), from the stored (row-major) operands.
function reference(
  v: GemmVariant,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  c0: ArrayLike<number>,
  bias: ArrayLike<number> | null,
  accumulate: boolean,
  m: number,
  n: number,
  k: number,
): { c: Float64Array; scale: Float64Array } {
  const c = new Float64Array(m * n),
    scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0,
        t = 0;
      for (let p = 0; p < k; p++) {
        const x = v === "tn" ? a[p * m + i] : a[i * k + p];
        const y = v === "nt" ? b[j * k + p] : b[p * n + j];
        s += x * y;
        t += Math.abs(x * y);
      }
      if (bias) {
        s += bias[j];
        t += Math.abs(bias[j]);
      }
      if (accumulate) {
        s += c0[i * n + j];
        t += Math.abs(c0[i * n + j]);
      }
      c[i * n + j] = s;
      scale[i * n + j] = t;
    }
  return { c, scale };
}

describe("gemm host wrapper", () => {
  // Shapes that change the scratch size both ways (grown, then reused), with every option.
  const shapes: [number, number, number][] = [
    [37, 45, 300],
    [3, 5, 7],
    [130, 20, 9],
    [1, 1, 1],
  ];
  for (const v of ["nn", "tn", "nt"] as GemmVariant[]) {
    for (const [m, n, k] of shapes) {
      for (const accumulate of [false, true]) {
        it(`${v} ${m}x${n}x${k} bias${accumulate ? " accumulate" : ""}: within 2 (k+2) eps of a float64 reference`, () => {
          const A = tl.randn(v === "tn" ? [k, m] : [m, k], { seed: 1 });
          const B = tl.randn(v === "nt" ? [n, k] : [k, n], { seed: 2 });
          const bias = tl.randn([n], { seed: 3 });
          const C = tl.randn([m, n], { seed: 4 });
          const c0 = C.toArray();
          const ref = reference(v, A.toArray(), B.toArray(), c0, bias.toArray(), accumulate, m, n, k);
          gemm(v, C.ptr, A.ptr, B.ptr, m, n, k, { bias: bias.ptr, accumulate, dtype: "float32" });
          const got = C.toArray();
          let worst = 0;
          for (let i = 0; i < m * n; i++) worst = Math.max(worst, Math.abs(got[i] - ref.c[i]) / ref.scale[i]);
          const bound = 2 * (k + 2) * 2 ** -23;
          expect(worst, `max relative error ${worst} (bound ${bound})`).toBeLessThanOrEqual(bound);
          [A, B, bias, C].forEach((t) => t.dispose());
        });
      }
    }
  }
});
