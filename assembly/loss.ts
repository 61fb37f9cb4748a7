// Classification losses with their gradients. exp and log are computed here (AssemblyScript's
// Mathf, a wasm port of musl) so the same scores give the same bits in every engine.

/**
 * Mean softmax cross-entropy over n rows, numerically stable (row max subtracted).
 * scores: (n, c); y: i32 (n), each in [0, c) (checked by the host); dscores: (n, c) or 0 to skip
 * the gradient. Returns the loss. Precondition: n >= 1, c >= 1.
 */
export function f32_softmax_loss(dscores: usize, scores: usize, y: usize, n: usize, c: usize): f64 {
  let total: f64 = 0;
  for (let i: usize = 0; i < n; i++) total += softmaxRow(dscores, scores, y, n, c, i);
  return total / <f64>n;
}

// Row-range entry points (one thread's share): rows [i0, i1) of the n rows write their own
// dscores rows and their loss terms rowLoss[i] (f64); the host then takes f64_mean(rowLoss, n),
// which adds the terms in row order from 0 exactly as the whole-batch kernels do, so the loss has
// the same bits for any split (and as f32_softmax_loss / f32_svm_loss).

/** f32_softmax_loss for rows [i0, i1): rowLoss: f64 (n), rows i0..i1 written. */
export function f32_softmax_loss_rows(rowLoss: usize, dscores: usize, scores: usize, y: usize, n: usize, c: usize, i0: usize, i1: usize): void {
  for (let i = i0; i < i1; i++) store<f64>(rowLoss + (i << 3), softmaxRow(dscores, scores, y, n, c, i));
}

/** f32_svm_loss for rows [i0, i1): rowLoss: f64 (n), rows i0..i1 written. */
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

/**
 * Mean multiclass hinge loss (margin 1) over n rows: sum_{j != y} max(0, s_j - s_y + 1).
 * Shapes as for f32_softmax_loss. Returns the loss. Each row's term is summed in f64 from 0, then
 * the terms are added in row order (so a split by rows gives the same bits).
 */
export function f32_svm_loss(dscores: usize, scores: usize, y: usize, n: usize, c: usize): f64 {
  let total: f64 = 0;
  for (let i: usize = 0; i < n; i++) total += svmRow(dscores, scores, y, n, c, i);
  return total / <f64>n;
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
