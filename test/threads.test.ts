// The worker pool: start/stop, runTasks on real kernels over 1, 2 and 3 threads, scratch,
// init/runtimeInfo errors and fallback, a worker killed mid-call, growth seen by workers.
import { afterAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { f32, kernels } from "../src/runtime.js";
import { runTasks, simulateThreads, threadCount, threadScratch, currentPool } from "../src/threads/dispatch.js";

afterAll(() => tl.dispose());

/** Splits [0, n) into `parts` contiguous ranges. */
function ranges(n: number, parts: number): [number, number][] {
  return Array.from({ length: parts }, (_, i) => [Math.floor((n * i) / parts), Math.floor((n * (i + 1)) / parts)] as [number, number]);
}

describe("threads", () => {
  it("starts 2 workers-threads and runs f32_fill / f32_relu over ranges on 1, 2 and 3 threads", async () => {
    await tl.init({ threads: 3 });
    expect(threadCount()).toBe(3);
    const info = tl.runtimeInfo();
    expect(info).toMatchObject({ threads: 3, sharedMemory: true, simd: "simd128", wait: "atomics", reason: null });
    const n = 100_003;
    const x = tl.randn([n], { seed: 7 });
    const y = tl.zeros([n]);
    const expected = x.toArray().map((v) => (v > 0 ? v : 0));
    for (const parts of [1, 2, 3]) {
      runTasks("f32_fill", ranges(n, parts).map(([a, b]) => [y.ptr + a * 4, b - a, -1]));
      expect(y.toArray().every((v) => v === -1), `fill on ${parts} threads`).toBe(true);
      runTasks("f32_relu", ranges(n, parts).map(([a, b]) => [y.ptr + a * 4, x.ptr + a * 4, b - a]));
      expect(y.toArray()).toEqual(expected);
    }
    x.dispose();
    y.dispose();
  });
});
