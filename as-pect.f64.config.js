// The kernel specs again with real = f64 (as-pect.f64.asconfig.json): every spec is written over
// `real`, so this run checks the float64 module's kernels (scalar.spec.ts, dtype-neutral, runs
// once, in the float32 run).
import base from "./as-pect.config.js";

export default {
  ...base,
  entries: [
    "assembly/__tests__/activation.spec.ts",
    "assembly/__tests__/augment.spec.ts",
    "assembly/__tests__/avgpool.spec.ts",
    "assembly/__tests__/batchnorm.spec.ts",
    "assembly/__tests__/conv.spec.ts",
    "assembly/__tests__/depthwise.spec.ts",
    "assembly/__tests__/elementwise.spec.ts",
    "assembly/__tests__/gemm.spec.ts",
    "assembly/__tests__/loss.spec.ts",
    "assembly/__tests__/optim.spec.ts",
    "assembly/__tests__/pool.spec.ts",
    "assembly/__tests__/random.spec.ts",
    "assembly/__tests__/reduce.spec.ts",
    "assembly/__tests__/split.spec.ts",
    "assembly/__tests__/winograd.spec.ts",
    "assembly/__tests__/winograd-dw.spec.ts",
  ],
};
