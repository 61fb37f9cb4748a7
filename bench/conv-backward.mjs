// node bench/conv-backward.mjs [--dist=dist,/other/dist] [--only=0,3] [--rounds=15] [--quick]
// Conv backward at the layers section's shapes (N = 64), every build's kernels alternating with the
// ceiling probe in one process (issue 22): per shape and build, the full backward through the
// public API (tl.Conv.backward: dx, dw, db, as the layers section times it) and the weight
// gradient alone (the raw conv_backward kernel of the build's tensorlane.wasm with dx = 0: what a
// first layer computes in training). Each figure is the median over rounds of (kernel rate /
// ceiling probe rate) in the same round, with the quartiles; FLOPs as the layers section counts
// them (2·N·F·P·K per product: the full backward two products, dw alone one). The builds' bits
// are compared before timing (dw, db and dx of every build must equal the first build's).
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import os from "node:os";
import { measureCeiling, ceilingRunner } from "./ceiling-probe.mjs";
import { PROFILES, quantile, runInterleaved } from "./harness.mjs";
import { CONV_SHAPES, MORE_CONV_SHAPES, convGeometry } from "./layers.mjs";
import { timeStats } from "./report.mjs";

const args = process.argv.slice(2);
const opt = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const quick = args.includes("--quick");
const dists = opt("dist", fileURLToPath(new URL("../dist", import.meta.url))).split(",");
const shapes = [...CONV_SHAPES, ...MORE_CONV_SHAPES];
const only = opt("only", "").split(",").filter(Boolean).map(Number);
const profile = quick ? PROFILES.quick : { ...PROFILES.paired, reps: Number(opt("rounds", "15")) };
const N = 64;

/** layers.mjs's geometry, with the GEMM sizes: K rows per column, P output pixels. */
function geometry(s) {
  const g = convGeometry(s);
  return { ...g, K: s.C * g.k * g.k, P: g.Ho * g.Wo };
}

/** The raw wasm of a build, with seeded inputs for shape s and a dw-only runner. */
async function rawBackward(dir, s) {
  const { instance } = await WebAssembly.instantiate(readFileSync(`${dir}/tensorlane.wasm`), { env: { abort: () => {} } });
  const k = instance.exports;
  const g = geometry(s);
  const { K, P } = g;
  const F = s.F;
  const alloc = (n) => Number(k.alloc(n * 4 + 16));
  const x = alloc(N * s.C * s.H * s.W),
    dout = alloc(N * F * P),
    w = alloc(F * K),
    dw = alloc(F * K),
    db = alloc(F),
    dx = alloc(N * s.C * s.H * s.W);
  const wt = alloc(Number(k.conv_backward_packed_reals(F, K)));
  const chunk = F * K + F; // conv_chunk_reals
  const G = Math.max(1, Math.ceil(N / Math.max(1, Math.min(32, Math.floor((1 << 22) / (F * K + F))))));
  const work = alloc(Number(k.conv_backward_work_bytes(F, s.C, s.H, s.W, g.k, g.k, g.stride, g.pad, g.Ho, g.Wo)) / 4 + chunk + 16);
  const fill = (p, n, seed) => {
    const v = new Float32Array(k.memory.buffer, p, n);
    let t = seed;
    for (let i = 0; i < n; i++) {
      t = (t * 1103515245 + 12345) >>> 0;
      v[i] = (t / 2 ** 32) * 2 - 1;
    }
  };
  fill(x, N * s.C * s.H * s.W, 1);
  fill(dout, N * F * P, 2);
  fill(w, F * K, 3);
  const run = (withDx) => {
    if (withDx) k.conv_backward_pack(wt, w, F, K);
    k.conv_backward(withDx ? dx : 0, dw, db, dout, x, wt, N, s.C, s.H, s.W, F, g.k, g.k, g.stride, g.pad, g.Ho, g.Wo, G, (work + 15) & ~15);
  };
  const read = () => {
    run(true);
    const view = (p, n) => Array.from(new Uint32Array(k.memory.buffer, p, n));
    return { dw: view(dw, F * K), db: view(db, F), dx: view(dx, N * s.C * s.H * s.W) };
  };
  return { run, read };
}

