// Turning threads on (the lazily loaded chunk): the shared-memory instance of the kernels, with the
// running heap moved into it if there is one, and a worker pool over it.
// It imports nothing from the main bundle (what it needs comes in `StartThreads`), so the entry
// dist/tensorlane.js exports exactly the public API.
import type { Kernels } from "../../generated/kernels.js";
import type { SharedModule } from "../runtime-state.js";
import { Pool } from "./pool.js";
import { sharedMemoryVariant, WASM_PAGE_BYTES } from "./shared-module.js";
import { canBlock, workerHost } from "./workers.js";

/** The largest shared memory: 4 GiB, the wasm32 limit (the single-thread memory grows to it too). */
const SHARED_MAXIMUM_PAGES = 65536;

/** A kernel module every worker instantiates over the shared memory. */
export interface ModuleSource {
  /** Its shared-memory variant's key in `shared`: "core", a family's name, "f64". */
  key: string;
  /** Its bytes (the single-thread form). */
  bytes: Uint8Array;
  /** What the pool's kernel list puts before its names ("", or state.ts F64_PREFIX). */
  prefix: string;
}

export interface StartThreads {
  count: number;
  /** The kernel modules, the core first (it owns the memory; the others import it). */
  modules: readonly ModuleSource[];
  /** The shared-memory variants compiled so far (the runtime state's): filled in here, reused by later starts. */
  shared: Map<string, SharedModule>;
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

/** A module's bytes rewritten to import the shared memory (for a kernel family loaded later). */
const sharedVariant = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => sharedMemoryVariant(bytes, SHARED_MAXIMUM_PAGES).bytes;

/**
 * Starts `count - 1` workers; returns the kernels to use from now on (shared memory): the core's,
 * and the exports of the other modules' instances over the same memory, in order.
 */
export async function startThreads(
  o: StartThreads,
): Promise<{ kernels: Kernels; exports: WebAssembly.Exports[]; sharedVariant: (bytes: Uint8Array) => Uint8Array<ArrayBuffer> }> {
  let kernels = o.current;
  const shared = o.shared;
  const variant = async (source: ModuleSource): Promise<SharedModule> => {
    let compiled = shared.get(source.key);
    if (compiled === undefined) {
      const bytes = sharedVariant(source.bytes);
      compiled = { module: await o.compile(bytes), bytes };
      shared.set(source.key, compiled);
    }
    return compiled;
  };
  if (!kernels || !(kernels.memory.buffer instanceof SharedArrayBuffer)) {
    const core = sharedMemoryVariant(o.modules[0].bytes, SHARED_MAXIMUM_PAGES);
    shared.set(o.modules[0].key, { module: await o.compile(core.bytes), bytes: core.bytes });
    kernels = await moveHeap(o, shared.get(o.modules[0].key)!.module, core.limits.initial);
  }
  const compiled = [await variant(o.modules[0])];
  const exports: WebAssembly.Exports[] = [];
  for (const source of o.modules.slice(1)) {
    const module = await variant(source);
    compiled.push(module);
    exports.push((await WebAssembly.instantiate(module.module, { env: { abort: o.abort, memory: kernels!.memory } })).exports);
  }
  const functionNames = (module: WebAssembly.Module, prefix: string) =>
    WebAssembly.Module.exports(module)
      .filter((e) => e.kind === "function")
      .map((e) => prefix + e.name);
  const modules = compiled.map((m, i) => ({ ...m, names: functionNames(m.module, o.modules[i].prefix) }));
  const pool = await Pool.start({
    count: o.count,
    memory: kernels!.memory,
    modules,
    workerUrl: o.workerUrl,
    host: workerHost(o.builtin),
    canBlock: canBlock(),
  });
  o.install(
    pool,
    modules.flatMap((m) => m.names),
  );
  return { kernels: kernels!, exports, sharedVariant };
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
