// Turning threads on and off: the `threads` option of init(), runtimeInfo() and dispose().
import { runtime } from "../runtime-state.js";
import { currentPool, setPool } from "./state.js";
import { coreCount, threadsUnsupportedReason } from "./environment.js";

/** What init({ threads }) decided. */
export interface ThreadPlan {
  count: number;
  /** Why fewer threads than asked for ("auto" where threads cannot work), else null. */
  reason: string | null;
}

/** Checks the `threads` option: an integer >= 1 or "auto". */
export function checkThreadsOption(value: unknown): number | "auto" {
  if (value === "auto") return value;
  if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 256) return value;
  throw new TypeError(`init: threads must be an integer from 1 to 256 or "auto" (got ${typeof value === "string" ? JSON.stringify(value) : String(value)})`);
}

/** The thread count for a request; throws where an explicit count above 1 cannot work. */
export function planThreads(request: number | "auto"): ThreadPlan {
  if (request === 1) return { count: 1, reason: null };
  const unsupported = threadsUnsupportedReason();
  if (request === "auto") {
    if (unsupported !== null) return { count: 1, reason: unsupported };
    const cores = Math.min(coreCount(), 256);
    return { count: cores, reason: cores === 1 ? "the host reports 1 core" : null };
  }
  if (unsupported !== null) {
    throw new Error(`init: threads: ${request} cannot work here: ${unsupported}. Use threads: "auto" to fall back to 1 thread where threads are unavailable.`);
  }
  return { count: request, reason: null };
}

/** @internal Records why init gave fewer threads than asked for (null: it did not). */
export function setThreadReason(reason: string | null): void {
  runtime.threadReason = reason;
}

/** Ends the worker threads, if any (the library carries on with 1 thread). */
export function stopPool(): void {
  const pool = currentPool();
  if (pool) {
    setPool(null);
    pool.dispose();
  }
}

/** What the running library uses. */
export interface RuntimeInfo {
  /** Threads that run kernels (1: the calling thread only). */
  threads: number;
  /** Whether wasm memory is a shared WebAssembly.Memory (true once threads were turned on). */
  sharedMemory: boolean;
  /** The SIMD instruction set the kernels use. */
  simd: "simd128";
  /** Cores the host reports (os.availableParallelism() or navigator.hardwareConcurrency). */
  cores: number;
  /**
   * How the calling thread waits for workers: "atomics" (Atomics.wait after a short spin) or "spin"
   * (a page's main thread, where Atomics.wait is forbidden); null without workers.
   */
  wait: "atomics" | "spin" | null;
  /** Why threads are off or fewer than asked for, or null. */
  reason: string | null;
  /** Whether the float64 kernels are loaded (init({ float64: true })). */
  float64: boolean;
}

/** @internal */
export function threadsInfo(sharedMemory: boolean): Omit<RuntimeInfo, "float64"> {
  const pool = currentPool();
  const threads = pool && !pool.broken ? pool.count : 1;
  let reason = runtime.threadReason;
  if (pool?.broken) reason = `a worker died (${pool.broken}); call \`await tl.init({ threads: n })\` to restart the workers`;
  else if (pool === null && reason === null && threads === 1)
    reason = threadsUnsupportedReason() ?? 'threads were not requested (init({ threads: n | "auto" }) turns them on)';
  return {
    threads,
    sharedMemory,
    simd: "simd128",
    cores: coreCount(),
    wait: pool && !pool.broken ? (pool.canBlock ? "atomics" : "spin") : null,
    reason,
  };
}
