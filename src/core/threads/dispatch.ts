// The seam between the worker pool and the split kernels: how many threads run tasks, running one
// kernel call per thread (runTasks) or ranges taken by whichever thread is free (runChunks), and
// per-thread scratch.
import type { DType } from "../dtype.js";
import type { RealKernels } from "../../generated/kernels.js";
import { sharedBlocks } from "../blocks.js";
import { realKernels } from "../runtime.js";
import { runtime } from "../runtime-state.js";
import { currentPool, F64_PREFIX, kernelIndexOf } from "./state.js";

export { currentPool };

/** Names of the floating-point kernels: both modules, float32 and float64, export every one. */
export type KernelName = keyof RealKernels;

/** The wasm function `kernel` of the module for dtype, and its index in the pool's list. */
function resolve(fn: string, dtype: DType, kernel: KernelName): [(...args: number[]) => unknown, string] {
  const f = (realKernels(dtype, fn) as unknown as Record<string, unknown>)[kernel] as (...args: number[]) => unknown;
  if (typeof f !== "function") throw new TypeError(`${fn}: kernel must name a wasm function export (got ${String(kernel)})`);
  return [f, dtype === "float64" ? F64_PREFIX + kernel : kernel];
}

/**
 * Threads that run tasks: 1 without a pool; the pool size (calling thread included) with one;
 * or the simulated count set by simulateThreads. A pool whose worker died counts as 1 thread
 * (the library carries on single-threaded until the next init({ threads })).
 */
export function threadCount(): number {
  if (runtime.simulatedThreads !== null) return runtime.simulatedThreads;
  const pool = currentPool();
  if (pool === null) return 1;
  if (pool.broken !== null) {
    if (runtime.warnedBroken !== pool) {
      runtime.warnedBroken = pool;
      console.warn(`tensorlane: the worker pool stopped (${pool.broken}); running on 1 thread until \`await tl.init({ threads: n })\``);
    }
    return 1;
  }
  return pool.count;
}

/**
 * Runs one call of the wasm export `kernel` of dtype's module per task, task i on thread i (task 0 on the calling
 * thread, which takes part), and returns when all are done. tasks.length must be in
 * [1, threadCount()]. Each task is the full argument list (numbers only: pointers, sizes,
 * 0/1 flags). With one task it is a plain call on the calling thread (no dispatch cost).
 * A worker that fails makes this throw a clear Error (and the pool is marked broken).
 */
export let runTasks = runTasksNow;

function runTasksNow(dtype: DType, kernel: KernelName, tasks: readonly (readonly number[])[]): void {
  const [fn, poolName] = resolve("runTasks", dtype, kernel);
  const n = tasks.length;
  if (n === 1) {
    fn(...tasks[0]);
    return;
  }
  const threads = threadCount();
  if (!Number.isInteger(n) || n < 1 || n > threads) {
    throw new RangeError(`runTasks: tasks.length must be between 1 and threadCount() = ${threads} (got ${n})`);
  }
  const pool = currentPool();
  if (runtime.simulatedThreads !== null || pool === null) {
    for (const task of tasks) fn(...task);
    return;
  }
  const index = kernelIndexOf(poolName);
  if (index === undefined) throw new TypeError(`runTasks: the worker pool does not know the kernel ${poolName}`);
  pool.run(index, poolName, fn, tasks);
}

/**
 * Runs `kernel` (of dtype's module) once per range of `ranges`, on whichever thread is free: each call gets `args`
 * with the range's [start, end) at `rangeArg` and `rangeArg + 1`, and with the running thread's
 * own `work[thread]` at `workArg` (-1: none). Up to `threads` threads take part (calling thread
 * included). The ranges must be independent: a range's result may not depend on which thread
 * runs it or on the order, because both vary from call to call. With one thread (or while
 * simulating threads) the ranges run in order on the calling thread.
 */
export let runChunks = runChunksNow;

