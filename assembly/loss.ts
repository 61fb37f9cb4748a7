// Classification losses with their gradients. exp and log are computed here (AssemblyScript's
// Mathf, a wasm port of musl) so the same scores give the same bits in every engine.

/**
 * Mean softmax cross-entropy over n rows, numerically stable (row max subtracted).
 * scores: (n, c); y: i32 (n), each in [0, c) (checked by the host); dscores: (n, c) or 0 to skip
 * the gradient. Returns the loss. Precondition: n >= 1, c >= 1.
 */
export function f32_softmax_loss(dscores: usize, scores: usize, y: usize, n: usize, c: usize): f64 {
  let total: f64 = 0;
  const invN: f32 = 1.0 / <f32>n;
  for (let i: usize = 0; i < n; i++) {
    const si = scores + ((i * c) << 2);
    let m: f32 = load<f32>(si);
    for (let j: usize = 1; j < c; j++) m = max(m, load<f32>(si + (j << 2)));
    let sum: f32 = 0;
    for (let j: usize = 0; j < c; j++) sum += Mathf.exp(load<f32>(si + (j << 2)) - m);
    const label = <usize>load<i32>(y + (i << 2));
    const logSum = Mathf.log(sum);
    total += <f64>(logSum - (load<f32>(si + (label << 2)) - m));
    if (dscores) {
      const di = dscores + ((i * c) << 2);
      const invSum: f32 = 1.0 / sum;
      for (let j: usize = 0; j < c; j++) {
        let p = Mathf.exp(load<f32>(si + (j << 2)) - m) * invSum;
        if (j == label) p -= 1;
        store<f32>(di + (j << 2), p * invN);
      }
    }
  }
  return total / <f64>n;
}

/**
 * Mean multiclass hinge loss (margin 1) over n rows: sum_{j != y} max(0, s_j - s_y + 1).
 * Shapes as for f32_softmax_loss. Returns the loss.
 */
export function f32_svm_loss(dscores: usize, scores: usize, y: usize, n: usize, c: usize): f64 {
  let total: f64 = 0;
  const invN: f32 = 1.0 / <f32>n;
  for (let i: usize = 0; i < n; i++) {
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
  }
  return total / <f64>n;
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
