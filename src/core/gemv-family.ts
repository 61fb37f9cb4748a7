// The GEMV kernels (GEMM of fewer than 4 rows: batch 1-3 inference) are a kernel family that no
// code carries: their bytes are a chunk of their own, imported the first time a product of
// fewer than 4 rows runs. That product, and every one until the module has arrived (a few
// milliseconds later), takes the 4-row kernels instead, which give every row the same bits
// (assembly/__tests__/gemm.spec.ts checks the GEMV against them), so only the speed of those
// first calls differs. An app that never multiplies fewer than 4 rows never loads them; a page
// does not wait for them at start. The full module (init({ module }) / init({ bytes })) has them.
// The float64 module has its own GEMV kernels: float64 never needs this.
//   compiled and instantiated asynchronously: no synchronous compile, so it works where a page's
//     main thread forbids that; where compiling is refused altogether, products stay on the
//     4-row kernels (same bits) and nothing is reported
//   with worker threads running: the workers instantiate it too (Pool.addModule) before the
//     kernels are used; init({ threads }) starts workers without it, and the next use loads it
//     again (its bytes are kept)
import type { Kernels } from "../generated/kernels.js";
import { runtime } from "./runtime-state.js";
import { decodeBase64, inflate, onAbort } from "./wasm-bytes.js";

/**
 * Whether the float32 GEMV kernels are in the kernel object now. When they are not, starts
 * loading them (once for these kernels) and returns false: the caller takes the 4-row kernels.
 */
export function gemvLoaded(k: Kernels): boolean {
  if (typeof k.gemv_nn_range === "function") return true;
  const gemv = runtime.gemv;
  if (gemv.tried !== k) {
    gemv.tried = k;
    // Refused (compiling forbidden, a broken pool): products stay on the 4-row kernels, same bits.
    gemv.loading = loadGemv(k).catch(() => undefined);
  }
  return false;
}

/**
 * init() started workers over the running kernel object: they lack a GEMV module loaded on first
 * use, so its kernels leave the object and the next use loads them again, for the workers too.
 */
export function dropGemv(k: Kernels): void {
  const gemv = runtime.gemv;
  for (const name of gemv.names) delete (k as unknown as Record<string, unknown>)[name];
  gemv.names = [];
  gemv.tried = null;
}

/** The chunk's bytes, inflated once, instantiated over the running memory, joined to `k` (and to the workers). */
async function loadGemv(k: Kernels): Promise<void> {
  const gemv = runtime.gemv;
  gemv.bytes ??= await inflate(decodeBase64((await import("../generated/wasm-gemv-base64.js")).WASM_GEMV_DEFLATE_BASE64));
  const shared = typeof SharedArrayBuffer === "function" && k.memory.buffer instanceof SharedArrayBuffer;
  const bytes = shared ? runtime.sharedVariant!(gemv.bytes) : gemv.bytes;
  const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  const instance = await WebAssembly.instantiate(module, { env: { memory: k.memory, abort: onAbort } });
  // init() replaced the kernels or the workers meanwhile: the next use loads it for those.
  if (runtime.kernels !== k || gemv.tried !== k) return;
  const names = WebAssembly.Module.exports(module)
    .filter((e) => e.kind === "function")
    .map((e) => e.name);
  const pool = runtime.pool;
  if (pool !== null) {
    if (pool.broken !== null) return;
    // The workers read the bytes from the shared memory, inside a call they all run.
    const ptr = k.alloc(bytes.length) >>> 0;
    try {
      new Uint8Array(k.memory.buffer).set(bytes, ptr);
      pool.addModule(ptr, bytes.length, "gemv");
    } finally {
      k.free(ptr);
    }
    for (const name of names) runtime.poolKernels.set(name, runtime.poolKernels.size);
  }
  const target = k as unknown as Record<string, unknown>;
  for (const name of names) target[name] = instance.exports[name];
  gemv.names = names;
}

/**
 * @internal Loads the GEMV kernels now, after init(), and says whether they are in (tests and
 * benchmarks that mean to run them from the first call).
 */
export async function gemvReady(): Promise<boolean> {
  const k = runtime.kernels;
  if (k === null) return false;
  gemvLoaded(k);
  await runtime.gemv.loading;
  return typeof runtime.kernels?.gemv_nn_range === "function";
}
