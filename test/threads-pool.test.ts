// The worker pool itself (issue 11): start, dispatch, scratch, faults, exit. The split kernels' same-bits checks are in threads.test.ts.
// The worker pool (issue 11): init({ threads }) and runtimeInfo(), runTasks on real kernels over
// 1, 2 and 3 threads, per-thread scratch, memory growth seen by the workers, a heap moved into
// shared memory, errors and the "auto" fallback, a worker trap, a worker killed in the middle of a
// call, and a Node process that exits by itself after training with threads.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import * as tl from "../src/index.js";
import { f32, kernels, wasmMemoryBytes } from "../src/core/runtime.js";
import { currentPool, runChunks, runTasks, simulateThreads, threadCount, threadScratch, traceKernels } from "../src/core/threads/dispatch.js";
import { gemmRowChunks } from "../src/ops/gemm.js";
import { avgPoolBackward, avgPoolForward, avgPoolSizes } from "../src/ops/avgpool.js";
import { depthwiseBackward, depthwiseForward, depthwiseSizes } from "../src/ops/depthwise.js";
import { gelu } from "../src/ops/elementwise.js";
import { ignoreThresholds } from "../src/core/threads/thresholds.js";
import { labels } from "./helpers.js";

afterAll(() => tl.dispose());
afterEach(() => {
  vi.unstubAllGlobals();
  simulateThreads(null);
});

/** Splits [0, n) into `parts` contiguous ranges. */
function ranges(n: number, parts: number): [number, number][] {
  return Array.from({ length: parts }, (_, i) => [Math.floor((n * i) / parts), Math.floor((n * (i + 1)) / parts)] as [number, number]);
}

function relu(values: ArrayLike<number>): number[] {
  return Array.from(values, (v) => Math.max(v, 0));
}

/** A tensor's values as a plain array. */
function valuesOf(t: tl.Tensor): number[] {
  return Array.from(t.toArray());
}

