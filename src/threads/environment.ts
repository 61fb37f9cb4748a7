// What this JavaScript environment offers for threads, detected without importing Node built-ins
// (the core bundle stays platform-neutral): Node's worker_threads come through
// process.getBuiltinModule (Node 20.16+), everywhere else the global Web Worker is used.
import type { PoolMessage, WorkerHandle, WorkerHost } from "./pool.js";

export const PAGE_HEADERS =
  "serve the page with the headers `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp` (then `crossOriginIsolated` is true)";

interface NodeWorker {
  on(event: string, listener: (value: never) => void): void;
  postMessage(message: unknown): void;
  terminate(): Promise<number>;
  unref(): void;
  ref(): void;
}

type NodeWorkerThreads = { Worker: new (url: URL, options: { name?: string; execArgv?: string[] }) => NodeWorker };

function nodeBuiltin<T>(name: string): T | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; versions?: { node?: string } } }).process;
  // Deno and Bun define `process` too, but use their Web Worker.
  if (typeof (globalThis as { Worker?: unknown }).Worker === "function") return null;
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
  if (typeof (globalThis as { Worker?: unknown }).Worker !== "function" && nodeBuiltin("node:worker_threads") === null) {
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

/** False where Atomics.wait is forbidden (a page's main thread): the caller then spins instead. */
export function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** The host's core count: os.availableParallelism() in Node, navigator.hardwareConcurrency elsewhere. */
export function coreCount(): number {
  const os = nodeBuiltin<{ availableParallelism?: () => number; cpus: () => unknown[] }>("node:os");
  if (os) return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === "number" && n >= 1 ? Math.floor(n) : 1;
}

/** Starts workers with Node's worker_threads or the Web Worker API, whichever exists. */
export function workerHost(): WorkerHost {
  const threads = nodeBuiltin<NodeWorkerThreads>("node:worker_threads");
  if (threads) {
    return {
      start(url, onMessage, onError): WorkerHandle {
        // execArgv []: the worker script needs no Node options, and some of the parent's break a
        // worker (`node --input-type=module -e ...` passes --input-type on to it).
        const worker = new threads.Worker(url instanceof URL ? url : new URL(url), { name: "tensorlane supervisor", execArgv: [] });
        worker.on("message", (m: PoolMessage) => onMessage(m));
        worker.on("error", (e: Error) => onError(e.message));
        worker.on("exit", (code: number) => onError(`exited with code ${code}`));
        return {
          postMessage: (m) => worker.postMessage(m),
          terminate: () => void worker.terminate(),
          unref: () => worker.unref(),
          ref: () => worker.ref(),
        };
      },
    };
  }
  return {
    start(url, onMessage, onError): WorkerHandle {
      const worker = new Worker(url, { type: "module", name: "tensorlane supervisor" });
      worker.addEventListener("message", (e: MessageEvent<PoolMessage>) => onMessage(e.data));
      worker.addEventListener("error", (e: ErrorEvent) => {
        e.preventDefault();
        onError(e.message || "could not load the worker script (is dist/tensorlane-worker.js served beside the bundle?)");
      });
      return {
        postMessage: (m) => worker.postMessage(m),
        terminate: () => worker.terminate(),
        unref: () => (worker as unknown as { unref?: () => void }).unref?.(), // Bun and Deno have it
        ref: () => (worker as unknown as { ref?: () => void }).ref?.(),
      };
    },
  };
}

/**
 * The worker script beside this module: src/threads/tensorlane-worker.js from source, and
 * dist/tensorlane-worker.js beside dist/tensorlane.js (rollup.config.mjs copies it). Written as
 * `new URL("...", import.meta.url)` so bundlers find and emit it.
 */
export function defaultWorkerUrl(): URL {
  return new URL("./tensorlane-worker.js", import.meta.url);
}
