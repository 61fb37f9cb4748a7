// Starting workers: Node's worker_threads (through process.getBuiltinModule) or the Web Worker API
// (browsers, Deno, Bun). Part of the lazily loaded threads chunk.
import type { PoolMessage, WorkerHandle, WorkerHost } from "./pool.js";

interface NodeWorker {
  on(event: string, listener: (value: never) => void): void;
  postMessage(message: unknown): void;
  terminate(): Promise<number>;
  unref(): void;
  ref(): void;
}

type NodeWorkerThreads = { Worker: new (url: URL, options: { name?: string; execArgv?: string[] }) => NodeWorker };

/** False where Atomics.wait is forbidden (a page's main thread): the caller then spins instead. */
export function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts workers with Node's worker_threads or the Web Worker API, whichever exists. */
export function workerHost(builtin: <T>(name: string) => T | null): WorkerHost {
  const threads = builtin<NodeWorkerThreads>("worker_threads");
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