describe("threads: pool and dispatch", () => {
  it("moves a single-thread heap into shared memory: tensors made before init({ threads: 2 }) keep their values", async () => {
    await tl.init();
    expect(tl.runtimeInfo()).toMatchObject({ threads: 1, sharedMemory: false, simd: "simd128", wait: null });
    expect(tl.runtimeInfo().reason).toMatch(/not requested/);
    const before = tl.randn([1000], { seed: 3 });
    const values = before.toArray();
    await tl.init({ threads: 2 });
    expect(tl.runtimeInfo()).toMatchObject({ threads: 2, sharedMemory: true, wait: "atomics", reason: null });
    expect(before.toArray()).toEqual(values);
    const after = tl.full([1000], 5); // the allocator carries on: no overlap with `before`
    expect(before.toArray()).toEqual(values);
    expect(after.toArray().every((v) => v === 5)).toBe(true);
    before.dispose();
    after.dispose();
  });

  it("runs fill and relu over ranges on 1, 2 and 3 threads with the same result", async () => {
    await tl.init({ threads: 3 });
    expect(threadCount()).toBe(3);
    expect(tl.runtimeInfo()).toMatchObject({ threads: 3, sharedMemory: true, simd: "simd128", wait: "atomics", reason: null });
    const n = 10_007;
    const x = tl.randn([n], { seed: 7 });
    const y = tl.zeros([n]);
    const expected = relu(x.toArray());
    for (const parts of [1, 2, 3]) {
      runTasks(
        "float32",
        "fill",
        ranges(n, parts).map(([a, b]) => [y.ptr + a * 4, b - a, -1]),
      );
      expect(
        y.toArray().every((v) => v === -1),
        `fill on ${parts} threads`,
      ).toBe(true);
      runTasks(
        "float32",
        "relu",
        ranges(n, parts).map(([a, b]) => [y.ptr + a * 4, x.ptr + a * 4, b - a]),
      );
      expect(valuesOf(y), `relu on ${parts} threads`).toEqual(expected);
    }
    x.dispose();
    y.dispose();
  });

  it("workers see memory that the calling thread grew after they started", async () => {
    await tl.init({ threads: 2 });
    const grownFrom = wasmMemoryBytes();
    const big = tl.zeros([24 << 20]); // 96 MiB: memory grows
    expect(wasmMemoryBytes()).toBeGreaterThan(grownFrom);
    const n = big.size;
    runTasks(
      "float32",
      "fill",
      ranges(n, 2).map(([a, b]) => [big.ptr + a * 4, b - a, 2.5]),
    );
    expect(valuesOf(big.sliceView(n - 4, [4]))).toEqual([2.5, 2.5, 2.5, 2.5]);
    big.dispose();
  });

  it("a GEMM split by output rows (each thread packing into its own scratch) gives the single call's bits on 1, 2 and 3 threads", async () => {
    await tl.init({ threads: 3 });
    const [m, n, k] = [103, 37, 300];
    const a = tl.randn([m, k], { seed: 21 });
    const b = tl.randn([k, n], { seed: 22 });
    const c = tl.zeros([m, n]);
    const kern = kernels();
    const work = kern.gemm_work_bytes(m, n, k);
    const reference = tl.zeros([m, n]);
    kern.gemm_nn(reference.ptr, a.ptr, b.ptr, m, n, k, 0, false, threadScratch(work)[0]);
    for (const parts of [1, 2, 3]) {
      const scratch = threadScratch(work);
      // Row ranges on multiples of 4 (the microkernel's rows).
      const cuts = Array.from({ length: parts + 1 }, (_, i) => (i === parts ? m : Math.floor((m * i) / parts / 4) * 4));
      runTasks(
        "float32",
        "gemm_nn",
        cuts.slice(0, -1).map((r0, t) => [c.ptr + r0 * n * 4, a.ptr + r0 * k * 4, b.ptr, cuts[t + 1] - r0, n, k, 0, 0, scratch[t]]),
      );
      expect(valuesOf(c), `${parts} threads`).toEqual(valuesOf(reference));
      c.set(new Float32Array(m * n));
    }
    for (const t of [a, b, c, reference]) t.dispose();
  });

  it("a float64 FullyConnectedNet trained on 3 real worker threads gives the 1-thread bits (f64 kernels split across workers)", async () => {
    const run = async (threads: number): Promise<{ history: number[]; bytes: number[] }> => {
      await tl.init({ threads, float64: true });
      expect(threadCount()).toBe(threads);
      ignoreThresholds(true); // small shapes: split every op as far as the thread count allows
      const X = tl.randn([60, 20], { seed: 41, dtype: "float64" });
      const y = labels(60, 5, 42);
      const net = new tl.FullyConnectedNet({
        hiddenDims: [24],
        inputDim: 20,
        numClasses: 5,
        dropout: 0.2,
        normalization: "batchnorm",
        reg: 1e-3,
        seed: 43,
        dtype: "float64",
      });
      const solver = new tl.Solver(
        net,
        { XTrain: X, yTrain: y, XVal: X, yVal: y },
        { updateRule: "adam", batchSize: 20, numEpochs: 10, verbose: false, seed: 44 },
      );
      try {
        for (let i = 0; i < 8; i++) solver.step();
        return { history: [...solver.lossHistory], bytes: Array.from(new Uint8Array(net.paramStore.flat.toArray().buffer)) };
      } finally {
        ignoreThresholds(false);
        solver.dispose();
        net.dispose();
        X.dispose();
      }
    };
    const one = await run(1);
    const three = await run(3);
    expect(one.history.every(Number.isFinite)).toBe(true);
    expect(three.history).toEqual(one.history);
    expect(three.bytes).toEqual(one.bytes);
  });

  it("batch 1-3 inference (GEMV split by columns, on packed and unpacked weights, ReLU fused) on 3 real worker threads gives the 1-thread bits", async () => {
    const run = async (threads: number, dtype: "float32" | "float64"): Promise<number[][]> => {
      await tl.init({ threads, float64: true });
      expect(threadCount()).toBe(threads);
      ignoreThresholds(true);
      const fc = new tl.FullyConnectedNet({ hiddenDims: [70, 33], inputDim: 300, numClasses: 10, weightScale: "kaiming", seed: 8, dtype });
      const seq = tl.sequential([tl.nn.linear(300, 70), tl.nn.relu(), tl.nn.linear(70, 10)], { inputShape: [300], seed: 9, dtype });
      try {
        return tl.tidy(() => {
          const out: number[][] = [];
          for (const n of [1, 2, 3, 5]) {
            const X = tl.randn([n, 300], { seed: 60 + n, dtype });
            for (let pass = 0; pass < 3; pass++) {
              // unpacked, packing, packed
              for (const model of [fc, seq]) out.push(Array.from(new Uint8Array(model.loss(X).toArray().buffer)));
            }
          }
          return out;
        });
      } finally {
        ignoreThresholds(false);
        fc.dispose();
        seq.dispose();
      }
    };
    for (const dtype of ["float32", "float64"] as const) {
      const one = await run(1, dtype);
      const three = await run(3, dtype);
      for (let i = 0; i < one.length; i++) expect(three[i], `${dtype} scores ${i} with 3 real threads`).toEqual(one[i]);
    }
  });

  it("the new layers' kernels (depthwise conv, average pooling, GELU) on 3 real worker threads give the 1-thread bits, float32 and float64", async () => {
    const run = async (threads: number, dtype: "float32" | "float64"): Promise<number[][]> => {
      await tl.init({ threads, float64: true });
      expect(threadCount()).toBe(threads);
      ignoreThresholds(true);
      try {
        return tl.tidy(() => {
          const s = depthwiseSizes("test", 9, 6, 14, 13, 3, 3, 2, 2, 1, 1);
          const x = tl.randn([9, 6, 14, 13], { seed: 50, dtype }),
            w = tl.randn([6, 1, 3, 3], { seed: 51, dtype }),
            b = tl.randn([6], { seed: 52, dtype });
          const out = tl.zeros([9, 6, s.Ho, s.Wo], { dtype }),
            dout = tl.randn(out.shape, { seed: 53, dtype });
          const dx = tl.zeros(x.shape, { dtype }),
            dw = tl.zeros(w.shape, { dtype }),
            db = tl.zeros([6], { dtype });
          depthwiseForward(out.ptr, x.ptr, w.ptr, b.ptr, s, dtype);
          depthwiseBackward(dx.ptr, dw.ptr, db.ptr, dout.ptr, x.ptr, w.ptr, s, dtype);
          const p = avgPoolSizes("test", 9, 6, 14, 13, 3, 3, 2, 2, 1, 1, false);
          const pooled = tl.zeros([9, 6, p.Ho, p.Wo], { dtype }),
            pdx = tl.zeros(x.shape, { dtype });
          avgPoolForward(pooled.ptr, x.ptr, p, dtype);
          avgPoolBackward(pdx.ptr, pooled.ptr, p, dtype);
          const g = tl.zeros(x.shape, { dtype });
          gelu(g.ptr, x.ptr, x.size, "none", dtype);
          return [out, dx, dw, db, pooled, pdx, g].map((t) => Array.from(new Uint8Array(t.toArray().buffer)));
        });
      } finally {
        ignoreThresholds(false);
      }
    };
    for (const dtype of ["float32", "float64"] as const) {
      const one = await run(1, dtype);
      const three = await run(3, dtype);
      for (let i = 0; i < one.length; i++) expect(three[i], `${dtype} result ${i} with 3 real threads`).toEqual(one[i]);
    }
  });

  it("threadScratch gives one 16-byte aligned, disjoint region per thread, reused until it must grow", async () => {
    await tl.init({ threads: 3 });
    const a = threadScratch(100);
    expect(a.length).toBe(3);
    for (const p of a) expect(p % 16).toBe(0);
    expect(a[1] - a[0]).toBeGreaterThanOrEqual(100);
    expect(a[2] - a[1]).toBe(a[1] - a[0]);
    expect(threadScratch(50)).toEqual(a); // smaller: reused
    const b = threadScratch(1 << 20);
    expect(b[1] - b[0]).toBeGreaterThanOrEqual(1 << 20);
    // Every thread writes its own region; none overwrites another's.
    runTasks(
      "float32",
      "fill",
      b.map((p, t) => [p, (1 << 20) / 4, t + 1]),
    );
    const f = f32();
    for (let t = 0; t < 3; t++) expect([f[b[t] / 4], f[b[t] / 4 + (1 << 18) - 1]]).toEqual([t + 1, t + 1]);
  });

  it("simulateThreads(n) plans for n threads and runs the tasks in order on the calling thread", async () => {
    await tl.init({ threads: 2 });
    simulateThreads(5);
    expect(threadCount()).toBe(5);
    expect(threadScratch(64)).toHaveLength(5);
    const y = tl.zeros([10]);
    // Overlapping ranges: the last task wins only if the tasks run in order.
    runTasks(
      "float32",
      "fill",
      [0, 1, 2, 3, 4].map((t) => [y.ptr, 10, t]),
    );
    expect(y.toArray().every((v) => v === 4)).toBe(true);
    simulateThreads(null);
    expect(threadCount()).toBe(2);
    y.dispose();
  });

  it("traceKernels(trace) sees every runTasks and runChunks call (kernel, arguments, tasks) and runs it through run(); null removes it", async () => {
    await tl.init({ threads: 2 });
    const y = tl.zeros([8]);
    const seen: [string, number[], number][] = [];
    try {
      traceKernels((kernel, args, tasks, run) => {
        seen.push([kernel, [...args], tasks]);
        run();
      });
      runTasks("float32", "fill", [
        [y.ptr, 4, 1],
        [y.ptr + 16, 4, 2],
      ]);
      runChunks("float32", "fill", [y.ptr, 0, 0, 3], 1, [[0, 2]], 2);
      expect(seen).toEqual([
        ["fill", [y.ptr, 4, 1], 2],
        ["fill", [y.ptr, 0, 0, 3], 1],
      ]);
      // The calls ran (once each): fill's own result, not the trace's.
      expect(Array.from(y.toArray())).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
      // A trace that does not call run() leaves the call undone: the hook owns the call.
      traceKernels(() => {});
      runTasks("float32", "fill", [[y.ptr, 8, 7]]);
      expect(y.toArray()[0]).toBe(1);
      traceKernels(null);
      runTasks("float32", "fill", [[y.ptr, 8, 7]]);
      expect(y.toArray()[0]).toBe(7);
      expect(seen).toHaveLength(2); // the last call went past no trace
      expect(() => traceKernels("log" as unknown as null)).toThrow(/traceKernels: trace must be a function or null/);
    } finally {
      traceKernels(null);
      y.dispose();
    }
  });

  it("runTasks rejects more tasks than threads, an empty list and unknown kernels", async () => {
    await tl.init({ threads: 2 });
    const y = tl.zeros([4]);
    expect(() =>
      runTasks("float32", "fill", [
        [y.ptr, 1, 0],
        [y.ptr, 1, 0],
        [y.ptr, 1, 0],
      ]),
    ).toThrow(/runTasks: tasks.length must be between 1 and threadCount\(\) = 2 \(got 3\)/);
    expect(() => runTasks("float32", "fill", [])).toThrow(RangeError);
    expect(() => runTasks("float32", "no_such_kernel" as "fill", [[0]])).toThrow(/runTasks: kernel must name a wasm function export/);
    const long = new Array<number>(33).fill(0);
    expect(() => runTasks("float32", "fill", [long, long])).toThrow(/runTasks: a task has 33 arguments, more than the 32 a worker slot holds/);
    y.dispose();
  });

  it("runChunks: threads take the ranges from a shared counter; every range runs exactly once, and a balanced GEMM row split gives the single call's bits", async () => {
    await tl.init({ threads: 3 });
    const [m, n, k] = [203, 37, 300];
    const a = tl.randn([m, k], { seed: 23 });
    const b = tl.randn([k, n], { seed: 24 });
    const kern = kernels();
    const reference = tl.zeros([m, n]);
    kern.gemm_nn(reference.ptr, a.ptr, b.ptr, m, n, k, 0, false, threadScratch(kern.gemm_work_bytes(m, n, k))[0]);
    const packed = tl.zeros([kern.gemm_packed_b_bytes(n, k) / 4]);
    runChunks(
      "float32",
      "gemm_pack_b",
      [packed.ptr, b.ptr, n, k, 0, 0, 0],
      5,
      [
        [0, 1],
        [1, 2],
      ],
      3,
    );
    for (const threads of [1, 2, 3]) {
      // Accumulating onto zeros: a range run twice would double its rows, a range skipped stay 0.
      const c = tl.zeros([m, n]);
      const oneRowRanges = Array.from({ length: m }, (_, i) => [i, i + 1] as [number, number]).slice(0, 200);
      const ranges = [...oneRowRanges, [200, m] as [number, number]];
      const work = threadScratch(kern.gemm_work_bytes(4, n, k));
      runChunks("float32", "gemm_nn_rows_packed", [c.ptr, a.ptr, packed.ptr, m, n, k, 0, 1, 0, 0, 0], 9, ranges, threads, 8, work);
      expect(valuesOf(c), `${threads} threads`).toEqual(valuesOf(reference));
      c.dispose();
    }
    // The workers do take ranges: every call runs each range once, and every worker runs some
    // of them. Ranges of about 15 µs each, so a worker woken from its sleep still finds some
    // left; on a loaded machine a worker may still miss a call, hence up to 200 calls.
    const wide = 256;
    const bw = tl.randn([k, wide], { seed: 26 });
    const packedWide = tl.zeros([kern.gemm_packed_b_bytes(wide, k) / 4]);
    runChunks("float32", "gemm_pack_b", [packedWide.ptr, bw.ptr, wide, k, 0, 0, 0], 5, [[0, 2]], 1);
    const y = tl.zeros([m, wide]);
    const expected = tl.zeros([m, wide]);
    kern.gemm_nn(expected.ptr, a.ptr, bw.ptr, m, wide, k, 0, false, threadScratch(kern.gemm_work_bytes(m, wide, k))[0]);
    const ranges = Array.from({ length: 64 }, (_, i) => [Math.floor((i * m) / 64), Math.floor(((i + 1) * m) / 64)] as [number, number]);
    const taken = [0, 0, 0];
    let calls = 0;
    while (calls < 200 && (calls < 5 || taken[1] === 0 || taken[2] === 0)) {
      runChunks(
        "float32",
        "gemm_nn_rows_packed",
        [y.ptr, a.ptr, packedWide.ptr, m, wide, k, 0, 0, 0, 0, 0],
        9,
        ranges,
        3,
        8,
        threadScratch(kern.gemm_work_bytes(4, wide, k)),
      );
      const last = currentPool()!.lastChunksTaken();
      expect(last.reduce((x, v) => x + v, 0)).toBe(64);
      last.forEach((v, t) => (taken[t] += v));
      calls++;
    }
    expect(valuesOf(y)).toEqual(valuesOf(expected));
    expect(taken[1], `ranges per thread over ${calls} calls: ${taken}`).toBeGreaterThan(0);
    expect(taken[2], `ranges per thread over ${calls} calls: ${taken}`).toBeGreaterThan(0);
    for (const t of [bw, packedWide, y, expected]) t.dispose();
    // Through the host GEMM (prepacked B, guided blocks): the same bits as one call.
    const c = tl.zeros([m, n]);
    gemmRowChunks("nn", c.ptr, a.ptr, b.ptr, m, n, k, { dtype: "float32" }, 3);
    expect(valuesOf(c)).toEqual(valuesOf(reference));
    expect(() =>
      runChunks(
        "float32",
        "gemm_pack_b",
        [packed.ptr, b.ptr, n, k, 0, 0, 0],
        5,
        Array.from({ length: 257 }, () => [0, 0] as [number, number]),
        3,
      ),
    ).toThrow(/runChunks: 257 ranges, more than the 256 the table holds/);
    expect(() => runChunks("float32", "fill", [c.ptr, 4, 1], 7, [[0, 1]], 2)).toThrow(/runChunks: rangeArg must index a pair inside args \(got 7\)/);
    for (const t of [a, b, c, reference, packed]) t.dispose();
  });

  it("a range that traps in a chunked call throws a clear error on whichever thread took it, and the pool stays usable", async () => {
    await tl.init({ threads: 2 });
    const [m, n, k] = [64, 8, 8];
    const a = tl.randn([m, k], { seed: 25 });
    const c = tl.zeros([m, n]);
    const beyond = wasmMemoryBytes() + 1024; // a packed B out of bounds: every range traps
    const work = threadScratch(kernels().gemm_work_bytes(4, n, k));
    const ranges = Array.from({ length: 16 }, (_, i) => [4 * i, 4 * i + 4] as [number, number]);
    expect(() => runChunks("float32", "gemm_nn_rows_packed", [c.ptr, a.ptr, beyond, m, n, k, 0, 0, 0, 0, 0], 9, ranges, 2, 8, work)).toThrow(/out of bounds/);
    expect(threadCount()).toBe(2);
    const y = tl.zeros([8]);
    runTasks("float32", "fill", [
      [y.ptr, 4, 3],
      [y.ptr + 16, 4, 4],
    ]);
    expect(valuesOf(y)).toEqual([3, 3, 3, 3, 4, 4, 4, 4]);
    for (const t of [a, c, y]) t.dispose();
  });

  it("a kernel that traps on a worker throws a clear error, and the pool stays usable", async () => {
    await tl.init({ threads: 2 });
    const y = tl.zeros([8]);
    const beyond = wasmMemoryBytes() + 1024; // out of bounds: the worker's call traps
    expect(() =>
      runTasks("float32", "fill", [
        [y.ptr, 4, 1],
        [beyond, 4, 1],
      ]),
    ).toThrow(/fill failed on thread 1: .*out of bounds/);
    expect(threadCount()).toBe(2);
    runTasks("float32", "fill", [
      [y.ptr, 4, 3],
      [y.ptr + 16, 4, 4],
    ]);
    expect(valuesOf(y)).toEqual([3, 3, 3, 3, 4, 4, 4, 4]);
    y.dispose();
  });
});