function runChunksNow(
  dtype: DType,
  kernel: KernelName,
  args: readonly number[],
  rangeArg: number,
  ranges: readonly (readonly [number, number])[],
  threads: number,
  workArg = -1,
  work: readonly number[] = [],
): void {
  const [fn, poolName] = resolve("runChunks", dtype, kernel);
  if (!Number.isInteger(rangeArg) || rangeArg < 0 || rangeArg + 1 >= args.length)
    throw new RangeError(`runChunks: rangeArg must index a pair inside args (got ${rangeArg})`);
  const count = Math.max(1, Math.min(threads, threadCount(), ranges.length));
  if (workArg >= 0 && work.length < count) throw new RangeError(`runChunks: work must hold a pointer per thread (${count}), got ${work.length}`);
  const perThread = Array.from({ length: count }, (_, t) => {
    const call = args.slice();
    if (workArg >= 0) call[workArg] = work[t];
    return call;
  });
  const pool = currentPool();
  if (count === 1 || runtime.simulatedThreads !== null || pool === null) {
    const call = perThread[0];
    for (const [start, end] of ranges) {
      call[rangeArg] = start;
      call[rangeArg + 1] = end;
      fn(...call);
    }
    return;
  }
  const index = kernelIndexOf(poolName);
  if (index === undefined) throw new TypeError(`runChunks: the worker pool does not know the kernel ${poolName}`);
  pool.runChunks(index, poolName, fn, perThread, rangeArg, ranges);
}

/**
 * Per-thread scratch: one pointer per thread (index = thread = task index), each to at least
 * `bytes` bytes, 16-byte aligned, in wasm memory: one block of the shared scratch, grown on demand
 * by the calling (main) thread, then reused; valid until the next threadScratch call.
 */
export function threadScratch(bytes: number): readonly number[] {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`threadScratch: bytes must be a non-negative integer (got ${bytes})`);
  const threads = threadCount();
  const stride = Math.max(16, Math.ceil(bytes / 64) * 64); // 64: threads never share a cache line
  const scratch = sharedBlocks();
  const base = scratch.block("thread work", stride * threads, { what: "threadScratch" });
  // A block kept from a larger request gives each thread its whole share (the same pointers as then).
  const share = Math.floor(scratch.held("thread work") / threads / 64) * 64;
  return Array.from({ length: threads }, (_, i) => base + i * share);
}

/**
 * Sees a call of runTasks or runChunks: the kernel, the first task's arguments (runChunks: the
 * shared argument list), the task count, and `run`, which the trace must call once to run it.
 */
export type KernelTrace = (kernel: string, args: readonly number[], tasks: number, run: () => void) => void;

/**
 * Bench hook (exported from the module, not from the public index): `trace` wraps every runTasks
 * and runChunks call from now on (it must call `run` once), e.g. to time each kernel and shape of
 * a training step; null removes it. It swaps the two exported bindings, so an app that never
 * traces carries none of it. Kernels called directly on one thread (the conv kernels' one-task
 * paths) pass by it: trace with 2 or more threads to see every layer.
 */
export function traceKernels(trace: KernelTrace | null): void {
  if (trace !== null && typeof trace !== "function") throw new TypeError("traceKernels: trace must be a function or null");
  if (trace === null) {
    runTasks = runTasksNow;
    runChunks = runChunksNow;
    return;
  }
  runTasks = (dtype, kernel, tasks) => trace(kernel, tasks[0] ?? [], tasks.length, () => runTasksNow(dtype, kernel, tasks));
  // The thread count as runChunksNow computes it (not a shared helper: one more function in the
  // dispatch path cost the smallest app its 20.0 KB budget).
  runChunks = (dtype, kernel, args, rangeArg, ranges, threads, workArg, work) =>
    trace(kernel, args, Math.max(1, Math.min(threads, threadCount(), ranges.length)), () =>
      runChunksNow(dtype, kernel, args, rangeArg, ranges, threads, workArg, work),
    );
}

/**
 * Test hook (exported from the module, not from the public index): plan and run as if there were
 * n threads, executing every task sequentially on the calling thread, in task order. n = null
 * ends the simulation. Lets tests check the same-bits property for 1..16 threads on any machine.
 */
export function simulateThreads(n: number | null): void {
  if (n !== null && (!Number.isInteger(n) || n < 1 || n > 256)) throw new RangeError(`simulateThreads: n must be an integer in [1, 256] or null (got ${n})`);
  runtime.simulatedThreads = n;
}
