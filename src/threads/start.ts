// Turning threads on (the lazily loaded chunk): the shared-memory instance of the kernels, with the
// running heap moved into it if there is one, and a worker pool over it.
// It imports nothing from the main bundle (what it needs comes in `StartThreads`), so the entry
// dist/tensorlane.js exports exactly the public API.
import type { Kernels } from "../generated/kernels.js";
import type { SharedModule } from "../runtime-state.js";
import { Pool } from "./pool.js";
import { sharedMemoryVariant, WASM_PAGE_BYTES } from "./shared-module.js";
import { canBlock, workerHost } from "./workers.js";

/** The largest shared memory: 4 GiB, the wasm32 limit (the single-thread memory grows to it too). */
const SHARED_MAXIMUM_PAGES = 65536;

export interface StartThreads {
  count: number;
  /** The kernel module's bytes (the single-thread build). */
  bytes: Uint8Array;
  /** The float64 module's bytes when float64 is on (it then runs on the workers too), else null. */
  f64Bytes: Uint8Array | null;
  /** What the pool's kernel list puts before the float64 module's names (state.ts F64_PREFIX). */
  f64Prefix: string;
  /** The shared-memory variants compiled so far (the runtime state's): filled in here, reused by later starts. */
  shared: { core: SharedModule | null; f64: SharedModule | null };
  /** The running kernels, or null before the first init. */
  current: Kernels | null;
  workerUrl: string | URL;
  compile(bytes: Uint8Array<ArrayBuffer>): Promise<WebAssembly.Module>;
  check(exports: WebAssembly.Exports): Kernels;
  abort(...args: number[]): never;
  /** Installs the started pool (state.ts setPool). */
  install(pool: Pool, names: readonly string[]): void;
  /** process.getBuiltinModule, where it exists (environment.ts nodeBuiltin). */
  builtin<T>(name: string): T | null;
}

/**
 * Starts `count - 1` workers; returns the kernels to use from now on (shared memory): the core's,
 * and the float64 module's instance over the same memory when o.f64Bytes is given.
 */
export async function startThreads(o: StartThreads): Promise<{ kernels: Kernels; f64: WebAssembly.Exports | null }> {
  let kernels = o.current;
  let f64: WebAssembly.Exports | null = null;
  const moved = !kernels || !(kernels.memory.buffer instanceof SharedArrayBuffer);
  const shared = o.shared;
  if (moved) {
    const variant = sharedMemoryVariant(o.bytes, SHARED_MAXIMUM_PAGES);
    shared.core = { module: await o.compile(variant.bytes), bytes: variant.bytes };
    kernels = await moveHeap(o, shared.core.module, variant.limits.initial);
  }
  if (o.f64Bytes !== null) {
    if (shared.f64 === null) {
      const variant = sharedMemoryVariant(o.f64Bytes, SHARED_MAXIMUM_PAGES);
      shared.f64 = { module: await o.compile(variant.bytes), bytes: variant.bytes };
    }
    f64 = (await WebAssembly.instantiate(shared.f64.module, { env: { abort: o.abort, memory: kernels!.memory } })).exports;
  }
  const functionNames = (module: WebAssembly.Module, prefix: string) =>
    WebAssembly.Module.exports(module).filter((e) => e.kind === "function").map((e) => prefix + e.name);
  const modules = [{ ...shared.core!, names: functionNames(shared.core!.module, "") }];
  if (o.f64Bytes !== null) modules.push({ ...shared.f64!, names: functionNames(shared.f64!.module, o.f64Prefix) });
  const pool = await Pool.start({
    count: o.count,
    memory: kernels!.memory,
    modules,
    workerUrl: o.workerUrl,
    host: workerHost(o.builtin),
    canBlock: canBlock(),
  });
  o.install(pool, modules.flatMap((m) => m.names));
  return { kernels: kernels!, f64 };
}

/**
 * Instantiates the shared-memory module. If a single-thread instance already runs, its heap moves
 * into the shared memory at the same addresses, so every tensor stays valid.
 */
async function moveHeap(o: StartThreads, module: WebAssembly.Module, initialPages: number): Promise<Kernels> {
  const old = o.current;
  const oldBytes = old ? old.memory.buffer.byteLength : 0;
  const initial = Math.max(initialPages, oldBytes / WASM_PAGE_BYTES);
  const memory = sharedMemory(initial);
  const next = o.check((await WebAssembly.instantiate(module, { env: { abort: o.abort, memory } })).exports);
  if (old && old.heap_root() !== 0) {
    // Let the new allocator set itself up (its root lands at the same fixed address), then give it
    // the old heap's bytes, root included.
    next.free(next.alloc(16));
    if (next.heap_root() !== old.heap_root()) throw new Error("init: could not move the heap into shared memory (allocator roots differ)");
    new Uint8Array(memory.buffer).set(new Uint8Array(old.memory.buffer));
  }
  return next;
}

/**
 * A shared memory reserves its maximum up front: 4 GiB where the engine can, else 1 GiB or
 * 256 MiB (e.g. mobile browsers with little address space). The module imports "at most 4 GiB".
 */
function sharedMemory(initial: number): WebAssembly.Memory {
  let failure: unknown;
  for (const maximum of [SHARED_MAXIMUM_PAGES, 16384, 4096]) {
    if (maximum < initial) break;
    try {
      return new WebAssembly.Memory({ initial, maximum, shared: true });
    } catch (error) {
      failure = error;
    }
  }
  throw new Error(`init: could not reserve a shared WebAssembly.Memory (${failure instanceof Error ? failure.message : String(failure)})`, { cause: failure });
}