describe("threads: init options, fallback and errors", () => {
  it("rejects bad thread counts with a TypeError naming the option", async () => {
    for (const bad of [0, -1, 1.5, "4", Infinity, null]) {
      await expect(tl.init({ threads: bad as number })).rejects.toThrow(/init: threads must be an integer from 1 to 256 or "auto"/);
    }
    await expect(tl.init({ threads: 2, workerUrl: 5 as unknown as string })).rejects.toThrow(TypeError);
  });

  it('"auto" uses the host\'s core count', async () => {
    const os = await import("node:os");
    await tl.init({ threads: "auto" });
    const cores = os.availableParallelism();
    expect(tl.runtimeInfo()).toMatchObject({ threads: cores, cores });
  });

  it('without SharedArrayBuffer: "auto" falls back to 1 thread with the reason, an explicit count throws what to do', async () => {
    await tl.init({ threads: 2 });
    vi.stubGlobal("SharedArrayBuffer", undefined);
    await expect(tl.init({ threads: 4 })).rejects.toThrow(/init: threads: 4 cannot work here: SharedArrayBuffer is unavailable.*threads: "auto"/);
    await tl.init({ threads: "auto" });
    vi.unstubAllGlobals();
    const info = tl.runtimeInfo();
    expect(info.threads).toBe(1);
    expect(info.reason).toMatch(/SharedArrayBuffer is unavailable/);
    expect(threadCount()).toBe(1);
  });

  it("on a page that is not cross-origin isolated the error names both headers with their values", async () => {
    vi.stubGlobal("crossOriginIsolated", false);
    await expect(tl.init({ threads: 2 })).rejects.toThrow(
      /not cross-origin isolated: serve the page with the headers `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`/,
    );
  });

  it("a worker script that cannot load fails init with a clear error, and the library stays usable", async () => {
    await expect(tl.init({ threads: 2, workerUrl: new URL("./no-such-worker.js", import.meta.url) })).rejects.toThrow(/init: could not start 1 worker thread/);
    expect(threadCount()).toBe(1);
    const t = tl.full([3], 1);
    expect(valuesOf(t)).toEqual([1, 1, 1]);
    t.dispose();
  });
});

