// Loading the wasm kernels and the views over their memory.
//
// The float32 kernels come as a core module (memory, allocator, what every app needs) and kernel
// families over its memory, each carried by the code that uses it (families.ts); or as the full
// module given to init({ module }) / init({ bytes }). They are instantiated once (init is
// idempotent; a later call loads families imported since). Typed-array views over wasm memory are
// never stored by callers: f32()/f64()/i32()/u8() re-derive them whenever memory has grown, because
// growth detaches every existing view of a plain memory, and a shared memory (threads) hands out a
// new, longer SharedArrayBuffer while old views keep their old length (hence the length check too).
import type { DType } from "./dtype.js";
import { FAMILY_PROBES, type F64Kernels, type Kernels, type RealKernels } from "../generated/kernels.js";
import { WASM_CORE_DEFLATE_BASE64 } from "../generated/wasm-core-base64.js";
import { runtime } from "./runtime-state.js";
import { defaultWorkerUrl, nodeBuiltin } from "./threads/environment.js";
import { F64_PREFIX, setPool } from "./threads/state.js";
import { checkThreadsOption, planThreads, setThreadReason, stopPool, threadsInfo, type RuntimeInfo, type ThreadPlan } from "./threads/setup.js";
import { compileBytes, decodeBase64, inflate, onAbort, toBytes } from "./wasm-bytes.js";

export type { F64Kernels, Kernels, RealKernels, RuntimeInfo };

/** Options of tl.init: which wasm module to use, how many threads, and whether to load float64. */
export interface InitOptions {
  /**
   * The precompiled full module, `tensorlane/wasm` (Cloudflare Workers forbid compiling bytes at
   * run time): every float32 kernel in one module, used for everything.
   */
  module?: WebAssembly.Module;
  /**
   * The full module's bytes, read from `tensorlane/wasm`. Default: the modules inlined in the bundle
   * (the core, and the kernel families the app's code uses).
   */
  bytes?: BufferSource;
  /**
   * Threads that run the kernels: an integer >= 1, or "auto" for the host's core count
   * (os.availableParallelism() / navigator.hardwareConcurrency). Default 1. Threads need shared
   * memory and workers: Node 20.16+, Deno, Bun, and pages served cross-origin isolated
   * (`Cross-Origin-Opener-Policy: same-origin`, `Cross-Origin-Embedder-Policy: require-corp`).
   * Where they cannot work, "auto" gives 1 thread (runtimeInfo().reason says why) and an explicit
   * count above 1 throws. Calling init again with another count restarts the workers; tensors stay.
   */
  threads?: number | "auto";
  /** Where tensorlane-worker.js is served, when it is not beside the bundle (e.g. the IIFE build). */
  workerUrl?: string | URL;
  /**
   * Loads the float64 kernels, a second wasm module over the same memory (about 6 KB gzip, in a
   * chunk of its own: apps that never ask carry none of it). `true` uses the copy inlined in that
   * chunk; `{ module }` or `{ bytes }` pass it precompiled or as bytes (`tensorlane/wasm-f64`),
   * e.g. on Cloudflare Workers. Once loaded it stays loaded; float64 tensors and models throw a
   * clear error without it.
   */
  float64?: boolean | Float64Source;
}

/**
 * Where the float64 kernels come from when not from the bundle's inlined copy.
 *
 * @inline
 */
export interface Float64Source {
  /** The precompiled float64 module (`import wasmF64 from "tensorlane/wasm-f64"` on Cloudflare Workers). */
  module?: WebAssembly.Module;
  /** The float64 module's bytes. */
  bytes?: BufferSource;
}

/**
 * The largest single allocation: 992 MiB (2^30 - 2^25). The allocator's blocks stop at 1 GiB, and
 * requests above 512 MiB are rounded up to a size-class start (see assembly/memory.ts), the last
 * of which below 1 GiB is this.
 */
export const MAX_ALLOCATION_BYTES = 2 ** 30 - 2 ** 25;

// (module (func (result v128) v128.const i32x4 0 0 0 0)): validates only where SIMD128 exists.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

/** True where this engine supports WebAssembly with fixed-width SIMD (SIMD128). */
export function simdSupported(): boolean {
  return typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
}

/**
 * Loads the kernels. Idempotent: later calls return at once (and concurrent calls share one load),
 * except that a call with `threads` (re)starts the worker threads, and one after code that uses
 * more kernel families was imported loads those families.
 * With no options it compiles the bytes inlined in the bundle: no file read, no fetch.
 */
