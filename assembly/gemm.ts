// Single-precision GEMM, the three products a layer needs. Row-major, contiguous (no strides).
//
//   f32_gemm_nn: C(m,n) = A(m,k)   · B(k,n)      forward  Y  = X · W
//   f32_gemm_tn: C(m,n) = A(k,m)ᵀ  · B(k,n)      weights  dW = Xᵀ · dY
//   f32_gemm_nt: C(m,n) = A(m,k)   · B(n,k)ᵀ     inputs   dX = dY · Wᵀ
//
// Common contract: `bias` is 0 or a pointer to n floats added to every row of C; `accumulate`
// adds the product to C's current contents instead of overwriting them; `work` is host-owned
// scratch of at least f32_gemm_work_bytes(m, n, k) bytes, 16-byte aligned. C must not overlap
// A, B or bias. Any m, n, k >= 0 (k == 0 gives C = bias, or C unchanged when accumulating).
//
// This first version is a straightforward loop nest; it is correct at every size and is the
// interface the tuned register-tiled kernels keep.

/** Scratch bytes the GEMM kernels need for these sizes. */
export function f32_gemm_work_bytes(m: usize, n: usize, k: usize): usize {
  return 0;
}

@inline function initRow(c: usize, n: usize, bias: usize, accumulate: bool): void {
  if (accumulate) return;
  if (bias) memory.copy(c, bias, n << 2);
  else memory.fill(c, 0, n << 2);
}

@inline function addBiasIfAccumulating(c: usize, n: usize, bias: usize, accumulate: bool): void {
  if (!accumulate || !bias) return;
  for (let j: usize = 0; j < n; j++) store<f32>(c + (j << 2), load<f32>(c + (j << 2)) + load<f32>(bias + (j << 2)));
}

/** C(m,n) (+)= A(m,k) · B(k,n) (+ bias) */
export function f32_gemm_nn(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize): void {
  for (let i: usize = 0; i < m; i++) {
    const ci = c + ((i * n) << 2);
    initRow(ci, n, bias, accumulate);
    addBiasIfAccumulating(ci, n, bias, accumulate);
    for (let p: usize = 0; p < k; p++) {
      const aip = f32x4.splat(load<f32>(a + ((i * k + p) << 2)));
      const bp = b + ((p * n) << 2);
      let j: usize = 0;
      for (; j + 4 <= n; j += 4) {
        v128.store(ci + (j << 2), f32x4.add(v128.load(ci + (j << 2)), f32x4.mul(aip, v128.load(bp + (j << 2)))));
      }
      const s = f32x4.extract_lane(aip, 0);
      for (; j < n; j++) store<f32>(ci + (j << 2), load<f32>(ci + (j << 2)) + s * load<f32>(bp + (j << 2)));
    }
  }
}

/** C(m,n) (+)= A(k,m)ᵀ · B(k,n) (+ bias) */
export function f32_gemm_tn(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize): void {
  for (let i: usize = 0; i < m; i++) {
    const ci = c + ((i * n) << 2);
    initRow(ci, n, bias, accumulate);
    addBiasIfAccumulating(ci, n, bias, accumulate);
    for (let p: usize = 0; p < k; p++) {
      const s = load<f32>(a + ((p * m + i) << 2));
      const sv = f32x4.splat(s);
      const bp = b + ((p * n) << 2);
      let j: usize = 0;
      for (; j + 4 <= n; j += 4) {
        v128.store(ci + (j << 2), f32x4.add(v128.load(ci + (j << 2)), f32x4.mul(sv, v128.load(bp + (j << 2)))));
      }
      for (; j < n; j++) store<f32>(ci + (j << 2), load<f32>(ci + (j << 2)) + s * load<f32>(bp + (j << 2)));
    }
  }
}

/** C(m,n) (+)= A(m,k) · B(n,k)ᵀ (+ bias) */
export function f32_gemm_nt(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize): void {
  for (let i: usize = 0; i < m; i++) {
    const ci = c + ((i * n) << 2);
    const ai = a + ((i * k) << 2);
    for (let j: usize = 0; j < n; j++) {
      const bj = b + ((j * k) << 2);
      let s: f32 = 0;
      for (let p: usize = 0; p < k; p++) s += load<f32>(ai + (p << 2)) * load<f32>(bj + (p << 2));
      const base: f32 = accumulate ? load<f32>(ci + (j << 2)) : 0;
      store<f32>(ci + (j << 2), base + s + (bias ? load<f32>(bias + (j << 2)) : 0));
    }
  }
}
