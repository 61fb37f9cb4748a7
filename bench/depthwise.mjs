// Depthwise convolution (assembly/depthwise.ts) at MobileNet-style shapes for 28x28 inputs,
// float32, one thread: forward, and the backward (dx, dw, db in G-image chunks, then the chunk
// sum), each in GFLOPS (2·kh·kw flops per output: forward, dx and dw each count once) and as a
// share of the machine's single-core SIMD128 ceiling measured in the same run (bench/gemm-wasm
// ceiling.ts: register-only f32x4 mul+add chains). Times are process CPU time, medians of samples.
// Run: npm run build:wasm && node bench/depthwise.mjs [--quick]
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildProbes } from "./ceiling-probe.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quick = process.argv.includes("--quick");
const SAMPLES = quick ? 5 : 11;
const SAMPLE_MS = quick ? 20 : 40;

function time(fn) {
  // Warm-up: at least 150 ms of calls, so V8 has tiered the kernels up from Liftoff before timing.
  for (const start = performance.now(); performance.now() - start < 150; ) fn();
  const t0 = performance.now();
  fn();
  const once = Math.max(performance.now() - t0, 1e-3);
  const batch = Math.max(1, Math.round(SAMPLE_MS / once));
  const cpu = [];
  for (let s = 0; s < SAMPLES; s++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < batch; i++) fn();
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6 / batch);
  }
  return cpu.sort((a, b) => a - b)[cpu.length >> 1];
}

// The ceiling: the best of the probes (too few chains are latency-bound).
const probes = await buildProbes();
const ITER = 2_000_000;
let ceiling = 0;
for (const p of probes) ceiling = Math.max(ceiling, (ITER * p.flopsPerIter) / time(() => p.run(ITER)) / 1e9);

const wasmPath = join(root, "build", "tensorlane.wasm");
if (!existsSync(wasmPath)) {
  console.error("build/tensorlane.wasm is missing: run `npm run build:wasm` first");
  process.exit(1);
}
const k = (
  await WebAssembly.instantiate(readFileSync(wasmPath), {
    env: {
      abort() {
        throw new Error("abort");
      },
    },
  })
).instance.exports;

function filled(count, seed) {
  const ptr = k.alloc(count * 4);
  const view = new Float32Array(k.memory.buffer, ptr, count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    view[i] = (s >>> 8) / 8388608 - 1;
  }
  return ptr;
}

const N = 32;
const cases = [
  { name: "3x3 s1 p1, C=32, 28x28", C: 32, H: 28, s: 1 },
  { name: "3x3 s2 p1, C=32, 28x28 -> 14x14", C: 32, H: 28, s: 2 },
  { name: "3x3 s1 p1, C=64, 14x14", C: 64, H: 14, s: 1 },
  { name: "3x3 s2 p1, C=64, 14x14 -> 7x7", C: 64, H: 14, s: 2 },
  { name: "3x3 s1 p1, C=128, 7x7", C: 128, H: 7, s: 1 },
];
const pct = (g) => `${((100 * g) / ceiling).toFixed(0)}%`.padStart(4);
console.log(`Node ${process.version}, one thread, float32, N=${N}. Ceiling (register-only f32x4 mul+add): ${ceiling.toFixed(1)} GFLOPS`);
console.log("case                                   forward            backward (dx, dw, db)   backward (dw, db)");
for (const { name, C, H, s } of cases) {
  const W = H,
    Ho = Math.floor((H + 2 - 3) / s) + 1,
    Wo = Ho;
  const x = filled(N * C * H * W, 1),
    w = filled(C * 9, 2),
    b = filled(C, 3),
    dout = filled(N * C * Ho * Wo, 4);
  const out = k.alloc(N * C * Ho * Wo * 4),
    dx = k.alloc(N * C * H * W * 4);
  const G = Math.max(1, Math.ceil(N / 32)),
    chunks = Math.ceil(N / G),
    slice = C * 9 + C;
  const partials = k.alloc(chunks * slice * 4),
    sums = k.alloc(slice * 4);
  const work = k.alloc(k.depthwise_work_bytes(H, W, 3, 3, s, s, 1, 1, Ho, Wo));
  const flop = 2 * 9 * N * C * Ho * Wo;
  const fwd = time(() => k.depthwise_forward(out, x, w, b, C, H, W, 3, 3, s, s, 1, 1, Ho, Wo, 0, N * C, work));
  const backward = (withDx) => () => {
    k.depthwise_backward_chunks(withDx ? dx : 0, partials, dout, x, w, N, C, H, W, 3, 3, s, s, 1, 1, Ho, Wo, G, 0, chunks, work);
    k.depthwise_sum_chunks(sums, partials, chunks, slice, 0, slice);
  };
  const bwd = time(backward(true));
  const bwdW = time(backward(false));
  const g = (f, t) => f / t / 1e9;
  const cell = (f, t) => `${(t * 1e3).toFixed(2).padStart(6)} ms ${g(f, t).toFixed(1).padStart(5)} GF ${pct(g(f, t))}`;
  console.log(`${name.padEnd(38)} ${cell(flop, fwd)}   ${cell(2 * flop, bwd)}   ${cell(flop, bwdW)}`);
}
