// f64 classification losses with their gradients; exp and log are musl's (AssemblyScript's Math),
// compiled into this module, so the same scores give the same bits in every engine.

/**
 * Mean softmax cross-entropy over n rows, numerically stable (row max subtracted).
 * scores: (n, c); y: i32 (n), each in [0, c) (checked by the host); dscores: (n, c) or 0 to skip
 * the gradient. Returns the loss. Precondition: n >= 1, c >= 1.
 */
export function f64_softmax_loss(dscores: usize, scores: usize, y: usize, n: usize, c: usize): f64 {
  let total: f64 = 0;
  const invN: f64 = 1.0 / <f64>n;
  for (let i: usize = 0; i < n; i++) {
    const si = scores + ((i * c) << 3);
    let m = load<f64>(si);
    for (let j: usize = 1; j < c; j++) m = max(m, load<f64>(si + (j << 3)));
    let sum: f64 = 0;
    for (let j: usize = 0; j < c; j++) sum += Math.exp(load<f64>(si + (j << 3)) - m);
    const label = <usize>load<i32>(y + (i << 2));
    total += Math.log(sum) - (load<f64>(si + (label << 3)) - m);
    if (dscores) {
      const di = dscores + ((i * c) << 3);
      for (let j: usize = 0; j < c; j++) {
        let p = Math.exp(load<f64>(si + (j << 3)) - m) / sum;
        if (j == label) p -= 1;
        store<f64>(di + (j << 3), p * invN);
      }
    }
  }
  return total / <f64>n;
}

/** Mean multiclass hinge loss (margin 1): sum_{j != y} max(0, s_j - s_y + 1). Shapes as above. */
export function f64_svm_loss(dscores: usize, scores: usize, y: usize, n: usize, c: usize): f64 {
  let total: f64 = 0;
  const invN: f64 = 1.0 / <f64>n;
  for (let i: usize = 0; i < n; i++) {
    const si = scores + ((i * c) << 3);
    const label = <usize>load<i32>(y + (i << 2));
    const correct = load<f64>(si + (label << 3));
    let positive: i32 = 0;
    const di = dscores + ((i * c) << 3);
    for (let j: usize = 0; j < c; j++) {
      if (j == label) continue;
      const margin = load<f64>(si + (j << 3)) - correct + 1;
      const active = margin > 0;
      if (active) {
        total += margin;
        positive++;
      }
      if (dscores) store<f64>(di + (j << 3), active ? invN : 0);
    }
    if (dscores) store<f64>(di + (label << 3), -<f64>positive * invN);
  }
  return total / <f64>n;
}
