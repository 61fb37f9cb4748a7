// The seam between the split kernels and the worker pool (THREADS-INTERFACE.md).
//
// SEQUENTIAL STAND-IN (branch kernels-split): every task runs on the calling thread, in task
// order. It has exactly the exports of the real module (branch threads), which replaces this
// file at merge; the ops in src/ops/ plan their tasks against threadCount() either way.
import type { Kernels } from "../generated/kernels.js";
import { allocBytes, freeBytes, kernels } from "../runtime.js";

/** Names of the wasm exports that are functions. */
export type KernelName = { [K in keyof Kernels]: Kernels[K] extends (...a: any[]) => any ? K : never }[keyof Kernels];

let simulated: number | null = null;

/** Threads that run tasks: 1 without a pool, or the simulated count set by simulateThreads. */
export function threadCount(): number {
  return simulated ?? 1;
}

/**
 * Runs one call of the wasm export `kernel` per task (task i on thread i; here all on the calling
 * thread, in order). tasks.length must be in [1, threadCount()]. Each task is the full argument list.
 */
export function runTasks(kernel: KernelName, tasks: readonly (readonly number[])[]): void {
  const count = threadCount();
  if (tasks.length < 1 || tasks.length > count) {
    throw new RangeError(`runTasks: ${kernel} got ${tasks.length} tasks; expected 1 to ${count} (the thread count)`);
  }
  const fn = kernels()[kernel] as unknown as (...args: number[]) => unknown;
  for (const task of tasks) fn(...task);
}

let scratchPtr = 0;
let scratchStride = 0;
let scratchThreads = 0;

/**
 * Per-thread scratch: one pointer per thread (index = task index), each to at least `bytes`
 * bytes, 16-byte aligned. One region grown on demand by the calling thread and reused; the
 * pointers are valid until the next threadScratch call.
 */
export function threadScratch(bytes: number): readonly number[] {
  const threads = threadCount();
  const stride = Math.ceil(Math.max(bytes, 16) / 16) * 16;
  if (stride > scratchStride || threads > scratchThreads) {
    const newStride = Math.max(stride, scratchStride);
    const newThreads = Math.max(threads, scratchThreads);
    if (scratchPtr) freeBytes(scratchPtr);
    scratchPtr = 0;
    scratchStride = 0;
    scratchThreads = 0;
    scratchPtr = allocBytes(newStride * newThreads, "thread scratch");
    scratchStride = newStride;
    scratchThreads = newThreads;
  }
  const out: number[] = [];
  for (let t = 0; t < threads; t++) out.push(scratchPtr + t * scratchStride);
  return out;
}

/**
 * Test hook: plan and run as if there were n threads (tasks still run in order on the calling
 * thread). null ends the simulation.
 */
export function simulateThreads(n: number | null): void {
  if (n !== null && (!Number.isInteger(n) || n < 1)) throw new RangeError(`simulateThreads: n must be an integer >= 1 or null (got ${n})`);
  simulated = n;
}
