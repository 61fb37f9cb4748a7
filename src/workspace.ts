// Named, reusable buffers for models: a training step asks for the same keys and shapes every
// time, so after the first step it allocates nothing (memory stays flat).
import { empty, keep, type Shape, type Tensor } from "./tensor.js";

export class Workspace {
  #slots = new Map<string, Tensor>();
  readonly #owner: string;

  /** `owner` names the user of the buffers in errors, e.g. "FullyConnectedNet.loss: buffer a1: out of memory". */
  constructor(owner = "Workspace") {
    this.#owner = owner;
  }

  /** The buffer for `key` with this shape: reused when the shape matches, else replaced. Contents are undefined. */
  get(key: string, shape: Shape): Tensor {
    const have = this.#slots.get(key);
    if (have && !have.isDisposed && sameShape(have.shape, shape)) return have;
    have?.dispose();
    const t = keep(empty(shape, `${this.#owner}: buffer ${key}`)); // owned by the workspace, never by an enclosing tidy
    this.#slots.set(key, t);
    return t;
  }

  /** Frees every buffer. */
  dispose(): void {
    for (const t of this.#slots.values()) t.dispose();
    this.#slots.clear();
  }

  /** Bytes held, for diagnostics. */
  get bytes(): number {
    let n = 0;
    for (const t of this.#slots.values()) if (!t.isDisposed) n += t.size * 4;
    return n;
  }
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
