// Turning threads on and off: the `threads` option of init(), runtimeInfo() and dispose().
import { currentPool, setPool } from "./state.js";
import { canBlock, coreCount, defaultWorkerUrl, threadsUnsupportedReason, workerHost } from "./environment.js";
import { Pool } from "./pool.js";

/** What init({ threads }) decided. */
export interface ThreadPlan {
  count: number;
  /** Why fewer threads than asked for ("auto" where threads cannot work), else null. */
  reason: string | null;
}

let lastReason: string | null = null;
let blocking: boolean | null = null;

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
    const cores = coreCount();
    return { count: cores, reason: cores === 1 ? "the host reports 1 core" : null };
  }
  if (unsupported !== null) {
    throw new Error(`init: threads: ${request} cannot work here: ${unsupported}. Use threads: "auto" to fall back to 1 thread where threads are unavailable.`);
  }
  return { count: request, reason: null };
}

/** Stops the pool (if any) and starts one with plan.count threads over `memory` (if > 1). */
export async function applyThreads(
  plan: ThreadPlan,
  memory: WebAssembly.Memory,
  module: WebAssembly.Module | null,
  bytes: Uint8Array | null,
  workerUrl: string | URL | undefined,
): Promise<void> {
  stopPool();
  lastReason = plan.reason;
  if (plan.count === 1) return;
  if (module === null || bytes === null) throw new Error("init: threads need the kernel module's bytes (internal error)");
  blocking ??= canBlock();
  const names = WebAssembly.Module.exports(module)
    .filter((e) => e.kind === "function")
    .map((e) => e.name);
  let url: URL | string;
  try {
    url = workerUrl ?? defaultWorkerUrl();
  } catch (error) {
    throw new Error(
      "init: cannot locate tensorlane-worker.js beside the bundle (no import.meta.url here); pass its address: init({ threads, workerUrl })",
      { cause: error },
    );
  }
  const pool = await Pool.start({ count: plan.count, memory, module, bytes, names, workerUrl: url, host: workerHost(), canBlock: blocking });
  setPool(pool, names);
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
}

/** @internal */
export function threadsInfo(sharedMemory: boolean): RuntimeInfo {
  const pool = currentPool();
  const threads = pool && !pool.broken ? pool.count : 1;
  let reason = lastReason;
  if (pool?.broken) reason = `a worker died (${pool.broken}); call \`await tl.init({ threads: n })\` to restart the workers`;
  else if (pool === null && reason === null && threads === 1) reason = threadsUnsupportedReason() ?? "threads were not requested (init({ threads: n | \"auto\" }) turns them on)";
  return {
    threads,
    sharedMemory,
    simd: "simd128",
    cores: coreCount(),
    wait: pool && !pool.broken ? (blocking ? "atomics" : "spin") : null,
    reason,
  };
}
