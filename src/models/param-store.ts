// Parameters and their gradients in two mirrored flat regions. Each named parameter is a view
// into the params region and its gradient the view at the same offset in the grads region, so an
// optimizer can update every parameter in one kernel call over the flat tensors, zeroing all
// gradients is one fill, and saving the best parameters is one copy.
import { kernels } from "../runtime.js";
import { empty, keep, sizeOf, type Shape, type Tensor } from "../tensor.js";

export class ParamStore {
  /** All parameters, concatenated in declaration order: (P) */
  readonly flat: Tensor;
  /** All gradients, mirroring `flat`: (P) */
  readonly gradFlat: Tensor;
  readonly params: Record<string, Tensor> = {};
  readonly grads: Record<string, Tensor> = {};
  readonly names: readonly string[];

  constructor(layout: ReadonlyArray<readonly [string, Shape]>) {
    const total = layout.reduce((n, [, shape]) => n + sizeOf(shape), 0);
    this.flat = keep(empty([total], "ParamStore"));
    this.gradFlat = keep(empty([total], "ParamStore"));
    kernels().f32_fill(this.gradFlat.ptr, total, 0);
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
    kernels().f32_fill(this.gradFlat.ptr, this.gradFlat.size, 0);
  }

  dispose(): void {
    for (const t of [...Object.values(this.params), ...Object.values(this.grads)]) t.dispose(); // views: drop them from the live count
    this.flat.dispose();
    this.gradFlat.dispose();
  }
}
