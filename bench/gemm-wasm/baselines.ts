// Baselines for bench/gemm.mjs, built into their own module (never part of the library):
// the naive scalar triple loops (the spec's twins, over real = f32: see asconfig.json) and the
// first, untiled version of the kernels.
export { gemm_nn__scalar, gemm_tn__scalar, gemm_nt__scalar } from "../../assembly/reference/gemm";
export { f32_gemm_nn_first, f32_gemm_tn_first, f32_gemm_nt_first } from "./gemm-first";

export function alloc(size: usize): usize {
  return heap.alloc(size);
}
