// Parameters and their gradients in two mirrored flat regions. Each named parameter is a view
// into the params region and its gradient the view at the same offset in the grads region, so an
// optimizer can update every parameter in one kernel call over the flat tensors, zeroing all
// gradients is one fill, and saving the best parameters is one copy.
import { fill } from "../ops/elementwise.js";
import { MAX_ALLOCATION_BYTES } from "../core/runtime.js";
import { bytesPerElement, empty, keep, resolveShape, sizeOf, type DType, type Shape, type Tensor } from "../core/tensor.js";
import { describe } from "../core/validate.js";

export class ParamStore {
  /** All parameters, concatenated in declaration order: (P) */
  readonly flat: Tensor;
  /** All gradients, mirroring `flat`: (P) */
  readonly gradFlat: Tensor;
  readonly params: Record<string, Tensor> = {};
  readonly grads: Record<string, Tensor> = {};
  readonly names: readonly string[];
  /** The dtype of every parameter and gradient. */
  readonly dtype: DType;

  /** `owner` names the model in errors (e.g. a net too large for one allocation). */
  constructor(layout: ReadonlyArray<readonly [string, Shape]>, owner = "ParamStore", dtype: DType = "float32") {
    if (!Array.isArray(layout)) throw new TypeError(`${owner}: layout must be an array of [name, shape] pairs (got ${describe(layout)})`);
    for (const entry of layout as unknown[]) {
      if (!Array.isArray(entry) || typeof entry[0] !== "string") {
        throw new TypeError(`${owner}: layout entries must be [name, shape] pairs (got ${describe(entry)})`);
      }
      resolveShape(`${owner}: parameter "${entry[0]}"`, entry[1]);
    }
    const total = layout.reduce((n, [, shape]) => n + sizeOf(shape), 0);
    const most = Math.floor(MAX_ALLOCATION_BYTES / bytesPerElement(dtype));
    if (total > most) {
      throw new RangeError(`${owner}: the parameters need ${total} ${dtype} values, more than one allocation holds (${most}); use smaller layers`);
    }
    this.dtype = dtype;
    this.flat = keep(empty([total], owner, dtype));
    try {
      this.gradFlat = keep(empty([total], owner, dtype));
    } catch (error) {
      this.flat.dispose(); // out of memory for the gradients: give the parameters back
      throw error;
    }
    fill(this.gradFlat.ptr, total, 0, dtype);
    let offset = 0;
    for (const [name, shape] of layout) {
      const n = sizeOf(shape);
      this.params[name] = keep(this.flat.sliceView(offset, shape));
      this.grads[name] = keep(this.gradFlat.sliceView(offset, shape));
      offset += n;
    }
    this.names = layout.map(([name]) => name);
    // Replacing an entry would silently detach it from the flat regions: update values with set().
    Object.freeze(this.params);
    Object.freeze(this.grads);
  }

  /** Sets every gradient to zero. */
  zeroGrads(): void {
    this.gradFlat.markWritten();
    fill(this.gradFlat.ptr, this.gradFlat.size, 0, this.dtype);
  }

  dispose(): void {
    for (const t of [...Object.values(this.params), ...Object.values(this.grads)]) t.dispose(); // views: drop them from the live count
    this.flat.dispose();
    this.gradFlat.dispose();
  }
}