export function init(options: InitOptions = {}): Promise<void> {
  const reconfigure =
    (options !== null && typeof options === "object" && (options.threads !== undefined || (Boolean(options.float64) && runtime.f64 === null))) ||
    (runtime.kernels !== null && familiesPending());
  if (runtime.kernels && !reconfigure && !runtime.pending) return Promise.resolve();
  if (runtime.pending && !reconfigure) return runtime.pending;
  const previous = runtime.pending ?? Promise.resolve();
  const current: Promise<void> = previous
    .catch(() => undefined)
    .then(() => load(options))
    .finally(() => {
      if (runtime.pending === current) runtime.pending = null;
    });
  runtime.pending = current;
  return current;
}

/** True once init() has finished. */
export function isInitialized(): boolean {
  return runtime.kernels !== null;
}

async function load(options: InitOptions): Promise<void> {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`init: options must be an object (got ${typeof options})`);
  }
  const known = ["module", "bytes", "threads", "workerUrl", "float64"];
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new TypeError(`init: unknown option ${unknown.map((k) => `"${k}"`).join(", ")} (expected ${known.map((k) => `"${k}"`).join(", ")})`);
  }
  const request = options.threads === undefined ? undefined : checkThreadsOption(options.threads);
  if (options.workerUrl !== undefined && typeof options.workerUrl !== "string" && !(options.workerUrl instanceof URL)) {
    throw new TypeError("init: workerUrl must be a string or a URL (where tensorlane-worker.js is served)");
  }
  const float64 = checkFloat64Option(options.float64);
  const addF64 = float64 !== null && runtime.f64 === null;
  const addFamilies = runtime.kernels !== null && familiesPending();
  if (runtime.kernels && request === undefined && !addF64 && !addFamilies) return;
  // Adding float64 or families to running threads restarts them with every module, at the same count.
  const plan: ThreadPlan = request === undefined ? { count: currentThreads(), reason: null } : planThreads(request);
  if (!runtime.kernels) {
    if (!simdSupported()) {
      throw new Error(
        "tensorlane needs WebAssembly SIMD (SIMD128), which this JavaScript engine does not support. " +
          "It is available in Node 16.4+, Chrome/Edge 91+, Firefox 89+, Safari 16.4+, Deno, Bun and Cloudflare Workers.",
      );
    }
    if (options.module !== undefined && !(options.module instanceof WebAssembly.Module)) {
      throw new TypeError('init: module must be a WebAssembly.Module (e.g. `import wasm from "tensorlane/wasm"` in a Worker)');
    }
    // A module given is the full one: it holds every family's kernels, so none is loaded.
    runtime.families.full = options.module !== undefined || options.bytes !== undefined;
  }
  if (addF64) {
    runtime.f64Bytes = float64!.module !== undefined ? null : toBytes(float64!.bytes ?? (await inflate(decodeBase64(await inlinedF64Base64()))));
  }
  stopPool();
  if (!runtime.kernels && plan.count === 1) {
    let module: WebAssembly.Module;
    if (options.module !== undefined) {
      module = options.module;
    } else {
      runtime.coreBytes = toBytes(options.bytes ?? (await inflate(decodeBase64(WASM_CORE_DEFLATE_BASE64))));
      module = await compileBytes(runtime.coreBytes as Uint8Array<ArrayBuffer>);
    }
    const instance = await WebAssembly.instantiate(module, { env: { abort: onAbort } });
    runtime.kernels = checkKernels(instance.exports, runtime.families.full);
  }
  if (plan.count === 1) await runtime.families.loader?.load();
  if (addF64 && plan.count === 1) {
    // A memory that threads made shared stays shared: the module must import it as shared.
    let bytes = runtime.f64Bytes;
    if (bytes !== null && isSharedMemory()) bytes = runtime.sharedVariant!(bytes);
    else if (bytes === null && isSharedMemory())
      throw new Error("init: float64 over the shared memory of threads needs the module's bytes: pass init({ float64: { bytes } })");
    const module = bytes === null ? float64!.module! : await compileBytes(bytes as Uint8Array<ArrayBuffer>);
    runtime.f64 = checkF64Kernels((await WebAssembly.instantiate(module, { env: { abort: onAbort, memory: runtime.kernels!.memory } })).exports);
  }
  if (plan.count > 1) {
    if (!runtime.coreBytes) {
      if (options.bytes !== undefined) runtime.coreBytes = toBytes(options.bytes);
      else if (options.module !== undefined || runtime.kernels) {
        throw new Error("init: threads need the kernel module's bytes, not only a compiled module: pass init({ bytes, threads })");
      } else runtime.coreBytes = await inflate(decodeBase64(WASM_CORE_DEFLATE_BASE64));
    }
    // The thread machinery is a separate chunk, loaded only when threads are turned on.
    const { startThreads } = await import("./threads/start.js");
    const withF64 = addF64 || runtime.f64 !== null;
    if (withF64 && runtime.f64Bytes === null) {
      throw new Error("init: threads need the float64 module's bytes, not only a compiled module: pass init({ float64: { bytes }, threads })");
    }
    // Every module runs on every worker: the core first, the families, float64 (its names prefixed).
    const families = runtime.families.full ? [] : [...runtime.families.registered];
    const modules = [{ key: "core", bytes: runtime.coreBytes, prefix: "" }];
    for (const family of families) modules.push({ key: family.name, bytes: runtime.families.loader!.bytes(family), prefix: "" });
    if (withF64) modules.push({ key: "f64", bytes: runtime.f64Bytes!, prefix: F64_PREFIX });
    const started = await startThreads({
      count: plan.count,
      modules,
      shared: runtime.shared,
      current: runtime.kernels,
      workerUrl: options.workerUrl ?? workerUrlBesideBundle(),
      compile: compileBytes,
      check: (exports) => checkKernels(exports, runtime.families.full),
      abort: onAbort,
      install: setPool,
      builtin: nodeBuiltin,
    });
    runtime.kernels = started.kernels;
    runtime.sharedVariant = started.sharedVariant;
    runtime.families.loaded.clear();
    families.forEach((family, i) => runtime.families.loader!.add(family, started.exports[i]));
    if (withF64) runtime.f64 = checkF64Kernels(started.exports[families.length]);
  }
  setThreadReason(plan.reason);
}