describe("threads: a worker dies in the middle of a call", () => {
  it("the call throws, the library falls back to 1 thread with a warning, tensors survive, init({ threads }) restores the pool", async () => {
    await tl.init({ threads: 2 });
    const kept = tl.randn([1000], { seed: 11 });
    const keptValues = kept.toArray();
    const size = 1600; // task 1: a 1600³ GEMM (8 GFLOP, well over 100 ms), killed after 20 ms
    const a = tl.randn([size, size], { seed: 1 });
    const b = tl.randn([size, size], { seed: 2 });
    const c = tl.zeros([size, size]);
    const k = kernels();
    const work = tl.zeros([Math.ceil(k.gemm_work_bytes(size, size, size) / 4) + 4]);
    const y = tl.zeros([4]);
    const memoryBefore = tl.memory();
    currentPool()!.killWorkerForTest(1, 20);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const started = performance.now();
    expect(() =>
      runTasks("float32", "gemm_nn", [
        [y.ptr, y.ptr, y.ptr, 1, 1, 1, 0, 0, work.ptr],
        [c.ptr, a.ptr, b.ptr, size, size, size, 0, 0, work.ptr],
      ]),
    ).toThrow(
      /tensorlane threads: worker 1 exited .* while running gemm_nn; the worker pool is stopped and the library continues on 1 thread. Call `await tl.init\(\{ threads: n \}\)`/,
    );
    expect(performance.now() - started).toBeLessThan(30_000); // it did not hang
    expect(threadCount()).toBe(1);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/the worker pool stopped .*running on 1 thread/));
    warn.mockRestore();
    expect(tl.runtimeInfo()).toMatchObject({ threads: 1, sharedMemory: true });
    expect(tl.runtimeInfo().reason).toMatch(/a worker died/);
    // Nothing was lost: the same tensors, the same values, the same memory.
    expect(kept.toArray()).toEqual(keptValues);
    expect(tl.memory().liveTensors).toBe(memoryBefore.liveTensors);
    // Splits now plan for 1 thread, and a direct call works.
    runTasks("float32", "fill", [[y.ptr, 4, 9]]);
    expect(valuesOf(y)).toEqual([9, 9, 9, 9]);
    // The next init({ threads }) brings the pool back.
    await tl.init({ threads: 2 });
    expect(threadCount()).toBe(2);
    expect(tl.runtimeInfo().reason).toBe(null);
    runTasks("float32", "fill", [
      [y.ptr, 2, 1],
      [y.ptr + 8, 2, 2],
    ]);
    expect(valuesOf(y)).toEqual([1, 1, 2, 2]);
    expect(kept.toArray()).toEqual(keptValues);
    for (const t of [kept, a, b, c, work, y]) t.dispose();
  });
});

