// Classification losses with their gradients, over `real` (see real.ts). exp and log are computed
// here (AssemblyScript's Mathf / Math, wasm ports of musl) so the same scores give the same bits
// in every engine.
import { SHIFT, expReal, logReal } from "./real";

// Row-range entry points (one thread's share): rows [i0, i1) of the n rows write their own
// dscores rows and their loss terms rowLoss[i] (f64); the host then takes f64_mean(rowLoss, n),
// which adds the terms in row order from 0, so the loss has the same bits for any split.
// scores: (n, c); y: i32 (n), each in [0, c) (checked by the host); dscores: (n, c) or 0 to skip
// the gradient (scaled by 1/n: the mean's). Preconditions: n >= 1, c >= 1, i0 <= i1 <= n.

/** Softmax cross-entropy (row max subtracted, numerically stable) for rows [i0, i1): rowLoss: f64 (n), rows i0..i1 written. */
export function softmax_loss_rows(rowLoss: usize, dscores: usize, scores: usize, y: usize, n: usize, c: usize, i0: usize, i1: usize): void {
  for (let i = i0; i < i1; i++) store<f64>(rowLoss + (i << 3), softmaxRow(dscores, scores, y, n, c, i));
}

/** Multiclass hinge loss (margin 1), Σ_{j != y} max(0, s_j - s_y + 1), for rows [i0, i1): rowLoss: f64 (n), rows i0..i1 written. */
export function svm_loss_rows(rowLoss: usize, dscores: usize, scores: usize, y: usize, n: usize, c: usize, i0: usize, i1: usize): void {
  for (let i = i0; i < i1; i++) store<f64>(rowLoss + (i << 3), svmRow(dscores, scores, y, n, c, i));
}

/** Row i's softmax loss term (and its dscores row unless dscores is 0). */
@inline function softmaxRow(dscores: usize, scores: usize, y: usize, n: usize, c: usize, i: usize): f64 {
  const invN: real = 1.0 / <real>n;
  const si = scores + ((i * c) << SHIFT);
  let m: real = load<real>(si);
  for (let j: usize = 1; j < c; j++) m = max(m, load<real>(si + (j << SHIFT)));
  let sum: real = 0;
  for (let j: usize = 0; j < c; j++) sum += expReal(load<real>(si + (j << SHIFT)) - m);
  const label = <usize>load<i32>(y + (i << 2));
  const logSum = logReal(sum);
  const term = <f64>(logSum - (load<real>(si + (label << SHIFT)) - m));
  if (dscores) {
    const di = dscores + ((i * c) << SHIFT);
    const invSum: real = 1.0 / sum;
    for (let j: usize = 0; j < c; j++) {
      let p = expReal(load<real>(si + (j << SHIFT)) - m) * invSum;
      if (j == label) p -= 1;
      store<real>(di + (j << SHIFT), p * invN);
    }
  }
  return term;
}

/**
 * Softmax cross-entropy against labels smoothed by eps (PyTorch's label_smoothing): the target of
 * row i is q_j = eps/c + (1 - eps)·[j == y_i], so the term is (1 - eps)·(logΣ - (s_y - max)) +
 * eps·(logΣ - mean_j (s_j - max)) (f64), and dscores_ij = (softmax_ij - q_j) / n. Rows [i0, i1),
 * as softmax_loss_rows. Precondition: 0 <= eps <= 1.
 */
export function softmax_loss_smoothed_rows(
  rowLoss: usize, dscores: usize, scores: usize, y: usize, n: usize, c: usize, eps: real, i0: usize, i1: usize,
): void {
  for (let i = i0; i < i1; i++) store<f64>(rowLoss + (i << 3), smoothedRow(dscores, scores, y, n, c, i, eps));
}

