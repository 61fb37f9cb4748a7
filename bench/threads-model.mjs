// node bench/threads-model.mjs: the arithmetic behind bench/README.md's predicted speed-ups at
// 4, 8 and 16 cores, and what balanced splits buy when the cores differ in speed. T(p) = S + Σ w_i / (p · e_i(p)) + n · d(p): S the serial work (ms), w_i a
// split call's work (ms) with load balance e_i(p) = units / (p · ceil(units / p)) for whole tiles
// or images, n split calls per step, d(p) the hot dispatch cost. Edit the inputs with the figures
// measured after the kernels-split merge and re-run.
const dispatchMs = (p) => (1 + 0.2 * p) / 1000; // hot round trip on idle cores: ~1 µs + 0.2 µs per worker
const balance = (units) => (p) => units / (p * Math.ceil(units / p));
// A split into at most `cap` tasks (a work threshold): q = min(p, cap) threads share the units.
const capped = (units, cap) => (p) => units / (p * Math.ceil(units / Math.min(p, cap)));

// Single-thread quiet-machine figures (docs/performance.md: 57 GFLOPS GEMM, FC training
// 38,087 samples/s, conv training 2,457, FC inference 87,744, conv inference 8,748).
const CASES = [
  // X·W (100x100 output, split by rows: 25 micro-panels of 4) and Xᵀ·dY (3072x100: 768 row
  // blocks), 1.08 ms each. Both threads pack op(B) once, together (W: 12 k-slices, 3% of the
  // product's time; dY: small), then take guided row blocks; Adam 0.25 ms by ranges.
  {
    name: "FC training, batch 100",
    serial: 0.35,
    split: [
      [1.05, balance(25)],
      [0.03, balance(12)],
      [1.03, balance(768)],
      [0.25, balance(1e6)],
    ],
    calls: 6,
  },
  // GEMMs x2.56; X·W's output 256x100 splits into 64 row blocks; the 256x100x100 GEMMs now split too.
  {
    name: "FC training, batch 256",
    serial: 0.3,
    split: [
      [2.7, balance(64)],
      [0.03, balance(12)],
      [2.7, balance(768)],
      [0.25, balance(1e6)],
      [0.35, balance(64)],
    ],
    calls: 8,
  },
  { name: "conv training, batch 50", serial: 0.03 * 20.3, split: [[0.97 * 20.3, balance(50)]], calls: 30 },
  { name: "conv training, batch 256", serial: 0.03 * 104, split: [[0.97 * 104, balance(256)]], calls: 30 },
  {
    name: "FC inference, batch 100",
    serial: 0.03,
    split: [
      [1.05, balance(25)],
      [0.03, balance(12)],
    ],
    calls: 2,
  },
  {
    name: "FC inference, batch 256",
    serial: 0.05,
    split: [
      [2.7, balance(64)],
      [0.03, balance(12)],
    ],
    calls: 2,
  },
  { name: "conv inference, batch 50", serial: 0.03 * 5.7, split: [[0.97 * 5.7, balance(50)]], calls: 6 },
  {
    name: "GEMM X·W 100x100x3072 alone",
    serial: 0,
    split: [
      [1.05, balance(25)],
      [0.03, balance(12)],
    ],
    calls: 2,
  },
  // Issue 22's inference models (bench/README.md, "Issue 22 on merged main and after infer2"),
  // 1-thread figures of 2026-12-07: the convs (batch norm and ReLU fused in) split by images, the
  // max-pools by planes, the residual adds and ReLUs by elements; the last linear layer, the
  // global pooling and the host's calls stay serial (about 3%).
  { name: "conv net inference, batch 64", serial: 0.03 * 26.0, split: [[0.97 * 26.0, balance(64)]], calls: 7 },
  { name: "ResNet inference, batch 64", serial: 0.03 * 38.8, split: [[0.97 * 38.8, balance(64)]], calls: 25 },
  // Batch 1 (infer22): a conv of one image splits by blocks of 8 output pixels, into at most
  // floor(MACs / 2^19) tasks (MIN_CONV_PIXEL_MACS_PER_TASK). Conv net (0.45 ms): 14x14 C=32 F=64
  // (3.6 M MACs, 25 blocks, 0.18 ms) and 7x7 C=64 F=128 (3.6 M, 7 blocks, 0.19 ms) split; the first
  // conv (0.23 M), the pools and the linear layer stay serial. ResNet (0.66 ms, by FLOPs): the two
  // 14x14 3x3 convs (1.8 M each, 25 blocks: 3 tasks), the 7x7 one at 1.8 M (7 blocks: 3), the 4x4
  // ones at 1.2 M and 2.4 M (2 blocks each) split; the stem, the 0.9 M conv, the shortcuts, adds
  // and pooling stay serial (about 0.17 ms).
  {
    name: "conv net inference, batch 1",
    serial: 0.07,
    split: [
      [0.18, capped(25, 6)],
      [0.19, capped(7, 6)],
    ],
    calls: 2,
  },
  {
    name: "ResNet inference, batch 1",
    serial: 0.17,
    split: [
      [0.22, capped(25, 3)],
      [0.11, capped(7, 3)],
      [0.16, capped(2, 2)],
    ],
    calls: 5,
  },
];

