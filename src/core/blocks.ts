// Named, reusable blocks of wasm memory: a caller asks for the same keys and sizes every time, so
// after the first time nothing is allocated (memory stays flat after warm-up). Workspace adds
// tensor buffers on top; the ops' shared scratch is one Blocks held by the runtime state. A block
// is a pointer, so it survives memory growth; int32() re-derives its view on every call.
import { allocBytes, freeBytes, i32 } from "./runtime.js";
import { runtime } from "./runtime-state.js";

export interface BlockOptions {
  /** Also replace a block far larger than needed (over 4x + 64 KiB), so one huge request does not pin its memory. */
  shrink?: boolean;
  /** Who asked, for an out-of-memory error (default "<owner>: buffer <key>"). */
  what?: string;
}

export class Blocks {
  /** key -> [pointer, bytes]. */
  readonly #blocks = new Map<string, [number, number]>();
  /** Names the user of the buffers in errors, e.g. "FullyConnectedNet.loss: buffer a1: out of memory". */
  protected readonly owner: string;

  constructor(owner: string) {
    this.owner = owner;
  }

  /**
   * A block of at least `bytes` bytes for `key` (16-byte aligned; contents undefined): reused
   * while big enough, else replaced. Valid until the next call with this key.
   */
  block(key: string, bytes: number, options: BlockOptions = {}): number {
    const have = this.#blocks.get(key);
    if (have && have[1] >= bytes && !(options.shrink && have[1] > 4 * bytes + 65536)) return have[0];
    if (have) freeBytes(have[0]);
    this.#blocks.delete(key);
    const ptr = allocBytes(Math.max(bytes, 16), options.what ?? `${this.owner}: buffer ${key}`);
    this.#blocks.set(key, [ptr, bytes]);
    return ptr;
  }

  /** Bytes block `key` holds now (0 if none): at least what the last block() call asked for. */
  held(key: string): number {
    return this.#blocks.get(key)?.[1] ?? 0;
  }

  /** The first n int32 values of block `key` (made by block(key, >= 4n)): a view re-derived now, valid until memory grows. */
  int32(key: string, n: number): Int32Array {
    const start = this.#blocks.get(key)![0] >>> 2;
    return i32().subarray(start, start + n);
  }

  /** Frees every block. */
  dispose(): void {
    for (const [ptr] of this.#blocks.values()) freeBytes(ptr);
    this.#blocks.clear();
  }
}

/** The scratch the ops share (partial sums, packed operands, per-thread work, label copies), made on first use. */
export function sharedBlocks(): Blocks {
  // Only this function sets it, so the held scratch is a Blocks (runtime-state.ts holds it by a narrower type).
  return (runtime.scratch ??= new Blocks("scratch")) as Blocks;
}