async function main() {
  const builds = [];
  for (const [i, dir] of dists.entries()) {
    const tl = await import(`${new URL(`file://${dir}/tensorlane.js`).href}?build=${i}`);
    await tl.init();
    builds.push({ name: dists.length > 1 ? `b${i}` : "tensorlane", dir, tl });
  }
  console.log(`conv backward, N = ${N}: node ${process.version}, ${os.cpus()[0]?.model}, load ${os.loadavg()[0].toFixed(1)}`);
  builds.forEach((b) => console.log(`  ${b.name}: ${b.dir}`));
  const ceiling = await measureCeiling(profile);
  console.log(`ceiling ${ceiling.gflops.toFixed(1)} GFLOPS (${ceiling.chains} chains)`);
  for (const [index, s] of shapes.entries()) {
    if (only.length && !only.includes(index)) continue;
    const g = geometry(s);
    const flops = 2 * N * s.F * g.P * g.K;
    const entries = [{ name: "ceiling", runner: ceilingRunner(ceiling) }];
    const raws = [];
    for (const b of builds) {
      const { tl } = b;
      const x = tl.keep(tl.randn([N, s.C, s.H, s.W], { seed: 1 }));
      const w = tl.keep(tl.randn([s.F, s.C, g.k, g.k], { seed: 2, std: Math.sqrt(2 / g.K) }));
      const bias = tl.keep(tl.zeros([s.F]));
      const [out, cache] = tl.Conv.forward(x, w, bias, { stride: g.stride, pad: g.pad });
      const dout = tl.keep(tl.randn(out.shape, { seed: 3 }));
      out.dispose();
      entries.push({
        name: `${b.name} full`,
        runner: {
          step: () => tl.tidy(() => void tl.Conv.backward(dout, cache)),
          work: (2 * flops) / 1e9,
          dispose: () => [x, w, bias, dout].forEach((t) => t.dispose()),
        },
      });
      const raw = await rawBackward(b.dir, s);
      raws.push(raw);
      entries.push({ name: `${b.name} dw`, runner: { step: () => raw.run(false), work: flops / 1e9 } });
    }
    const ref = raws[0].read();
    for (const [i, raw] of raws.entries()) {
      if (i === 0) continue;
      const r = raw.read();
      for (const key of ["dw", "db", "dx"]) {
        const diff = r[key].findIndex((v, j) => v !== ref[key][j]);
        if (diff >= 0) console.log(`  !! ${builds[i].name} ${key} differs from ${builds[0].name} at ${diff}`);
      }
    }
    const res = await runInterleaved(entries, profile);
    const probe = res.get("ceiling");
    const pt = timeStats(probe) === probe.cpuStats ? probe.cpuTimes : probe.times;
    const label = `conv${g.k}x${g.k}${g.stride > 1 ? ` s${g.stride}` : ""} ${N}x${s.C}x${s.H}x${s.W} F=${s.F}`;
    const cells = [];
    for (const e of entries.slice(1)) {
      const r = res.get(e.name);
      if (r.unavailable) {
        cells.push(`${e.name} n/a`);
        continue;
      }
      const kt = timeStats(r) === r.cpuStats ? r.cpuTimes : r.times;
      const n = Math.min(kt.length, pt.length);
      const shares = Array.from({ length: n }, (_, i) => r.work / kt[i] / (probe.work / pt[i]));
      cells.push(
        `${e.name} ${(timeStats(r).median * 1e3).toFixed(2)} ms ${(100 * quantile(shares, 0.5)).toFixed(0)}% [${(100 * quantile(shares, 0.25)).toFixed(0)}-${(100 * quantile(shares, 0.75)).toFixed(0)}]`,
      );
    }
    console.log(`${index} ${label} (ceiling probe ${(probe.work / timeStats(probe).median).toFixed(1)}): ${cells.join(" | ")}`);
  }
}

await main();