const time = (c, p) => c.serial + c.split.reduce((t, [w, e]) => t + w / (p * e(p)), 0) + (p > 1 ? c.calls * dispatchMs(p) : 0);
const cores = [2, 4, 8, 16];
console.log(`| case | 1 thread | ${cores.map((p) => `${p} cores`).join(" | ")} |`);
console.log(`| --- | --- | ${cores.map(() => "---").join(" | ")} |`);
for (const c of CASES) {
  const t1 = time(c, 1);
  console.log(`| ${c.name} | ${t1.toFixed(2)} ms | ${cores.map((p) => `${(t1 / time(c, p)).toFixed(1)}x`).join(" | ")} |`);
}

// Cores of different speeds (hybrid performance/efficiency cores, or a VM whose cores are shared
// with other guests), simulated on `units` equal pieces of work (whole micro-panels or images):
// a static split gives each core an equal share and ends when the slowest core ends; guided
// ranges (src/ops/split.ts guidedRanges) go, largest first, to whichever core is free.
function guided(n, threads) {
  const out = [];
  for (let i0 = 0; i0 < n; ) {
    const size = Math.max(1, Math.ceil((n - i0) / (2 * threads)));
    out.push(Math.min(size, n - i0));
    i0 += size;
  }
  return out;
}
function staticTime(units, speeds) {
  const p = speeds.length;
  return Math.max(...speeds.map((s, i) => (Math.floor(((i + 1) * units) / p) - Math.floor((i * units) / p)) / s));
}
function balancedTime(units, speeds) {
  const free = speeds.map(() => 0);
  for (const size of guided(units, speeds.length)) {
    const i = free.indexOf(Math.min(...free)); // the first core to be free takes the next range
    free[i] += size / speeds[i];
  }
  return Math.max(...free);
}
const MACHINES = [
  { name: "2 cores, one 10% slower (this VM on a busy host)", speeds: [1, 0.9] },
  { name: "4 performance + 4 efficiency cores at 0.6", speeds: [1, 1, 1, 1, 0.6, 0.6, 0.6, 0.6] },
  { name: "8 performance + 8 efficiency cores at 0.5", speeds: [...Array(8).fill(1), ...Array(8).fill(0.5)] },
];
const WORK = [
  ["X·W, batch 100 (25 panels)", 25],
  ["X·W, batch 256 (64 panels)", 64],
  ["conv, batch 256 (256 images)", 256],
];
console.log("");
console.log(`| machine | ${WORK.map(([name]) => `${name}: static / balanced`).join(" | ")} |`);
console.log(`| --- | ${WORK.map(() => "---").join(" | ")} |`);
for (const m of MACHINES) {
  const cells = WORK.map(([, units]) => `${(units / staticTime(units, m.speeds)).toFixed(1)}x / ${(units / balancedTime(units, m.speeds)).toFixed(1)}x`);
  console.log(`| ${m.name} | ${cells.join(" | ")} |`);
}