describe("threads: a worker dies in the middle of a chunked call", () => {
  it("a balanced GEMM (threads taking row blocks) throws, falls back to 1 thread, and init({ threads }) restores the pool", async () => {
    await tl.init({ threads: 2 });
    const size = 1600; // about 4 G multiply-adds: far longer than the 20 ms before the kill
    const a = tl.randn([size, size], { seed: 3 });
    const b = tl.randn([size, size], { seed: 4 });
    const c = tl.zeros([size, size]);
    currentPool()!.killWorkerForTest(1, 20);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const started = performance.now();
    expect(() => gemmRowChunks("nn", c.ptr, a.ptr, b.ptr, size, size, size, { dtype: "float32" }, 2)).toThrow(
      /tensorlane threads: worker 1 exited .* while running gemm_nn_rows_packed; the worker pool is stopped/,
    );
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(threadCount()).toBe(1);
    warn.mockRestore();
    await tl.init({ threads: 2 });
    // The same product at a smaller size now runs on the new pool and agrees with one call.
    const m = 300;
    const whole = tl.zeros([m, m]);
    const kern = kernels();
    kern.gemm_nn(whole.ptr, a.ptr, b.ptr, m, m, m, 0, false, threadScratch(kern.gemm_work_bytes(m, m, m))[0]);
    const split = tl.zeros([m, m]);
    gemmRowChunks("nn", split.ptr, a.ptr, b.ptr, m, m, m, { dtype: "float32" }, 2);
    expect(valuesOf(split)).toEqual(valuesOf(whole));
    for (const t of [a, b, c, whole, split]) t.dispose();
  });
});

