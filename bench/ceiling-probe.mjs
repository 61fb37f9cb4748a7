// The machine's single-core yardsticks, compiled here with asc and bench/gemm-wasm/asconfig.json's
// options (never part of the library):
//   ceiling   bench/gemm-wasm/ceiling.ts, the probe bench/gemm.mjs uses too: register-only f32x4
//             mul-then-add chains (acc = acc * s + t). Each exported probeN runs N independent
//             chains; too few are latency-bound, so the best N is the SIMD128 ceiling (GFLOPS).
//   bandwidth bench/gemm-wasm/bandwidth.ts: the STREAM triad on f32x4, run on arrays as large as
//             a memory-bound kernel's footprint (GB/s of the same cache level).
import asc from "assemblyscript/asc";
import { readFileSync } from "node:fs";
import { runInterleaved } from "./harness.mjs";
import { timeStats } from "./report.mjs";

const CONFIG = new URL("./gemm-wasm/asconfig.json", import.meta.url);

/** Compiles bench/gemm-wasm/<file> and returns the instance's exports. */
export async function compileBenchWasm(file) {
  const { options } = JSON.parse(readFileSync(CONFIG, "utf8"));
  const source = readFileSync(new URL(`./gemm-wasm/${file}`, import.meta.url), "utf8");
  const { binary, error, stderr } = await asc.compileString({ [file]: source }, options);
  if (error) throw new Error(`bench/gemm-wasm/${file} failed to compile: ${error.message}\n${stderr}`);
  const { instance } = await WebAssembly.instantiate(binary, { env: { abort() {} } });
  return instance.exports;
}

/** One probe per exported probeN: { chains, flopsPerIter, run(iters) }, fewest chains first. */
export async function buildProbes() {
  const exports = await compileBenchWasm("ceiling.ts");
  return Object.entries(exports)
    .filter(([name, fn]) => /^probe\d+$/.test(name) && typeof fn === "function")
    .map(([name, fn]) => {
      const chains = Number(name.slice(5));
      // s slightly below 1 and a small t keep every value near 1: no overflow, no denormals.
      return { chains, flopsPerIter: chains * 4 * 2, run: (iters) => fn(iters, 0.999, 0.001) };
    })
    .sort((a, b) => a.chains - b.chains);
}

/**
 * The triad probe: bandwidth.runner(footprintBytes) returns a harness runner whose step moves at
 * least ~1 MB through three arrays of footprintBytes / 3 in total (rounded to 64-byte multiples),
 * with `work` in GB per step. Arrays of one size are allocated once and reused.
 */
export async function buildBandwidthProbe() {
  const k = await compileBenchWasm("bandwidth.ts");
  const arrays = new Map();
  const arraysFor = (n) => {
    if (!arrays.has(n)) {
      const [a, b, c] = [0, 1, 2].map(() => (Number(k.alloc(n * 4 + 64)) + 63) & ~63);
      const f32 = new Float32Array(k.memory.buffer);
      for (let i = 0; i < n; i++) (f32[(b >>> 2) + i] = 1 + (i % 7) / 8), (f32[(c >>> 2) + i] = 0.5 - (i % 5) / 16);
      arrays.set(n, [a, b, c]);
    }
    return arrays.get(n);
  };
  return {
    /** A runner streaming footprintBytes (3 arrays) per pass. */
    runner(footprintBytes) {
      const n = Math.max(16, Math.round(footprintBytes / 12 / 16) * 16);
      const [a, b, c] = arraysFor(n);
      const reps = Math.max(1, Math.ceil((1 << 20) / (12 * n)));
      return { step: () => void k.triad(a, b, c, n, 0.5, reps), work: (12 * n * reps) / 1e9, footprint: 12 * n };
    },
  };
}

/**
 * The ceiling in this run: every chain count sampled in turn (runInterleaved with `profile`);
 * the fastest sample of the best chain count is the ceiling, the most one core can do with
 * SIMD128 mul+add (a maximum, so the best sample rather than the median: a busy machine
 * disturbs it least). Returns { gflops, probes: [{ chains, gflops (median), best, spread }], run }
 * where run(iters) runs the best chain count's probe (for cases that sample it beside a kernel).
 */
export async function measureCeiling(profile) {
  const probes = await buildProbes();
  const iters = 1_000_000;
  const entries = probes.map((p) => ({ name: String(p.chains), runner: { step: () => void p.run(iters), work: (p.flopsPerIter * iters) / 1e9 } }));
  const res = await runInterleaved(entries, profile);
  const rows = probes.map((p) => {
    const r = res.get(String(p.chains));
    const t = timeStats(r);
    return { chains: p.chains, gflops: r.work / t.median, best: r.work / t.min, spread: t.spread };
  });
  const best = rows.reduce((a, b) => (b.best > a.best ? b : a));
  const probe = probes.find((p) => p.chains === best.chains);
  return { gflops: best.best, probes: rows, chains: best.chains, flopsPerIter: probe.flopsPerIter, run: probe.run };
}

/** A harness runner for the ceiling's best probe: `iters` steps of its chains per call, work in GFLOP. */
export function ceilingRunner(ceiling, iters = 100_000) {
  return { step: () => void ceiling.run(iters), work: (ceiling.flopsPerIter * iters) / 1e9 };
}
