// node bench/threads-balance.mjs [rounds]: static halves against balanced row blocks, in ONE
// 2-thread pool (no restarts), alternating, wall-clock medians. For the FC training GEMMs
// (X·W nn 100x100x3072, Xᵀ·dY tn 3072x100x100) it times
//   one      the whole product as one call on the calling thread (the 1-thread baseline),
//   halves   the static split: two blocks of rows, each task packing its own copy of op(B),
//   balanced gemmRowChunks: op(B) packed once by both threads, then guided row blocks taken
//            from a shared counter,
// checks that halves and balanced give the same bits, and prints how many blocks each thread
// took in the last balanced call. See bench/README.md "Balanced splits".
import { loadLibrary } from "./threads.mjs";
import { median } from "./harness.mjs";

const rounds = Number(process.argv[2] ?? 30);
const tl = await loadLibrary();
await tl.init({ threads: 2 });
const SHAPES = [
  ["nn", 100, 100, 3072, "X·W 100x100x3072"],
  ["tn", 3072, 100, 100, "Xᵀ·dY 3072x100x100"],
];
console.log(`threads-balance: 2 threads, ${rounds} alternating rounds of 20 calls, wall-clock medians`);
for (const [variant, m, n, k, label] of SHAPES) {
  const a = variant === "tn" ? tl.randn([k, m], { seed: 1 }) : tl.randn([m, k], { seed: 1 });
  const b = tl.randn([k, n], { seed: 2 });
  const c1 = tl.zeros([m, n]);
  const c2 = tl.zeros([m, n]);
  const plans = {
    one: () => tl.gemmSplit(variant, c1.ptr, a.ptr, b.ptr, m, n, k, {}, [[0, m, 0, n]]),
    halves: () => tl.gemmSplit(variant, c1.ptr, a.ptr, b.ptr, m, n, k, {}, tl.gemmBlocks(variant, m, n, 2)),
    balanced: () => tl.gemmRowChunks(variant, c2.ptr, a.ptr, b.ptr, m, n, k, {}, 2),
  };
  const samples = { one: [], halves: [], balanced: [] };
  const names = Object.keys(plans);
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(r + j) % names.length];
      for (let w = 0; w < 3; w++) plans[name]();
      const t0 = performance.now();
      for (let i = 0; i < 20; i++) plans[name]();
      samples[name].push((performance.now() - t0) / 20);
    }
  }
  const taken = tl.currentPool().lastChunksTaken();
  const [v1, v2] = [c1.toArray(), c2.toArray()];
  const same = v1.every((v, i) => Object.is(v, v2[i]));
  const one = median(samples.one);
  console.log(
    `  ${label.padEnd(20)} 1 thread ${one.toFixed(3)} ms   halves ${(one / median(samples.halves)).toFixed(2)}x   ` +
      `balanced ${(one / median(samples.balanced)).toFixed(2)}x   same bits: ${same}   blocks taken (caller, worker): ${taken.join(", ")}`,
  );
  for (const t of [a, b, c1, c2]) t.dispose();
}
tl.dispose();
