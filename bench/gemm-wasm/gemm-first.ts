// The first, untiled version of the GEMM kernels (row-by-row f32x4 axpy for nn/tn, scalar dot
// products for nt), kept as a benchmark baseline. Same contract as assembly/gemm.ts; `work` unused.
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
export function f32_gemm_nn_first(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize): void {
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
export function f32_gemm_tn_first(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize): void {
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
export function f32_gemm_nt_first(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize): void {
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
