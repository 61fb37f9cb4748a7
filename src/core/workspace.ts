// Named, reusable buffers for models: a training step asks for the same keys and shapes every
// time, so after the first step it allocates nothing (memory stays flat). Tensor buffers here;
// raw blocks (int32 indices and the like) come from Blocks.
import { Blocks } from "./blocks.js";
import { empty, keep, type DType, type Shape, type Tensor } from "./tensor.js";

export class Workspace extends Blocks {
  #slots = new Map<string, Tensor>();
  /** The dtype of buffers unless get() names another. */
  readonly dtype: DType;

  /** `owner` names the user of the buffers in errors, e.g. "FullyConnectedNet.loss: buffer a1: out of memory". */
  constructor(owner = "Workspace", dtype: DType = "float32") {
    super(owner);
    this.dtype = dtype;
  }

  /** The buffer for `key` with this shape and dtype: reused when both match, else replaced. Contents are undefined. */
  get(key: string, shape: Shape, dtype: DType = this.dtype): Tensor {
    const have = this.#slots.get(key);
    if (have && !have.isDisposed && have.dtype === dtype && sameShape(have.shape, shape)) return have;
    have?.dispose();
    const t = keep(empty(shape, `${this.owner}: buffer ${key}`, dtype)); // owned by the workspace, never by an enclosing tidy
    this.#slots.set(key, t);
    return t;
  }

  /** Frees every buffer and block. */
  override dispose(): void {
    for (const t of this.#slots.values()) t.dispose();
    this.#slots.clear();
    super.dispose();
  }
}

function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false; // no closure: called on every layer of every pass
  return true;
}
