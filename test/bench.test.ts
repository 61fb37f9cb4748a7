// The bench's own pieces that decide numbers: statistics, and the plain-JS baseline (it must be a
// correct net, or its figures mean nothing); and a smoke run of the sections issue 22 added.
// No timing is asserted here.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Loaded by URL: the bench is plain .mjs run by node, without type declarations.
const load = (path: string) => import(new URL(path, import.meta.url).href);
const harness = await load("../bench/harness.mjs");
const plain = await load("../bench/peers/plainjs.mjs");

describe("bench harness statistics", () => {
  it("median and quartiles interpolate", () => {
    expect(harness.median([5, 1, 3])).toBe(3);
    expect(harness.median([4, 1, 3, 2])).toBe(2.5);
    expect(harness.quantile([0, 10, 20, 30, 40], 0.25)).toBe(10);
  });

  it("summarize gives the spread relative to the median", () => {
    const s = harness.summarize([1, 2, 3, 4, 5]);
    expect(s.median).toBe(3);
    expect(s.min).toBe(1);
    expect(s.max).toBe(5);
    expect(s.spread).toBeCloseTo(2 / 3, 12);
  });
});

function naive(variant: string, a: Float64Array, b: Float64Array, m: number, n: number, k: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = variant === "tn" ? a[p * m + i] : a[i * k + p];
        const bv = variant === "nt" ? b[j * k + p] : b[p * n + j];
        s += av * bv;
      }
      c[i * n + j] = s;
    }
  return c;
}

