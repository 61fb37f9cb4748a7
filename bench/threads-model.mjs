// node bench/threads-model.mjs: the arithmetic behind bench/README.md's predicted speed-ups at
// 4, 8 and 16 cores. T(p) = S + Σ w_i / (p · e_i(p)) + n · d(p): S the serial work (ms), w_i a
// split call's work (ms) with load balance e_i(p) = units / (p · ceil(units / p)) for whole tiles
// or images, n split calls per step, d(p) the hot dispatch cost. Edit the inputs with the figures
// measured after the kernels-split merge and re-run.
const dispatchMs = (p) => (1 + 0.2 * p) / 1000; // hot round trip on idle cores: ~1 µs + 0.2 µs per worker
const balance = (units) => (p) => units / (p * Math.ceil(units / p));

// Single-thread quiet-machine figures (README.md Performance: 57 GFLOPS GEMM, FC training
// 38,087 samples/s, conv training 2,457, FC inference 87,744, conv inference 8,748).
const CASES = [
  // X·W (100x100 output, split by rows: 25 micro-panels of 4) and Xᵀ·dY (3072x100: 768 row
  // blocks), 1.08 ms each. X·W's every thread packs all of W (3% of its time: 0.03 ms, serial),
  // Xᵀ·dY's all of dY (small); Adam 0.25 ms by ranges.
  { name: "FC training, batch 100", serial: 0.38, split: [[1.05, balance(25)], [1.03, balance(768)], [0.25, balance(1e6)]], calls: 4 },
  // GEMMs x2.56; X·W's output 256x100 splits into 64 row blocks; the 256x100x100 GEMMs now split too.
  { name: "FC training, batch 256", serial: 0.3, split: [[2.7, balance(64)], [2.7, balance(768)], [0.25, balance(1e6)], [0.35, balance(64)]], calls: 6 },
  { name: "conv training, batch 50", serial: 0.03 * 20.3, split: [[0.97 * 20.3, balance(50)]], calls: 30 },
  { name: "conv training, batch 256", serial: 0.03 * 104, split: [[0.97 * 104, balance(256)]], calls: 30 },
  { name: "FC inference, batch 100", serial: 0.06, split: [[1.05, balance(25)]], calls: 1 },
  { name: "FC inference, batch 256", serial: 0.08, split: [[2.7, balance(64)]], calls: 1 },
  { name: "conv inference, batch 50", serial: 0.03 * 5.7, split: [[0.97 * 5.7, balance(50)]], calls: 6 },
  { name: "GEMM X·W 100x100x3072 alone", serial: 0.03, split: [[1.05, balance(25)]], calls: 1 },
];

const time = (c, p) => c.serial + c.split.reduce((t, [w, e]) => t + w / (p * e(p)), 0) + (p > 1 ? c.calls * dispatchMs(p) : 0);
const cores = [2, 4, 8, 16];
console.log(`| case | 1 thread | ${cores.map((p) => `${p} cores`).join(" | ")} |`);
console.log(`| --- | --- | ${cores.map(() => "---").join(" | ")} |`);
for (const c of CASES) {
  const t1 = time(c, 1);
  console.log(`| ${c.name} | ${t1.toFixed(2)} ms | ${cores.map((p) => `${(t1 / time(c, p)).toFixed(1)}x`).join(" | ")} |`);
}
