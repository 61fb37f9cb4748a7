// The kernel specs again with real = f64 (as-pect.f64.asconfig.json): every spec written over
// `real` checks the float64 module's kernels too. Specs still written for f32 only are left out
// until their family is (see assembly/real.ts).
import base from "./as-pect.config.js";

export default {
  ...base,
  entries: [
    "assembly/__tests__/activation.spec.ts",
    "assembly/__tests__/augment.spec.ts",
    "assembly/__tests__/batchnorm.spec.ts",
    "assembly/__tests__/elementwise.spec.ts",
    "assembly/__tests__/loss.spec.ts",
    "assembly/__tests__/optim.spec.ts",
    "assembly/__tests__/pool.spec.ts",
    "assembly/__tests__/random.spec.ts",
    "assembly/__tests__/reduce.spec.ts",
  ],
};
