// One reusable int32 buffer in wasm memory (sampled indices, predicted classes): grown on demand
// and kept, so a loop that asks for the same count every time allocates once.
import { allocBytes, freeBytes, i32 } from "./runtime.js";

export class Int32Scratch {
  #ptr = 0;
  #count = 0;
  readonly #owner: string;

  /** `owner` names the user in out-of-memory errors, e.g. "Solver indices". */
  constructor(owner: string) {
    this.#owner = owner;
  }

  /** Byte pointer to room for n int32 values (contents undefined), valid until the next get() or dispose(). */
  get(n: number): number {
    if (n > this.#count) {
      this.dispose();
      this.#ptr = allocBytes(Math.max(n, 1) * 4, this.#owner);
      this.#count = n;
    }
    return this.#ptr;
  }

  /** The first n values as a view (re-derived: valid until wasm memory grows). */
  view(n: number): Int32Array {
    const start = this.#ptr >>> 2;
    return i32().subarray(start, start + n);
  }

  dispose(): void {
    if (this.#ptr) freeBytes(this.#ptr);
    this.#ptr = 0;
    this.#count = 0;
  }
}
