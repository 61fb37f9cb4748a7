// Everything the library changes while it runs, in one object: the kernel modules and the views
// over their memory (init() fills them in), the worker pool, the shared scratch, the global random
// stream and the tensor bookkeeping. Modules keep their constants; what moves lives here, so one
// place says what a running tensorlane holds. It imports types only: every module can read it.
import type { F64Kernels, Kernels } from "../generated/kernels.js";
import type { Pool } from "./threads/pool.js";

// Tensors and the shared scratch are held by what this state needs of them, not by their classes:
// tensor.ts and blocks.ts allocate through the runtime, so importing them here (even as types)
// would put the runtime's state above the runtime (test/layering.test.ts). Those two modules, the
// only ones that fill these fields, read them back as their own classes.
/** A tensor as the bookkeeping holds it (tensor.ts's Tensor is one). */
export interface HeldTensor {
  readonly isDisposed: boolean;
}

/** The shared scratch as the state holds it (blocks.ts's Blocks is one). */
export interface HeldBlocks {
  dispose(): void;
}

/** A module compiled for shared memory, with the bytes the workers compile too. */
export interface SharedModule {
  module: WebAssembly.Module;
  bytes: Uint8Array;
}

/** A family of float32 kernels in a wasm module of its own over the core's memory (families.ts). */
export interface KernelFamily {
  readonly name: string;
  /** The module, zlib-deflated, in base64. */
  readonly base64: string;
}

/**
 * What loads kernel families (families.ts), handed over when the first family registers: an app
 * that uses no family carries none of it (nor the inflater).
 */
export interface FamilyLoader {
  /** Instantiates the registered families not loaded yet over the running memory (compiled asynchronously). */
  load(): Promise<void>;
  /** A family's module bytes (the single-thread form). */
  bytes(family: KernelFamily): Uint8Array;
  /** Puts a family's exports (over the running memory) into the kernel object, and marks it loaded. */
  add(family: KernelFamily, exports: WebAssembly.Exports): void;
}

export interface RuntimeState {
  /**
   * The float32 kernels (allocator, dtype-neutral and float32 kernels): the core module's exports
   * and those of every loaded family, in one object; null before init().
   */
  kernels: Kernels | null;
  /** The float64 module's kernels, once init({ float64 }) loaded them. */
  f64: F64Kernels | null;
  /** The init() under way, if any (concurrent calls share it). */
  pending: Promise<void> | null;
  /** The core module's bytes (or the full module's), kept to derive the shared-memory variant when threads are turned on. */
  coreBytes: Uint8Array | null;
  /** The kernel families (families.ts). */
  families: {
    /** Every family whose descriptor was evaluated (code that calls its kernels was loaded), in that order. */
    registered: KernelFamily[];
    /** Those whose kernels are in `kernels` now. */
    loaded: Set<KernelFamily>;
    /** Their inflated bytes, kept to derive the shared-memory variants when threads start. */
    bytes: Map<KernelFamily, Uint8Array>;
    /** True when init() was given the full module (tensorlane/wasm), which holds every family's kernels. */
    full: boolean;
    /** Set by the first family registered. */
    loader: FamilyLoader | null;
  };
  /** The float64 module's bytes (when given or inlined as bytes), for the same reason. */
  f64Bytes: Uint8Array | null;
  /** The shared-memory variants, compiled once when threads first start: by "core", family name, "f64". */
  shared: Map<string, SharedModule>;
  /** The threads chunk's rewrite of a module to import the shared memory, once threads made memory shared. */
  sharedVariant: ((bytes: Uint8Array) => Uint8Array<ArrayBuffer>) | null;
  /** Typed arrays over all of wasm memory, re-derived after it grows (runtime.ts f32(), ...). */
  views: { f32: Float32Array; f64: Float64Array; i32: Int32Array; u8: Uint8Array };
  /** The worker pool, and the index each kernel name has in its workers' list. */
  pool: Pool | null;
  poolKernels: Map<string, number>;
  /** Why the last init gave fewer threads than asked for (null: it did not). */
  threadReason: string | null;
  /** The broken pool already warned about. */
  warnedBroken: Pool | null;
  /** Test hook: plan and run as if there were this many threads (null: the real count). */
  simulatedThreads: number | null;
  /** Test hook: split kernels whatever their size. */
  ignoreThresholds: boolean;
  /** Scratch the ops share: partial sums, packed operands, per-thread work, label copies (blocks.ts sharedBlocks()). */
  scratch: HeldBlocks | null;
  /** The global random stream of unseeded calls: its seed (drawn on first use) and next counter. */
  random: { seed: number | null; offset: number };
  /** Tensors not yet disposed, the bytes they own, and the open tidy() scopes. */
  tensors: { live: Set<HeldTensor>; bytes: number; scopes: HeldTensor[][] };
}

export const runtime: RuntimeState = {
  kernels: null,
  f64: null,
  pending: null,
  coreBytes: null,
  families: { registered: [], loaded: new Set(), bytes: new Map(), full: false, loader: null },
  f64Bytes: null,
  shared: new Map(),
  sharedVariant: null,
  views: { f32: new Float32Array(0), f64: new Float64Array(0), i32: new Int32Array(0), u8: new Uint8Array(0) },
  pool: null,
  poolKernels: new Map(),
  threadReason: null,
  warnedBroken: null,
  simulatedThreads: null,
  ignoreThresholds: false,
  scratch: null,
  random: { seed: null, offset: 0 },
  tensors: { live: new Set(), bytes: 0, scopes: [] },
};
