// Named, reusable buffers for models: a training step asks for the same keys and shapes every
// time, so after the first step it allocates nothing (memory stays flat).
import { allocBytes, freeBytes } from "./runtime.js";
import { empty, keep, type DType, type Shape, type Tensor } from "./tensor.js";

export class Workspace {
  #slots = new Map<string, Tensor>();
  /** Raw blocks (int32 indices and the like): key -> [pointer, bytes]. */
  #blocks = new Map<string, [number, number]>();
  readonly #owner: string;
  /** The dtype of buffers unless get() names another. */
  readonly dtype: DType;

  /** `owner` names the user of the buffers in errors, e.g. "FullyConnectedNet.loss: buffer a1: out of memory". */
  constructor(owner = "Workspace", dtype: DType = "float32") {
    this.#owner = owner;
    this.dtype = dtype;
  }

  /** The buffer for `key` with this shape and dtype: reused when both match, else replaced. Contents are undefined. */
  get(key: string, shape: Shape, dtype: DType = this.dtype): Tensor {
    const have = this.#slots.get(key);
    if (have && !have.isDisposed && have.dtype === dtype && sameShape(have.shape, shape)) return have;
    have?.dispose();
    const t = keep(empty(shape, `${this.#owner}: buffer ${key}`, dtype)); // owned by the workspace, never by an enclosing tidy
    this.#slots.set(key, t);
    return t;
  }

  /**
   * A raw block of at least `bytes` bytes for `key` (16-byte aligned; contents undefined), e.g.
   * int32 indices: reused while big enough, else replaced. Valid until the next call with this key.
   */
  block(key: string, bytes: number): number {
    const have = this.#blocks.get(key);
    if (have && have[1] >= bytes) return have[0];
    if (have) freeBytes(have[0]);
    this.#blocks.delete(key);
    const ptr = allocBytes(Math.max(bytes, 16), `${this.#owner}: buffer ${key}`);
    this.#blocks.set(key, [ptr, bytes]);
    return ptr;
  }

  /** Frees every buffer. */
  dispose(): void {
    for (const t of this.#slots.values()) t.dispose();
    this.#slots.clear();
    for (const [ptr] of this.#blocks.values()) freeBytes(ptr);
    this.#blocks.clear();
  }

  /** Bytes held, for diagnostics. */
  get bytes(): number {
    let n = 0;
    for (const t of this.#slots.values()) if (!t.isDisposed) n += t.size * t.itemBytes;
    for (const [, b] of this.#blocks.values()) n += b;
    return n;
  }
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
