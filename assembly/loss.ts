// Classification losses with their gradients. exp and log are computed here (AssemblyScript's
// Mathf, a wasm port of musl) so the same scores give the same bits in every engine.

// Row-range entry points (one thread's share): rows [i0, i1) of the n rows write their own
// dscores rows and their loss terms rowLoss[i] (f64); the host then takes f64_mean(rowLoss, n),
// which adds the terms in row order from 0, so the loss has the same bits for any split.
// scores: (n, c); y: i32 (n), each in [0, c) (checked by the host); dscores: (n, c) or 0 to skip
// the gradient (scaled by 1/n: the mean's). Preconditions: n >= 1, c >= 1, i0 <= i1 <= n.

/** Softmax cross-entropy (row max subtracted, numerically stable) for rows [i0, i1): rowLoss: f64 (n), rows i0..i1 written. */
export function f32_softmax_loss_rows(rowLoss: usize, dscores: usize, scores: usize, y: usize, n: usize, c: usize, i0: usize, i1: usize): void {
  for (let i = i0; i < i1; i++) store<f64>(rowLoss + (i << 3), softmaxRow(dscores, scores, y, n, c, i));
}

/** Multiclass hinge loss (margin 1), Σ_{j != y} max(0, s_j - s_y + 1), for rows [i0, i1): rowLoss: f64 (n), rows i0..i1 written. */
export function f32_svm_loss_rows(rowLoss: usize, dscores: usize, scores: usize, y: usize, n: usize, c: usize, i0: usize, i1: usize): void {
  for (let i = i0; i < i1; i++) store<f64>(rowLoss + (i << 3), svmRow(dscores, scores, y, n, c, i));
}

/** Row i's softmax loss term (and its dscores row unless dscores is 0). */
@inline function softmaxRow(dscores: usize, scores: usize, y: usize, n: usize, c: usize, i: usize): f64 {
  const invN: f32 = 1.0 / <f32>n;
  const si = scores + ((i * c) << 2);
  let m: f32 = load<f32>(si);
  for (let j: usize = 1; j < c; j++) m = max(m, load<f32>(si + (j << 2)));
  let sum: f32 = 0;
  for (let j: usize = 0; j < c; j++) sum += Mathf.exp(load<f32>(si + (j << 2)) - m);
  const label = <usize>load<i32>(y + (i << 2));
  const logSum = Mathf.log(sum);
  const term = <f64>(logSum - (load<f32>(si + (label << 2)) - m));
  if (dscores) {
    const di = dscores + ((i * c) << 2);
    const invSum: f32 = 1.0 / sum;
    for (let j: usize = 0; j < c; j++) {
      let p = Mathf.exp(load<f32>(si + (j << 2)) - m) * invSum;
      if (j == label) p -= 1;
      store<f32>(di + (j << 2), p * invN);
    }
  }
  return term;
}

/** Row i's hinge loss term Σ_{j != y} f64(max(0, margin)) from 0 (and its dscores row unless dscores is 0). */
@inline function svmRow(dscores: usize, scores: usize, y: usize, n: usize, c: usize, i: usize): f64 {
  let total: f64 = 0;
  const invN: f32 = 1.0 / <f32>n;
  const si = scores + ((i * c) << 2);
  const label = <usize>load<i32>(y + (i << 2));
  const correct = load<f32>(si + (label << 2));
  let positive: i32 = 0;
  const di = dscores + ((i * c) << 2);
  for (let j: usize = 0; j < c; j++) {
    if (j == label) continue;
    const margin = load<f32>(si + (j << 2)) - correct + 1;
    const active = margin > 0;
    if (active) {
      total += <f64>margin;
      positive++;
    }
    if (dscores) store<f32>(di + (j << 2), active ? invN : 0);
  }
  if (dscores) store<f32>(di + (label << 2), -<f32>positive * invN);
  return total;
}

/**
 * Mean softmax cross-entropy against soft labels: L = (1/n) sum_i sum_j y_ij (log sum_k
 * exp(s_ik - max_i) - (s_ij - max_i)); dscores_ij = (softmax_ij - y_ij) / n, the gradient when
 * every row of y sums to 1 (checked by the host). Terms with y_ij = 0 are skipped, so a one-hot y
 * gives exactly f32_softmax_loss's bits. scores, y: (n, c); dscores: (n, c) or 0 to skip the
 * gradient. Precondition: n >= 1, c >= 1; y finite and >= 0.
 */
export function f32_softmax_loss_soft(dscores: usize, scores: usize, y: usize, n: usize, c: usize): f64 {
  let total: f64 = 0;
  const invN: f32 = 1.0 / <f32>n;
  for (let i: usize = 0; i < n; i++) {
    const si = scores + ((i * c) << 2);
    const yi = y + ((i * c) << 2);
    let m: f32 = load<f32>(si);
    for (let j: usize = 1; j < c; j++) m = max(m, load<f32>(si + (j << 2)));
    let sum: f32 = 0;
    for (let j: usize = 0; j < c; j++) sum += Mathf.exp(load<f32>(si + (j << 2)) - m);
    const logSum = Mathf.log(sum);
    for (let j: usize = 0; j < c; j++) {
      const w = load<f32>(yi + (j << 2));
      if (w != 0) total += <f64>(w * (logSum - (load<f32>(si + (j << 2)) - m)));
    }
    if (dscores) {
      const di = dscores + ((i * c) << 2);
      const invSum: f32 = 1.0 / sum;
      for (let j: usize = 0; j < c; j++) {
        const p = Mathf.exp(load<f32>(si + (j << 2)) - m) * invSum;
        store<f32>(di + (j << 2), (p - load<f32>(yi + (j << 2))) * invN);
      }
    }
  }
  return total / <f64>n;
}
