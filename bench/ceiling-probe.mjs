// The machine's single-core SIMD128 ceiling, from the same probe bench/gemm.mjs uses:
// bench/gemm-wasm/ceiling.ts, register-only f32x4 mul-then-add chains (acc = acc * s + t),
// compiled here with asc and bench/gemm-wasm/asconfig.json's options. Each exported probeN runs
// N independent chains; too few are latency-bound, so the best N is the ceiling.
import asc from "assemblyscript/asc";
import { readFileSync } from "node:fs";

const SOURCE = new URL("./gemm-wasm/ceiling.ts", import.meta.url);
const CONFIG = new URL("./gemm-wasm/asconfig.json", import.meta.url);

/** One probe per exported probeN: { chains, flopsPerIter, run(iters) }, fewest chains first. */
export async function buildProbes() {
  const { options } = JSON.parse(readFileSync(CONFIG, "utf8"));
  const { binary, error, stderr } = await asc.compileString({ "ceiling.ts": readFileSync(SOURCE, "utf8") }, options);
  if (error) throw new Error(`ceiling probe failed to compile: ${error.message}\n${stderr}`);
  const { instance } = await WebAssembly.instantiate(binary, { env: { abort() {} } });
  return Object.entries(instance.exports)
    .filter(([name, fn]) => /^probe\d+$/.test(name) && typeof fn === "function")
    .map(([name, fn]) => {
      const chains = Number(name.slice(5));
      // s slightly below 1 and a small t keep every value near 1: no overflow, no denormals.
      return { chains, flopsPerIter: chains * 4 * 2, run: (iters) => fn(iters, 0.999, 0.001) };
    })
    .sort((a, b) => a.chains - b.chains);
}
