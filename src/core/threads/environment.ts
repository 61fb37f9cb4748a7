// What this JavaScript environment offers for threads, detected without importing Node built-ins
// (the core bundle stays platform-neutral): Node's worker_threads and os come through
// process.getBuiltinModule (Node 20.16+), everywhere else the global Web Worker is used.

export const PAGE_HEADERS =
  "serve the page with the headers `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp` (then `crossOriginIsolated` is true)";

export function nodeBuiltin<T>(name: string): T | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; versions?: Record<string, string | undefined> } }).process;
  // Deno and Bun define `process` too, but use their Web Worker. Node itself is recognized by its
  // versions, not by a missing global Worker: a library (onnxruntime-web) may have put
  // worker_threads' Worker there, which is no Web Worker.
  const versions = proc?.versions;
  if (typeof versions?.node !== "string" || versions.deno !== undefined || versions.bun !== undefined) return null;
  if (typeof proc?.getBuiltinModule !== "function") return null;
  return (proc.getBuiltinModule(name) as T) ?? null;
}

/** Why threads cannot work here, or null if they can. */
export function threadsUnsupportedReason(): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean; document?: unknown; WebSocketPair?: unknown; navigator?: { userAgent?: string } };
  if (typeof SharedArrayBuffer !== "function" || typeof Atomics !== "object") {
    if (g.crossOriginIsolated === false) return `SharedArrayBuffer is unavailable because the page is not cross-origin isolated: ${PAGE_HEADERS}`;
    return "SharedArrayBuffer is unavailable in this runtime (Cloudflare Workers and other single-threaded hosts have no shared memory)";
  }
  if (g.crossOriginIsolated === false) return `the page is not cross-origin isolated: ${PAGE_HEADERS}`;
  if (typeof (globalThis as { Worker?: unknown }).Worker !== "function" && nodeBuiltin("worker_threads") === null) {
    const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
    if (proc?.versions?.node) return `this Node (${proc.versions.node}) lacks process.getBuiltinModule: threads need Node 20.16 or newer`;
    return "this runtime has no workers (no Worker, no worker_threads)";
  }
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch (error) {
    return `this engine cannot create a shared WebAssembly.Memory (${error instanceof Error ? error.message : String(error)})`;
  }
  return null;
}

/** The host's core count: os.availableParallelism() in Node, navigator.hardwareConcurrency elsewhere. */
export function coreCount(): number {
  const os = nodeBuiltin<{ availableParallelism?: () => number; cpus: () => unknown[] }>("os");
  if (os) return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === "number" && n >= 1 ? Math.floor(n) : 1;
}

/**
 * The worker script beside this module: src/core/threads/tensorlane-worker.js from source, and
 * dist/tensorlane-worker.js beside dist/tensorlane.js (rollup.config.mjs copies it). Written as
 * `new URL("...", import.meta.url)` so bundlers find and emit it; it lives in the main chunk so that
 * import.meta.url is the bundle's own address.
 */
export function defaultWorkerUrl(): URL {
  return new URL("./tensorlane-worker.js", import.meta.url);
}