/** Row i's label-smoothed softmax loss term (and its dscores row unless dscores is 0). */
@inline function smoothedRow(dscores: usize, scores: usize, y: usize, n: usize, c: usize, i: usize, eps: real): f64 {
  const invN: real = 1.0 / <real>n;
  const si = scores + ((i * c) << SHIFT);
  let m: real = load<real>(si);
  for (let j: usize = 1; j < c; j++) m = max(m, load<real>(si + (j << SHIFT)));
  let sum: real = 0;
  let shifted: f64 = 0; // Σ_j (s_j - max), for the uniform part of the target
  for (let j: usize = 0; j < c; j++) {
    const d = load<real>(si + (j << SHIFT)) - m;
    sum += expReal(d);
    shifted += <f64>d;
  }
  const label = <usize>load<i32>(y + (i << 2));
  const logSum = logReal(sum);
  const hard = <f64>(logSum - (load<real>(si + (label << SHIFT)) - m));
  const uniform = <f64>logSum - shifted / <f64>c;
  const term = (1.0 - <f64>eps) * hard + <f64>eps * uniform;
  if (dscores) {
    const di = dscores + ((i * c) << SHIFT);
    const invSum: real = 1.0 / sum;
    const off: real = eps / <real>c;
    const on: real = off + (1 - eps);
    for (let j: usize = 0; j < c; j++) {
      const p = expReal(load<real>(si + (j << SHIFT)) - m) * invSum;
      store<real>(di + (j << SHIFT), (p - (j == label ? on : off)) * invN);
    }
  }
  return term;
}

/** Row i's hinge loss term Σ_{j != y} f64(max(0, margin)) from 0 (and its dscores row unless dscores is 0). */
@inline function svmRow(dscores: usize, scores: usize, y: usize, n: usize, c: usize, i: usize): f64 {
  let total: f64 = 0;
  const invN: real = 1.0 / <real>n;
  const si = scores + ((i * c) << SHIFT);
  const label = <usize>load<i32>(y + (i << 2));
  const correct = load<real>(si + (label << SHIFT));
  let positive: i32 = 0;
  const di = dscores + ((i * c) << SHIFT);
  for (let j: usize = 0; j < c; j++) {
    if (j == label) continue;
    const margin = load<real>(si + (j << SHIFT)) - correct + 1;
    const active = margin > 0;
    if (active) {
      total += <f64>margin;
      positive++;
    }
    if (dscores) store<real>(di + (j << SHIFT), active ? invN : 0);
  }
  if (dscores) store<real>(di + (label << SHIFT), -<real>positive * invN);
  return total;
}

/**
 * Mean softmax cross-entropy against soft labels: L = (1/n) sum_i sum_j y_ij (log sum_k
 * exp(s_ik - max_i) - (s_ij - max_i)); dscores_ij = (softmax_ij - y_ij) / n, the gradient when
 * every row of y sums to 1 (checked by the host). Terms with y_ij = 0 are skipped, so a one-hot y
 * gives exactly softmax_loss's bits. scores, y: (n, c); dscores: (n, c) or 0 to skip the
 * gradient. Precondition: n >= 1, c >= 1; y finite and >= 0.
 */
export function softmax_loss_soft(dscores: usize, scores: usize, y: usize, n: usize, c: usize): f64 {
  let total: f64 = 0;
  const invN: real = 1.0 / <real>n;
  for (let i: usize = 0; i < n; i++) {
    const si = scores + ((i * c) << SHIFT);
    const yi = y + ((i * c) << SHIFT);
    let m: real = load<real>(si);
    for (let j: usize = 1; j < c; j++) m = max(m, load<real>(si + (j << SHIFT)));
    let sum: real = 0;
    for (let j: usize = 0; j < c; j++) sum += expReal(load<real>(si + (j << SHIFT)) - m);
    const logSum = logReal(sum);
    for (let j: usize = 0; j < c; j++) {
      const w = load<real>(yi + (j << SHIFT));
      if (w != 0) total += <f64>(w * (logSum - (load<real>(si + (j << SHIFT)) - m)));
    }
    if (dscores) {
      const di = dscores + ((i * c) << SHIFT);
      const invSum: real = 1.0 / sum;
      for (let j: usize = 0; j < c; j++) {
        const p = expReal(load<real>(si + (j << SHIFT)) - m) * invSum;
        store<real>(di + (j << SHIFT), (p - load<real>(yi + (j << SHIFT))) * invN);
      }
    }
  }
  return total / <f64>n;
}
