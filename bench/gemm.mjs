// GEMM benchmark: GFLOPS of the three tiled kernels (build/tensorlane.wasm) at training shapes and
// squares, beside baselines, each also as a fraction of the measured SIMD128 ceiling.
//   npm run build && node bench/gemm.mjs [--quick]      (or: npm run bench:gemm)
// Baselines, built here from bench/gemm-wasm/*.ts into build/bench/ (never part of the library):
//   ceiling  register-only f32x4 mul+add chains (bench/gemm-wasm/ceiling.ts): what the engine can issue
//   first    the first, untiled kernels (bench/gemm-wasm/gemm-first.ts)
//   scalar   the naive scalar triple loops in wasm (assembly/reference/gemm.ts)
//   JS       a naive triple loop over Float32Array
// Timing: warm-up, then samples of ~25 ms each (calls batched), median of the samples. Figures use
// the process's CPU time, so another process sharing the core does not halve them; the wall-clock
// figure of the tiled kernel is printed beside them.
import asc from "assemblyscript/asc";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quick = process.argv.includes("--quick");
const SAMPLES = quick ? 3 : 7;
const SAMPLE_MS = quick ? 10 : 25;
const SLOW_FLOP_LIMIT = quick ? 2.2e8 : 2.7e8; // skip slow baselines on problems larger than this

async function compile(entry, name) {
  const outFile = join(root, "build", "bench", `${name}.wasm`);
  const { error, stderr } = await asc.main(
    [join(root, "bench", "gemm-wasm", entry), "--config", join(root, "bench", "gemm-wasm", "asconfig.json"), "--outFile", outFile],
    { stdout: process.stdout, stderr: process.stderr },
  );
  if (error) throw new Error(`asc failed on bench/gemm-wasm/${entry}: ${stderr.toString()}`);
  return (
    await WebAssembly.instantiate(readFileSync(outFile), {
      env: {
        abort() {
          throw new Error("abort");
        },
      },
    })
  ).instance.exports;
}

/**
 * Seconds per call of fn(), calls batched so each sample lasts about SAMPLE_MS: the median over
 * samples of the process's CPU time (user + system, so time-slicing by other processes on a
 * shared machine does not count), and the median wall-clock time beside it.
 */
function time(fn) {
  fn(); // warm-up (also tiers up)
  let t0 = performance.now();
  fn();
  const once = Math.max(performance.now() - t0, 1e-3);
  const batch = Math.max(1, Math.round(SAMPLE_MS / once));
  const cpu = [],
    wall = [];
  for (let s = 0; s < SAMPLES; s++) {
    const c0 = process.cpuUsage();
    t0 = performance.now();
    for (let i = 0; i < batch; i++) fn();
    wall.push((performance.now() - t0) / 1000 / batch);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6 / batch);
  }
  const median = (xs) => xs.sort((x, y) => x - y)[xs.length >> 1];
  return { cpu: median(cpu), wall: median(wall) };
}

function fill(view, offsetFloats, count, seed) {
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    view[offsetFloats + i] = (s >>> 8) / 8388608 - 1;
  }
}

// --- the ceiling --------------------------------------------------------------------------------
const probe = await compile("ceiling.ts", "ceiling");
const ITER = 2_000_000;
const ceiling12 = (ITER * 12 * 8) / time(() => probe.probe12(ITER, 0.999, 0.001)).cpu / 1e9;
const ceiling8 = (ITER * 8 * 8) / time(() => probe.probe8(ITER, 0.999, 0.001)).cpu / 1e9;
const ceiling = Math.max(ceiling12, ceiling8);

// --- the library's kernels ----------------------------------------------------------------------
const wasmPath = join(root, "build", "tensorlane.wasm");
if (!existsSync(wasmPath)) {
  console.error("build/tensorlane.wasm is missing: run `npm run build` (or `npm run build:wasm`) first");
  process.exit(1);
}
const lib = (
  await WebAssembly.instantiate(readFileSync(wasmPath), {
    env: {
      abort() {
        throw new Error("abort");
      },
    },
  })
).instance.exports;
const base = await compile("baselines.ts", "baselines");