describe("threads: the supervisor dies in the middle of a call", () => {
  it("the waiting caller notices the silence, throws, and init({ threads }) restores the pool", async () => {
    await tl.init({ threads: 2 });
    const size = 2000; // task 1: a 2000³ GEMM (16 GFLOP), whose worker dies with the supervisor
    const a = tl.zeros([size, size]);
    const c = tl.zeros([size, size]);
    const work = tl.zeros([Math.ceil(kernels().gemm_work_bytes(size, size, size) / 4) + 4]);
    const y = tl.zeros([4]);
    currentPool()!.killWorkerForTest(0, 20);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(() =>
      runTasks("float32", "gemm_nn", [
        [y.ptr, y.ptr, y.ptr, 1, 1, 1, 0, 0, work.ptr],
        [c.ptr, a.ptr, a.ptr, size, size, size, 0, 0, work.ptr],
      ]),
    ).toThrow(/tensorlane threads: the supervisor worker stopped \(no heartbeat for 5 s\) while running gemm_nn/);
    expect(threadCount()).toBe(1);
    warn.mockRestore();
    await tl.init({ threads: 2 });
    runTasks("float32", "fill", [
      [y.ptr, 2, 1],
      [y.ptr + 8, 2, 2],
    ]);
    expect(valuesOf(y)).toEqual([1, 1, 2, 2]);
    for (const t of [a, c, work, y]) t.dispose();
  });
});