describe("plain-js baseline", () => {
  it.each(["nn", "tn", "nt"])("matmul %s matches the triple loop at m 5 n 3 k 7", (variant) => {
    const [m, n, k] = [5, 3, 7];
    const a = Float64Array.from(harness.randomArray(m * k, 1));
    const b = Float64Array.from(harness.randomArray(k * n, 2));
    const c = new Float64Array(m * n).fill(NaN); // stale contents must be overwritten
    const fn = { nn: plain.matmulNN, tn: plain.matmulTN, nt: plain.matmulNT }[variant];
    fn(c, a, b, m, n, k);
    const want = naive(variant, a, b, m, n, k);
    const err = Math.max(...c.map((v, i) => Math.abs(v - want[i])));
    expect(err, `max error ${err}`).toBeLessThan(1e-12);
  });

  it("FC net gradients match central differences (float64, 6-5-4-3, batch 4)", () => {
    const net = new plain.PlainFullyConnectedNet({ dims: [6, 5, 4, 3], batch: 4, seed: 3, Float: Float64Array });
    const x = Float64Array.from(harness.randomArray(4 * 6, 4));
    const y = Int32Array.from([0, 2, 1, 2]);
    net.loss(x, y);
    const analytic = net.layers.flatMap((l: any) => [Float64Array.from(l.W.dw), Float64Array.from(l.b.dw)]);
    let worst = 0;
    net.layers.forEach((layer: any, li: number) => {
      [layer.W, layer.b].forEach((p: any, pi: number) => {
        for (let i = 0; i < p.w.length; i++) {
          const keep = p.w[i];
          p.w[i] = keep + 1e-6;
          const up = net.loss(x, y);
          p.w[i] = keep - 1e-6;
          const down = net.loss(x, y);
          p.w[i] = keep;
          const numeric = (up - down) / 2e-6;
          const got = analytic[li * 2 + pi][i];
          worst = Math.max(worst, Math.abs(numeric - got) / Math.max(1e-8, Math.abs(numeric) + Math.abs(got)));
        }
      });
    });
    expect(worst, `max relative error ${worst}`).toBeLessThan(1e-6);
  });

  it("Adam's first step moves each weight by learningRate against its gradient's sign", () => {
    const net = new plain.PlainFullyConnectedNet({ dims: [2, 2], batch: 1, seed: 5, Float: Float64Array });
    const w = net.layers[0].W;
    const before = Float64Array.from(w.w);
    w.dw.set([0.5, -2, 1e-3, 0]);
    net.adam({ learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    // t = 1: mHat = g, vHat = g², so the step is lr * g / (|g| + eps).
    const want = [0.5, -2, 1e-3, 0].map((g, i) => before[i] - (0.1 * g) / (Math.abs(g) + 1e-8));
    const err = Math.max(...want.map((v, i) => Math.abs(v - w.w[i])));
    expect(err, `max error ${err}`).toBeLessThan(1e-12);
  });
});

// The sections of issue 22 (infer against onnxruntime-web, layers, overhead, the CPU profile):
// their pure pieces on made-up inputs, then the real script once in --smoke mode (every case once
// or twice), checking what the record holds. Never a time.
const inferBench = await load("../bench/infer.mjs");
const overheadBench = await load("../bench/overhead.mjs");
const profiler = await load("../bench/profile-infer.mjs");
const report = await load("../bench/report.mjs");

describe("bench pairing across rounds", () => {
  // Round r of both contenders was sampled back to back: ratios and differences pair by round.
  const a = { cpuTimes: [1, 2, 4], times: [1, 2, 4], cpuStats: {}, stats: {} };
  const b = { cpuTimes: [2, 2, 2], times: [3, 3, 3], cpuStats: {}, stats: {} };

  it("pairedRatio is the median of peer time / tensorlane time per round (CPU clock)", () => {
    report.setClock("cpu");
    const r = inferBench.pairedRatio(a, b);
    expect(r.median).toBe(1); // ratios 2, 1, 0.5
    expect(r.q1).toBe(0.75);
    expect(r.q3).toBe(1.5);
    expect(r.rounds).toBe(3);
  });

  it("pairedRatio reads the wall-clock samples when the clock is wall", () => {
    report.setClock("wall");
    try {
      expect(inferBench.pairedRatio(a, b).median).toBe(1.5); // 3, 1.5, 0.75
    } finally {
      report.setClock("cpu");
    }
  });

  it("pairedDifference is in microseconds, per round, and null for an unavailable side", () => {
    report.setClock("cpu");
    // timeStats picks cpuStats under the cpu clock: pairedDifference compares by identity.
    const x = { ...a, cpuStats: a.cpuStats };
    const d = overheadBench.pairedDifference(x, b);
    expect(d.median).toBe(0); // -1, 0, 2 seconds
    expect(d.q1).toBe(-0.5e6);
    expect(overheadBench.pairedDifference(x, { unavailable: "n/a" })).toBeNull();
  });
});

describe("bench CPU-profile summary", () => {
  // root -> measuredLoop -> { wasm-function[3] (3 samples), js frame (1) }; a GC sample between
  // loop samples counts, one before the loop does not, nor the start-up frame.
  const profile = {
    nodes: [
      { id: 1, callFrame: { functionName: "(root)", url: "" }, children: [2, 3, 6, 7] },
      { id: 2, callFrame: { functionName: "measuredLoop", url: "file:///b.mjs" }, children: [4, 5] },
      { id: 3, callFrame: { functionName: "(garbage collector)", url: "" } },
      { id: 4, callFrame: { functionName: "wasm-function[3]", url: "" } },
      { id: 5, callFrame: { functionName: "f", url: "file:///x.js" } },
      { id: 6, callFrame: { functionName: "startUp", url: "file:///b.mjs" } },
      { id: 7, callFrame: { functionName: "(program)", url: "" } },
    ],
    samples: [3, 6, 4, 3, 4, 5, 4, 6],
    timeDeltas: [10, 10, 10, 10, 10, 10, 10, 10],
  };

  it("counts self time inside the loop, GC between its samples included", () => {
    const s = profiler.summarizeProfile(profile, { name: (f: any) => f.functionName });
    expect(s.total).toBe(50);
    expect(s.rows.map((r: any) => [r.name, r.micros])).toEqual([
      ["wasm-function[3]", 30],
      ["(garbage collector)", 10],
      ["f", 10],
    ]);
    const kinds = profiler.categorize(
      s.rows.map((r: any) => ({ ...r, name: r.name === "f" ? "js f" : r.name === "wasm-function[3]" ? "wasm assembly/gemm/packStraight" : r.name })),
    );
    expect(kinds.find((k: any) => k.label.startsWith("wasm GEMM packing")).share).toBeCloseTo(0.6, 12);
    expect(kinds.find((k: any) => k.label === "JS tensorlane host").share).toBeCloseTo(0.2, 12);
  });

  it("names the built module's wasm functions from its .wat, checked against its exports", () => {
    const root = new URL("../", import.meta.url);
    const wat = readFileSync(new URL("build/tensorlane.wat", root), "utf8");
    const bytes = readFileSync(new URL("dist/tensorlane.wasm", root));
    const names = profiler.wasmFunctionNames(wat, bytes);
    expect(names, "build/tensorlane.wat does not match dist/tensorlane.wasm: run `npm run build`").not.toBeNull();
    const { exports } = profiler.wasmFunctionExports(bytes);
    expect(names.get(exports.get("gemm_nn"))).toMatch(/\/gemm_nn$/);
    // A .wat of another module is refused rather than trusted.
    expect(profiler.wasmFunctionNames(wat.replace(/^ \(func \$[^\s]+/m, ""), bytes)).toBeNull();
  });

  it("names a kernel family's frames from that family's module (a frame's function offsets pick its module)", () => {
    const root = new URL("../", import.meta.url);
    const modules = new Map(
      ["core", "conv"].map((family) => [
        family,
        {
          bytes: readFileSync(new URL(`build/families/${family}.wasm`, root)),
          wat: readFileSync(new URL(`build/families/${family}.wat`, root), "utf8"),
        },
      ]),
    );
    // V8's frames: the script URL, wasm-function[index] and the body's byte offset as the column.
    const frame = (family: string, kernel: string, url: string) => {
      const { bytes } = modules.get(family)!;
      const index = profiler.wasmFunctionExports(bytes).exports.get(kernel);
      return { functionName: `wasm-function[${index}]`, url, columnNumber: profiler.wasmFunctionOffsets(bytes).get(index), lineNumber: 0 };
    };
    const frames = [frame("core", "gemm_nn", "wasm://wasm/a"), frame("conv", "conv_forward_images", "wasm://wasm/b")];
    const stray = { functionName: "wasm-function[3]", url: "wasm://wasm/c", columnNumber: 1, lineNumber: 0 };
    const profile = { nodes: [...frames, stray].map((callFrame, i) => ({ id: i + 1, callFrame })) };
    const byUrl = profiler.wasmModulesOfProfile(profile, modules);
    expect(profiler.wasmFrameName(frames[0], byUrl)).toMatch(/^wasm [^[].*\/gemm_nn$/);
    expect(profiler.wasmFrameName(frames[1], byUrl)).toMatch(/^wasm \[conv\] .*\/conv_forward_images$/);
    // A script no module fits stays unnamed rather than misnamed.
    expect(profiler.wasmFrameName(stray, byUrl)).toMatch(/^wasm \? /);
    expect(profiler.wasmFrameName({ functionName: "f", url: "file:///x.js" }, byUrl)).toBeNull();
  });
});

describe("bench sections of issue 22, --smoke", () => {
  it("npm run bench -- --smoke --only=infer,layers,overhead runs and records every section", () => {
    const dir = mkdtempSync(join(tmpdir(), "tensorlane-bench-"));
    const out = join(dir, "record.json");
    try {
      const run = spawnSync(
        process.execPath,
        [fileURLToPath(new URL("../bench/run.mjs", import.meta.url)), "--smoke", "--only=infer,layers,overhead", `--out=${out}`],
        {
          encoding: "utf8",
          timeout: 600_000,
        },
      );
      expect(run.status, run.stderr.slice(-2000)).toBe(0);
      const record = JSON.parse(readFileSync(out, "utf8"));
      expect(record.ceiling.gflops).toBeGreaterThan(0);

      // infer: every model x batch, both contenders; the ResNet hook says why it cannot run yet.
      const one = record.infer["1"];
      expect(one.cases.map((c: any) => `${c.model}/${c.batch}`)).toEqual([
        "fc/1",
        "fc/8",
        "fc/64",
        "conv/1",
        "conv/8",
        "conv/64",
        "resnet/1",
        "resnet/8",
        "resnet/64",
      ]);
      for (const c of one.cases.filter((c: any) => c.model !== "resnet")) {
        for (const name of ["tensorlane", "onnxruntime-web"]) {
          expect(c.results[name].unavailable, `${c.id} ${name}`).toBeUndefined();
          expect(c.results[name].times.length).toBeGreaterThan(0);
        }
        expect(c.results["onnxruntime-web"].note).toMatch(/same argmax/);
        expect(Number.isFinite(c.ratio.median)).toBe(true);
      }
      for (const c of one.cases.filter((c: any) => c.model === "resnet")) {
        const why = c.results.tensorlane.unavailable;
        if (why !== undefined) expect(why).toMatch(/not yet available|error/);
      }
      const two = record.infer["2"];
      if (two.skipped === undefined) {
        expect(two.threads).toBe(2);
        expect(two.clock).toBe("wall");
        expect(two.cases).toHaveLength(one.cases.length);
      } else expect(two.skipped).toMatch(/core|child/);

      // layers: every kind present, with a rate and a share against its yardstick.
      const kinds = new Set(record.layers.cases.map((c: any) => c.kind));
      expect([...kinds].sort()).toEqual(["adam", "bn", "conv", "gemm", "pool", "softmax"]);
      for (const c of record.layers.cases) {
        expect(c.kernel.unavailable, c.label).toBeUndefined();
        expect(c.rate, c.label).toBeGreaterThan(0);
        expect(Number.isFinite(c.share.median), c.label).toBe(true);
      }
      expect(record.layers.curve).toHaveLength(4);

      // overhead: the groups, the prototypes' bits, the profile's kinds.
      const titles = record.overhead.groups.map((g: any) => g.title[0]);
      expect(titles).toEqual(["A", "A", "B", "C"]);
      for (const g of record.overhead.groups) {
        for (const r of g.rows) {
          expect(r.name).not.toMatch(/DIFFER/);
          expect(r.result.unavailable, r.name).toBeUndefined();
        }
      }
      expect(record.overhead.groups[2].rows.filter((r: any) => /same bits as model\.loss/.test(r.name))).toHaveLength(4);
      expect(record.overhead.profile.kinds.length).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
