// Naive triple-loop GEMM twins (scalar, one accumulator per output, k in order). Test-only.

export function f32_gemm_nn__scalar(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool): void {
  for (let i: usize = 0; i < m; i++) {
    for (let j: usize = 0; j < n; j++) {
      let s: f32 = 0;
      for (let p: usize = 0; p < k; p++) s += load<f32>(a + ((i * k + p) << 2)) * load<f32>(b + ((p * n + j) << 2));
      if (bias) s += load<f32>(bias + (j << 2));
      const o = c + ((i * n + j) << 2);
      store<f32>(o, accumulate ? load<f32>(o) + s : s);
    }
  }
}

export function f32_gemm_tn__scalar(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool): void {
  for (let i: usize = 0; i < m; i++) {
    for (let j: usize = 0; j < n; j++) {
      let s: f32 = 0;
      for (let p: usize = 0; p < k; p++) s += load<f32>(a + ((p * m + i) << 2)) * load<f32>(b + ((p * n + j) << 2));
      if (bias) s += load<f32>(bias + (j << 2));
      const o = c + ((i * n + j) << 2);
      store<f32>(o, accumulate ? load<f32>(o) + s : s);
    }
  }
}

export function f32_gemm_nt__scalar(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool): void {
  for (let i: usize = 0; i < m; i++) {
    for (let j: usize = 0; j < n; j++) {
      let s: f32 = 0;
      for (let p: usize = 0; p < k; p++) s += load<f32>(a + ((i * k + p) << 2)) * load<f32>(b + ((j * k + p) << 2));
      if (bias) s += load<f32>(bias + (j << 2));
      const o = c + ((i * n + j) << 2);
      store<f32>(o, accumulate ? load<f32>(o) + s : s);
    }
  }
}