describe("threads: process exit", () => {
  const bundle = fileURLToPath(new URL("../dist/tensorlane.js", import.meta.url));
  const script = (dispose: boolean) => `
    const tl = await import(${JSON.stringify(bundle)});
    await tl.init({ threads: 2 });
    const net = new tl.FullyConnectedNet({ hiddenDims: [20], inputDim: 8, numClasses: 3, seed: 1 });
    const x = tl.randn([16, 8], { seed: 2 });
    const [loss] = net.loss(x, new Int32Array(16));
    console.log(JSON.stringify({ threads: tl.runtimeInfo().threads, loss: Number.isFinite(loss) }));
    ${dispose ? "tl.dispose();" : ""}
  `;
  for (const dispose of [true, false]) {
    it(`a Node script that trained with 2 threads exits by itself ${dispose ? "after tl.dispose()" : "without dispose (idle workers are unref'd)"}`, () => {
      expect(existsSync(bundle), "dist/tensorlane.js: run `npm run build` first").toBe(true);
      const run = spawnSync(process.execPath, ["--input-type=module", "-e", script(dispose)], { encoding: "utf8", timeout: 30_000 });
      expect(run.error, "the process did not exit within 30 s").toBeUndefined();
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ threads: 2, loss: true });
    });
  }

  it("Node's worker_threads Worker left in globalThis.Worker (as onnxruntime-web does) does not pass for a Web Worker", () => {
    const polluted = `globalThis.Worker = (await import("node:worker_threads")).Worker;\n${script(true)}`;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", polluted], { encoding: "utf8", timeout: 30_000 });
    expect(run.error, "the process did not exit within 30 s").toBeUndefined();
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ threads: 2, loss: true });
  });

  it("the CLI trains with --threads 2, says so, and exits; a bad --threads is refused", () => {
    const cli = fileURLToPath(new URL("../cli/dist/cli.js", import.meta.url));
    const out = mkdtempSync(join(tmpdir(), "tensorlane-threads-cli-"));
    try {
      const run = spawnSync(process.execPath, [cli, "train", "--threads", "2", "--epochs", "1", "--train-samples", "500", "--hidden", "32", "--out", out], {
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(run.error, "the CLI did not exit within 60 s").toBeUndefined();
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/^threads: 2$/m);
      expect(run.stdout).toMatch(/test accuracy/);
      const bad = spawnSync(process.execPath, [cli, "train", "--threads", "0"], { encoding: "utf8", timeout: 30_000 });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/--threads <n>' argument '0' is invalid. Expected a thread count from 1 to 256 or "auto"/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

// The identity check on REAL workers (threads.test.ts does it for 1..16 simulated
// threads): thresholds are ignored so every split kernel really splits at these small shapes.
describe("real workers: models trained 50 Solver steps give identical loss histories and weight hashes for 1, 2 and 3 threads", () => {
  afterEach(() => ignoreThresholds(false));

  function hashParams(params: Record<string, tl.Tensor>): string {
    let crc = 0;
    for (const key of Object.keys(params).sort()) crc = tl.internal.crc32(new Uint8Array(Float32Array.from(params[key].toArray()).buffer), crc);
    return crc.toString(16);
  }

  async function trainWith(threads: number, makeNet: () => tl.FullyConnectedNet | tl.DeepConvNet, makeData: () => [tl.Tensor, Int32Array]) {
    await tl.init({ threads });
    expect(threadCount()).toBe(threads);
    ignoreThresholds(true);
    const [X, y] = makeData();
    const net = makeNet();
    const solver = new tl.Solver(
      net,
      { XTrain: X, yTrain: y, XVal: X, yVal: y },
      { updateRule: "adam", batchSize: 25, numEpochs: 100, verbose: false, seed: 5 },
    );
    try {
      for (let i = 0; i < 50; i++) solver.step();
      return { history: [...solver.lossHistory], hash: hashParams(net.params as Record<string, tl.Tensor>) };
    } finally {
      solver.dispose();
      net.dispose();
      X.dispose();
    }
  }

  const cases = {
    "FullyConnectedNet with dropout and batch norm": [
      () => new tl.FullyConnectedNet({ hiddenDims: [50, 30], inputDim: 60, numClasses: 10, dropout: 0.25, normalization: "batchnorm", reg: 1e-3, seed: 32 }),
      () => [tl.randn([100, 60], { seed: 30 }), labels(100, 10, 31)],
    ],
    "DeepConvNet with spatial batch norm": [
      () =>
        new tl.DeepConvNet({
          inputDims: [3, 8, 8],
          numFilters: [6, 8],
          maxPools: [0, 1],
          normalization: "batchnorm",
          numClasses: 10,
          weightScale: "kaiming",
          reg: 1e-3,
          seed: 35,
        }),
      () => [tl.randn([60, 3, 8, 8], { seed: 33 }), labels(60, 10, 34)],
    ],
  } as const;

  for (const [name, [makeNet, makeData]] of Object.entries(cases)) {
    it(name, async () => {
      const ref = await trainWith(1, makeNet, makeData as () => [tl.Tensor, Int32Array]);
      console.log(`${name}: 1 thread, final loss ${ref.history[49]}, weight hash ${ref.hash}`);
      for (const n of [2, 3]) {
        const got = await trainWith(n, makeNet, makeData as () => [tl.Tensor, Int32Array]);
        expect(got.history, `${name}: loss history with ${n} real threads`).toEqual(ref.history);
        expect(got.hash, `${name}: weight hash with ${n} real threads`).toBe(ref.hash);
      }
    });
  }
});
