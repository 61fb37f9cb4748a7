// Host side of the GEMM kernels: picks the variant, owns the packing scratch (grown once, then
// reused, so training steps stay allocation-free after warm-up).
import { allocBytes, freeBytes, kernels } from "../runtime.js";
import type { DType } from "../tensor.js";

export type GemmVariant = "nn" | "tn" | "nt";

export interface GemmOptions {
  /** Pointer to n values added to every row of C (0 or omitted: none). */
  bias?: number;
  /** Add the product to C instead of overwriting it. */
  accumulate?: boolean;
  /** Element type of A, B, C and bias. Default "float32". */
  dtype?: DType;
}

let scratchPtr = 0;
let scratchBytes = 0;

/** The GEMM's packing scratch, at least `bytes` long (shared with the fused conv forward: the pointer is valid until the next call). */
export function gemmScratch(bytes: number): number {
  return scratch(bytes);
}

function scratch(bytes: number): number {
  if (bytes <= scratchBytes) return scratchPtr;
  if (scratchPtr) freeBytes(scratchPtr);
  scratchPtr = 0;
  scratchBytes = 0;
  scratchPtr = allocBytes(bytes, "gemm scratch");
  scratchBytes = bytes;
  return scratchPtr;
}

/**
 * C(m,n) (+)= op(A) · op(B) (+ bias) on raw pointers into wasm memory, where
 * "nn": A(m,k)·B(k,n); "tn": A(k,m)ᵀ·B(k,n); "nt": A(m,k)·B(n,k)ᵀ. The caller checks shapes.
 */
export function gemm(variant: GemmVariant, c: number, a: number, b: number, m: number, n: number, k: number, options: GemmOptions = {}): void {
  const kern = kernels();
  const bias = options.bias ?? 0;
  const accumulate = options.accumulate === true;
  if (options.dtype === "float64") {
    const work = scratch(kern.f64_gemm_work_bytes(m, n, k));
    if (variant === "nn") kern.f64_gemm_nn(c, a, b, m, n, k, bias, accumulate, work);
    else if (variant === "tn") kern.f64_gemm_tn(c, a, b, m, n, k, bias, accumulate, work);
    else kern.f64_gemm_nt(c, a, b, m, n, k, bias, accumulate, work);
    return;
  }
  const work = scratch(kern.f32_gemm_work_bytes(m, n, k));
  if (variant === "nn") kern.f32_gemm_nn(c, a, b, m, n, k, bias, accumulate, work);
  else if (variant === "tn") kern.f32_gemm_tn(c, a, b, m, n, k, bias, accumulate, work);
  else kern.f32_gemm_nt(c, a, b, m, n, k, bias, accumulate, work);
}
