// Conv and max-pool layer timings at the benchmark net's shapes (batch 50, 3x32x32 -> conv 32 ->
// pool -> conv 32 -> pool), through the Into variants a model uses (workspace buffers, no
// allocation per step). Prints median ms over repeats and effective GFLOPS (2·N·F·P·K per GEMM
// pass: forward, dW and dX each count once).
// Run: npx esbuild bench/conv-layers.ts --bundle --platform=node --format=esm --outfile=build/bench-conv.mjs && node build/bench-conv.mjs
import * as tl from "../src/index.js";
import { convBackwardInto, convDims, convForwardInto } from "../src/layers/conv.js";
import { maxPoolBackwardInto, maxPoolForwardInto, poolDims } from "../src/layers/maxpool.js";
import { Workspace } from "../src/core/workspace.js";

await tl.init();
const repeats = Number(process.argv[2] ?? 15);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => void): number {
  for (let i = 0; i < 3; i++) fn(); // warm-up
  const t: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

const ws = new Workspace();
const layers = [
  { name: "conv1 3x32x32 -> 32, 3x3 pad 1", shape: [50, 3, 32, 32], F: 32 },
  { name: "conv2 32x16x16 -> 32, 3x3 pad 1", shape: [50, 32, 16, 16], F: 32 },
];
for (const { name, shape, F } of layers) {
  const x = tl.keep(tl.randn(shape, { seed: 1 }));
  const w = tl.keep(tl.randn([F, shape[1], 3, 3], { seed: 2, std: 0.1 }));
  const b = tl.keep(tl.zeros([F]));
  const d = convDims("bench", x, w, b, { stride: 1, pad: 1 });
  const out = ws.get(`${name} out`, [d.N, F, d.Ho, d.Wo]);
  const dout = tl.keep(tl.randn(out.shape, { seed: 3 }));
  const dx = ws.get(`${name} dx`, x.shape),
    dw = ws.get(`${name} dw`, w.shape),
    db = ws.get(`${name} db`, [F]);
  const gflop = (2 * d.N * F * d.P * d.K) / 1e9;
  const fwd = time(() => convForwardInto(out, x, w, b, d));
  const bwd = time(() => convBackwardInto(dx, dw, db, dout, x, w, d));
  const bwdNoDx = time(() => convBackwardInto(null, dw, db, dout, x, w, d));
  const rate = (g: number, ms: number) => `${(g / (ms / 1e3)).toFixed(1)} GFLOPS`;
  console.log(`${name} (N=50)`);
  console.log(`  forward            ${fwd.toFixed(2)} ms  ${rate(gflop, fwd)}`);
  console.log(`  backward (dx,dw,db) ${bwd.toFixed(2)} ms  ${rate(2 * gflop, bwd)}`);
  console.log(`  backward (dw,db)   ${bwdNoDx.toFixed(2)} ms  ${rate(gflop, bwdNoDx)}`);
  console.log(`  forward+backward   ${(fwd + bwd).toFixed(2)} ms  ${rate(3 * gflop, fwd + bwd)}`);
}
for (const shape of [
  [50, 32, 32, 32],
  [50, 32, 16, 16],
]) {
  const x = tl.keep(tl.randn(shape, { seed: 4 }));
  const d = poolDims("bench", x, { poolHeight: 2, poolWidth: 2, stride: 2 });
  const out = ws.get(`pool out ${shape}`, [d.N, d.C, d.Ho, d.Wo]);
  const argmax = ws.get(`pool argmax ${shape}`, [d.N, d.C, d.Ho, d.Wo]);
  const dx = ws.get(`pool dx ${shape}`, x.shape);
  const dout = tl.keep(tl.randn(out.shape, { seed: 5 }));
  const fwd = time(() => maxPoolForwardInto(out, argmax, x, d));
  const bwd = time(() => maxPoolBackwardInto(dx, dout, argmax, d));
  console.log(`maxpool 2x2 s2 (${shape}): forward ${fwd.toFixed(2)} ms, backward ${bwd.toFixed(2)} ms`);
}