/** Allocates and fills A, B, C (+ work) in a module; returns the pointers. */
function setup(mod, m, n, k, workBytes) {
  const a = mod.alloc(m * k * 4),
    b = mod.alloc(k * n * 4),
    c = mod.alloc(m * n * 4);
  const work = workBytes ? mod.alloc(workBytes) : 0;
  const view = new Float32Array(mod.memory.buffer);
  fill(view, a >>> 2, m * k, 1);
  fill(view, b >>> 2, k * n, 2);
  return { a, b, c, work };
}

// The naive JS triple loops, one per variant (inner loop over k: the textbook form).
const jsNaive = {
  nn(C, A, B, m, n, k) {
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += A[i * k + p] * B[p * n + j];
        C[i * n + j] = s;
      }
  },
  tn(C, A, B, m, n, k) {
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += A[p * m + i] * B[p * n + j];
        C[i * n + j] = s;
      }
  },
  nt(C, A, B, m, n, k) {
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += A[i * k + p] * B[j * k + p];
        C[i * n + j] = s;
      }
  },
};

const cases = [
  ["nn", 100, 100, 3072, "X·W   100x3072 · 3072x100"],
  ["tn", 3072, 100, 100, "Xᵀ·dY (100x3072)ᵀ · 100x100"],
  ["nt", 100, 3072, 100, "dY·Wᵀ 100x100 · (3072x100)ᵀ"],
];
for (const s of [64, 128, 256, 512, 1024]) for (const v of ["nn", "tn", "nt"]) cases.push([v, s, s, s, `${s}³`]);

const fmt = (g) => (g === null ? "     -" : g.toFixed(2).padStart(6));
const pct = (g) => (g === null ? "    " : `${Math.round((100 * g) / ceiling)}%`.padStart(4));
console.log(
  `Node ${process.version}, single thread. Ceiling (register-only f32x4 mul+add): ${ceiling.toFixed(2)} GFLOPS` +
    ` (12 chains ${ceiling12.toFixed(2)}, 8 chains ${ceiling8.toFixed(2)})`,
);
console.log("GFLOPS from CPU time (share of the ceiling); '-' = skipped (slow baseline on a large problem);");
console.log("wall = the tiled kernel's GFLOPS from wall-clock time (lower when other processes share the core)\n");
console.log("var  shape                          tiled        first        scalar wasm  JS naive      wall  max|Δ| vs first");
for (const [v, m, n, k, label] of cases) {
  const flops = 2 * m * n * k;
  const L = setup(lib, m, n, k, lib.gemm_work_bytes(m, n, k));
  const fastFn = lib[`gemm_${v}`];
  const t = time(() => fastFn(L.c, L.a, L.b, m, n, k, 0, false, L.work));
  const tiled = flops / t.cpu / 1e9,
    tiledWall = flops / t.wall / 1e9;
  const B = setup(base, m, n, k, 0);
  const firstFn = base[`f32_gemm_${v}_first`];
  const first = flops <= 4 * SLOW_FLOP_LIMIT ? flops / time(() => firstFn(B.c, B.a, B.b, m, n, k, 0, false, 0)).cpu / 1e9 : null;
  firstFn(B.c, B.a, B.b, m, n, k, 0, false, 0);
  // Same inputs in both modules: the outputs must agree up to summation order.
  const cl = new Float32Array(lib.memory.buffer, L.c, m * n),
    cb = new Float32Array(base.memory.buffer, B.c, m * n);
  let diff = 0;
  for (let i = 0; i < m * n; i++) diff = Math.max(diff, Math.abs(cl[i] - cb[i]));
  const scalarFn = base[`gemm_${v}__scalar`];
  const scalar = flops <= SLOW_FLOP_LIMIT ? flops / time(() => scalarFn(B.c, B.a, B.b, m, n, k, 0, false)).cpu / 1e9 : null;
  let js = null;
  if (flops <= SLOW_FLOP_LIMIT) {
    const A = new Float32Array(m * k),
      Bm = new Float32Array(k * n),
      C = new Float32Array(m * n);
    fill(A, 0, m * k, 1);
    fill(Bm, 0, k * n, 2);
    js = flops / time(() => jsNaive[v](C, A, Bm, m, n, k)).cpu / 1e9;
  }
  console.log(
    `${v}   ${label.padEnd(30)} ${fmt(tiled)} ${pct(tiled)}  ${fmt(first)} ${pct(first)}  ${fmt(scalar)} ${pct(scalar)}  ${fmt(js)} ${pct(js)}  ${fmt(tiledWall)}  ${diff.toExponential(1)}`,
  );
}