/** Whether a kernel family registered since init() (code imported later) is still to be loaded. */
function familiesPending(): boolean {
  const f = runtime.families;
  return !f.full && f.registered.some((family) => !f.loaded.has(family));
}

/** The running thread count (1 without a pool): what init keeps when it only adds float64. */
function currentThreads(): number {
  const pool = runtime.pool;
  return pool && !pool.broken ? pool.count : 1;
}

function checkFloat64Option(value: unknown): Float64Source | null {
  if (value === undefined || value === false) return null;
  if (value === true) return {};
  if (value === null || typeof value !== "object") {
    throw new TypeError(`init: float64 must be true, false or { module } / { bytes } (got ${value === null ? "null" : typeof value})`);
  }
  const source = value as Float64Source;
  const unknown = Object.keys(source).filter((k) => k !== "module" && k !== "bytes");
  if (unknown.length > 0) throw new TypeError(`init: unknown float64 option ${unknown.map((k) => `"${k}"`).join(", ")} (expected "module", "bytes")`);
  if (source.module !== undefined && !(source.module instanceof WebAssembly.Module)) {
    throw new TypeError('init: float64.module must be a WebAssembly.Module (e.g. `import wasmF64 from "tensorlane/wasm-f64"` in a Worker)');
  }
  return source;
}

/** The float64 module inlined in its own chunk, loaded only when an app asks for float64. */
async function inlinedF64Base64(): Promise<string> {
  return (await import("../generated/wasm-f64-base64.js")).WASM_F64_DEFLATE_BASE64;
}

function checkF64Kernels(exports: WebAssembly.Exports): F64Kernels {
  const k = exports as unknown as F64Kernels;
  if (typeof k.gemm_nn !== "function" || typeof k.fill !== "function" || "alloc" in k) {
    throw new TypeError("init: the float64 module given is not tensorlane's float64 kernel module (tensorlane/wasm-f64)");
  }
  return k;
}

function workerUrlBesideBundle(): URL {
  try {
    return defaultWorkerUrl();
  } catch (error) {
    // The <script> build loaded with importScripts in a classic worker cannot know its own address.
    throw new Error("init: cannot tell where tensorlane-worker.js is served from here; pass it: init({ threads, workerUrl })", { cause: error });
  }
}

/**
 * The core module's exports, or the full module's (`full`: every family's kernels too), as a kernel
 * object of our own that the families' exports join.
 */
function checkKernels(exports: WebAssembly.Exports, full: boolean): Kernels {
  const k = { ...exports } as unknown as Kernels;
  if (!(k.memory instanceof WebAssembly.Memory) || typeof k.alloc !== "function" || typeof k.heap_root !== "function") {
    throw new TypeError("init: the module given is not a tensorlane kernel module");
  }
  if (full && FAMILY_PROBES.some((name) => typeof (k as unknown as Record<string, unknown>)[name] !== "function")) {
    throw new TypeError("init: the module given lacks kernels of the full module: pass tensorlane/wasm (dist/tensorlane.wasm)");
  }
  return k;
}

function isSharedMemory(): boolean {
  const k = runtime.kernels;
  return k !== null && typeof SharedArrayBuffer === "function" && k.memory.buffer instanceof SharedArrayBuffer;
}

/** What the running library uses: threads, shared memory, SIMD, and why threads are off. */
export function runtimeInfo(): RuntimeInfo {
  kernels();
  return { ...threadsInfo(isSharedMemory()), float64: runtime.f64 !== null };
}

