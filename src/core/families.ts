// Kernel families: the float32 kernels beyond the core (conv, batch norm, pooling, ...), each in a
// wasm module of its own over the core's memory, carried by the code that calls them. A family's
// descriptor (kernel-families.ts) is made by a call marked pure: a bundle whose code never uses
// the descriptor drops it and its bytes; one that does keeps it, and evaluating it registers the
// family here. The code calls useFamily(descriptor) before the family's kernels.
//   registered before init():  init() instantiates it beside the core (compiled asynchronously).
//   registered after init() (a chunk imported later; dist/tensorlane.js is one module, so that
//     needs an app bundled from the sources): its first use instantiates it synchronously
//     (inflateSync, new WebAssembly.Module). Where the host forbids that (Cloudflare Workers; a
//     page's main thread, for modules over 4 KB) the error says what works: import the code before
//     init(), call `await tl.init()` once after importing it (init loads it), or pass init({ module }).
//   with worker threads running: a late family reaches the workers too, synchronously, before
//     its first use returns (Pool.addModule); init() restarts workers with every loaded family.
//   init({ module }) / init({ bytes }): the full module (tensorlane/wasm) holds every family's
//     kernels, so no family is loaded and useFamily does nothing.
import { inflateSync } from "./inflate.js";
import { runtime, type FamilyLoader, type KernelFamily } from "./runtime-state.js";
import { compileBytes, compilingForbidden, decodeBase64, onAbort } from "./wasm-bytes.js";

export type { KernelFamily };

/** Registers a kernel family; called (marked pure) where its descriptor is made. */
export function kernelFamily(name: string, base64: string): KernelFamily {
  const family: KernelFamily = { name, base64 };
  runtime.families.registered.push(family);
  runtime.families.loader = LOADER;
  return family;
}

// Reached only through kernelFamily: a bundle without families drops this file's code and the inflater.
const LOADER: FamilyLoader = { load: loadFamilies, bytes: familyBytes, add: addExports };

/**
 * Makes sure the family's kernels are loaded before a caller uses them: a no-op once they are
 * (and before init(), where using a kernel throws the not-initialized error).
 */
export function useFamily(family: KernelFamily): void {
  const f = runtime.families;
  if (runtime.kernels === null || f.full || f.loaded.has(family)) return;
  loadNow(family);
}

/** The registered families whose kernels are not loaded (none when the full module runs). */
function pendingFamilies(): KernelFamily[] {
  const f = runtime.families;
  return f.full ? [] : f.registered.filter((family) => !f.loaded.has(family));
}

/** A family's module bytes (the single-thread form), inflated once (with the core's bytes as the dictionary). */
function familyBytes(family: KernelFamily): Uint8Array {
  let bytes = runtime.families.bytes.get(family);
  if (bytes === undefined) runtime.families.bytes.set(family, (bytes = inflateSync(decodeBase64(family.base64), runtime.coreBytes!)));
  return bytes;
}

/** Instantiates the pending families over the running memory, compiled asynchronously (init() without threads). */
async function loadFamilies(): Promise<void> {
  for (let family = pendingFamilies()[0]; family !== undefined; family = pendingFamilies()[0]) {
    const bytes = forMemory(familyBytes(family));
    const module = await compileBytes(bytes as Uint8Array<ArrayBuffer>);
    attach(family, module, (await WebAssembly.instantiate(module, imports())).exports, bytes);
  }
}

/** Puts a family's exports (over the running memory) into the kernel object, and marks it loaded. */
function addExports(family: KernelFamily, exports: WebAssembly.Exports): void {
  const k = runtime.kernels as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(exports)) if (typeof value === "function") k[name] = value;
  runtime.families.loaded.add(family);
}

/** A family first used after init(): inflated, compiled and instantiated synchronously. */
function loadNow(family: KernelFamily): void {
  let module: WebAssembly.Module;
  let bytes: Uint8Array;
  let exports: WebAssembly.Exports;
  try {
    bytes = forMemory(familyBytes(family));
    module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    exports = new WebAssembly.Instance(module, imports()).exports;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const refused = compilingForbidden(error) !== null || error instanceof RangeError;
    throw new Error(
      `tensorlane: the ${family.name} kernels are first needed after init() (the code that uses them was imported later), ` +
        (refused ? `and this runtime does not compile WebAssembly synchronously (${message}). ` : `and loading them failed (${message}). `) +
        "Import that code before calling init(), or call `await tl.init()` once after importing it (it loads them), " +
        "or pass init({ module }) with tensorlane/wasm, which holds every kernel",
      { cause: error },
    );
  }
  attach(family, module, exports, bytes);
}

/** The family's exports join the kernel object, and the workers' lists when a pool runs. */
function attach(family: KernelFamily, module: WebAssembly.Module, exports: WebAssembly.Exports, bytes: Uint8Array): void {
  const pool = runtime.pool;
  if (pool !== null && pool.broken === null) {
    const k = runtime.kernels!;
    // The workers read the bytes from the shared memory, inside a call they all run.
    const ptr = k.alloc(bytes.length) >>> 0;
    try {
      new Uint8Array(k.memory.buffer).set(bytes, ptr);
      pool.addModule(ptr, bytes.length, family.name);
    } finally {
      k.free(ptr);
    }
    for (const e of WebAssembly.Module.exports(module)) if (e.kind === "function") runtime.poolKernels.set(e.name, runtime.poolKernels.size);
  }
  addExports(family, exports);
}

/** The module's bytes as the running memory needs them: importing it shared once threads made it so. */
function forMemory(bytes: Uint8Array): Uint8Array {
  const k = runtime.kernels!;
  const shared = typeof SharedArrayBuffer === "function" && k.memory.buffer instanceof SharedArrayBuffer;
  return shared ? runtime.sharedVariant!(bytes) : bytes;
}

function imports(): WebAssembly.Imports {
  return { env: { memory: runtime.kernels!.memory, abort: onAbort } };
}
