// The GEMV kernels (products of fewer than 4 rows) are a family loaded on first use, from a chunk
// of its own (src/core/gemv-family.ts): the first such products take the 4-row kernels, which
// must give the bits the GEMV gives once it has arrived, on unpacked and packed weights, with the
// bias, accumulation and the fused ReLU, for "nn" and "nt".
import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { gemvReady } from "../src/core/gemv-family.js";
import { f32, kernels } from "../src/core/runtime.js";
import { runtime } from "../src/core/runtime-state.js";
import { gemm, type GemmVariant } from "../src/ops/gemm.js";

beforeAll(() => tl.init());

/** C of every case (m in 1..3, both variants, each option), as bytes. */
function products(): number[][] {
  const out: number[][] = [];
  tl.tidy(() => {
    for (const m of [1, 2, 3]) {
      for (const variant of ["nn", "nt"] as GemmVariant[]) {
        for (const [n, k] of [
          [37, 300],
          [8, 5],
          [70, 33],
        ]) {
          for (const flags of [0, 1, 2, 3, 4]) {
            const a = tl.randn([m, k], { seed: m * 100 + n + k });
            const b = tl.randn(variant === "nn" ? [k, n] : [n, k], { seed: 7 + n + k });
            const bias = tl.randn([n], { seed: 9 + n });
            const c = tl.randn([m, n], { seed: 11 + m + n });
            gemm(variant, c.ptr, a.ptr, b.ptr, m, n, k, {
              dtype: "float32",
              bias: flags & 1 ? bias.ptr : 0,
              accumulate: (flags & 2) !== 0,
              relu: flags === 4 || flags === 3,
            });
            out.push(Array.from(new Uint8Array(c.toArray().buffer)));
          }
        }
      }
    }
    // Packed weights: a Linear layer packs W once it is used twice (the second call packs it, the third reads it packed).
    const w = tl.randn([300, 37], { seed: 3 });
    const b = tl.randn([37], { seed: 4 });
    for (const m of [1, 2, 3]) {
      const x = tl.randn([m, 300], { seed: 5 + m });
      for (let pass = 0; pass < 3; pass++) out.push(Array.from(new Uint8Array(tl.Linear.forward(x, w, b)[0].toArray().buffer)));
    }
  });
  return out;
}

describe("the GEMV family, loaded on first use", () => {
  it("is not loaded at init(); the first product of fewer than 4 rows starts loading it and runs on the 4-row kernels with the bits of the GEMV", async () => {
    expect(typeof kernels().gemv_nn_range, "no GEMV kernels before a product of fewer than 4 rows").toBe("undefined");
    const before = products();
    expect(runtime.gemv.loading, "the first product of fewer than 4 rows started the load").not.toBeNull();
    expect(await gemvReady()).toBe(true);
    expect(typeof kernels().gemv_nn_range).toBe("function");
    const after = products();
    expect(after.length).toBe(before.length);
    for (let i = 0; i < before.length; i++) expect(after[i], `case ${i}: GEMV vs the 4-row kernels`).toEqual(before[i]);
    // A view is still good after the loads (no memory was grown behind it).
    expect(f32().length).toBeGreaterThan(0);
  });
});