/**
 * Ends the worker threads started by init({ threads }), so a Node script exits by itself (idle
 * workers do not keep it alive anyway). The library carries on with 1 thread; tensors stay valid.
 * Idempotent.
 */
export function dispose(...args: never[]): void {
  // TensorFlow.js users write tf.dispose(tensors): here that would stop the threads and free nothing.
  if (args.length > 0) {
    throw new TypeError(
      "dispose: tl.dispose() ends the worker threads and takes no arguments; free tensors with t.dispose(), tl.tidy(fn) or a model's dispose()",
    );
  }
  stopPool();
}

/** The float32 kernels (allocator, dtype-neutral and float32 kernels of the loaded families); throws a clear error before init(). */
export function kernels(): Kernels {
  if (runtime.kernels === null) throw new Error("tensorlane is not initialized: call `await tl.init()` first");
  return runtime.kernels;
}

/** Whether the float64 kernels are loaded (init({ float64: true })). */
export function float64Loaded(): boolean {
  return runtime.f64 !== null;
}

/** The float64 module's kernels; throws a clear error unless init({ float64: true }) loaded them. */
export function f64Kernels(fn = "float64"): F64Kernels {
  kernels();
  if (runtime.f64 === null) {
    throw new Error(`${fn}: float64 needs its kernels, a separate module loaded on request: call \`await tl.init({ float64: true })\` first`);
  }
  return runtime.f64;
}

/** The floating-point kernels for a dtype: the core module's (float32) or the float64 module's. */
export function realKernels(dtype: DType, fn?: string): RealKernels {
  return dtype === "float64" ? f64Kernels(fn) : kernels();
}

/** Throws the clear float64-not-loaded error when dtype is float64 and init({ float64: true }) has not run. */
export function requireDtype(fn: string, dtype: DType): void {
  if (dtype === "float64") f64Kernels(fn);
  else kernels();
}

/** A Float32Array over all of wasm memory, re-derived after growth. Never keep it across an allocation. */
export function f32(): Float32Array {
  const buffer = kernels().memory.buffer;
  const views = runtime.views;
  if (views.f32.buffer !== buffer || views.f32.byteLength !== buffer.byteLength) views.f32 = new Float32Array(buffer);
  return views.f32;
}

/** A Float64Array over all of wasm memory, re-derived after growth. Never keep it across an allocation. */
export function f64(): Float64Array {
  const buffer = kernels().memory.buffer;
  const views = runtime.views;
  if (views.f64.buffer !== buffer || views.f64.byteLength !== buffer.byteLength) views.f64 = new Float64Array(buffer);
  return views.f64;
}

/** An Int32Array over all of wasm memory, re-derived after growth. */
export function i32(): Int32Array {
  const buffer = kernels().memory.buffer;
  const views = runtime.views;
  if (views.i32.buffer !== buffer || views.i32.byteLength !== buffer.byteLength) views.i32 = new Int32Array(buffer);
  return views.i32;
}

/** A Uint8Array over all of wasm memory, re-derived after growth. */
export function u8(): Uint8Array {
  const buffer = kernels().memory.buffer;
  const views = runtime.views;
  if (views.u8.buffer !== buffer || views.u8.byteLength !== buffer.byteLength) views.u8 = new Uint8Array(buffer);
  return views.u8;
}

/**
 * Allocates `bytes` bytes of wasm memory (16-byte aligned). Out of memory is a RangeError; the
 * allocator is untouched by a failed request, so the library stays usable.
 */
export function allocBytes(bytes: number, what = "allocation"): number {
  const k = kernels();
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`${what}: byte size must be a non-negative integer (got ${bytes})`);
  if (bytes > MAX_ALLOCATION_BYTES) {
    throw new RangeError(
      `${what}: ${bytes} bytes exceed the largest single block wasm memory can hold (${MAX_ALLOCATION_BYTES} bytes, 260 million float32 values)`,
    );
  }
  let ptr: number;
  try {
    ptr = k.alloc(Math.max(bytes, 16));
  } catch (error) {
    if (error instanceof WebAssembly.RuntimeError) {
      const have = k.memory.buffer.byteLength;
      throw new RangeError(
        `${what}: out of memory: could not grow wasm memory (now ${have} bytes) to fit ${bytes} more bytes; dispose tensors you no longer need`,
      );
    }
    throw error;
  }
  return ptr >>> 0;
}

/** Returns a block to the allocator. */
export function freeBytes(ptr: number): void {
  kernels().free(ptr);
}

/** The total size of wasm linear memory now, in bytes. */
export function wasmMemoryBytes(): number {
  return kernels().memory.buffer.byteLength;
}
