// Naive scalar twins of the loss kernels (assembly/loss.ts), written from the definitions.
// The softmax twin works in f64 (exp, log, sums): it is the accurate answer the kernel is measured
// against (in float64 it computes nearly what the kernel does). The SVM twin is in `real` like the
// kernel, because its only rounding is the margin s_j - s_y + 1, and whether a margin is active
// must be decided on the same number.
import { SHIFT } from "../real";

/**
 * L = (1/N) sum_i [log(sum_j exp(s_ij - max_i)) - (s_iy - max_i)];
 * dscores_ij = (softmax_ij - [j == y_i]) / N, rounded once to `real`. All in f64.
 */
export function softmax_loss__f64(dscores: usize, scores: usize, y: usize, n: usize, c: usize): f64 {
  let total: f64 = 0;
  for (let i: usize = 0; i < n; i++) {
    let top: f64 = -Infinity;
    for (let j: usize = 0; j < c; j++) top = Math.max(top, <f64>load<real>(scores + ((i * c + j) << SHIFT)));
    let sum: f64 = 0;
    for (let j: usize = 0; j < c; j++) sum += Math.exp(<f64>load<real>(scores + ((i * c + j) << SHIFT)) - top);
    const label = <usize>load<i32>(y + (i << 2));
    total += Math.log(sum) - (<f64>load<real>(scores + ((i * c + label) << SHIFT)) - top);
    if (dscores) {
      for (let j: usize = 0; j < c; j++) {
        let p = Math.exp(<f64>load<real>(scores + ((i * c + j) << SHIFT)) - top) / sum;
        if (j == label) p -= 1;
        store<real>(dscores + ((i * c + j) << SHIFT), <real>(p / <f64>n));
      }
    }
  }
  return total / <f64>n;
}

/**
 * L = (1/N) sum_i sum_{j != y_i} max(0, s_ij - s_iy + 1): each row's terms summed in f64 in j
 * order from 0, then the row sums added in i order (the order that lets the kernel split by rows);
 * dscores_ij = (1/N) [margin_ij > 0] for j != y_i, dscores_iy = -(1/N) #{j : margin_ij > 0}.
 */
export function svm_loss__scalar(dscores: usize, scores: usize, y: usize, n: usize, c: usize): f64 {
  const invN: real = <real>1 / <real>n;
  let total: f64 = 0;
  for (let i: usize = 0; i < n; i++) {
    const label = <usize>load<i32>(y + (i << 2));
    const sy = load<real>(scores + ((i * c + label) << SHIFT));
    let row: f64 = 0;
    let count: real = 0;
    for (let j: usize = 0; j < c; j++) {
      let g: real = 0;
      if (j != label) {
        const margin: real = load<real>(scores + ((i * c + j) << SHIFT)) - sy + 1;
        if (margin > 0) { row += <f64>margin; count += 1; g = invN; }
      }
      if (dscores) store<real>(dscores + ((i * c + j) << SHIFT), g);
    }
    if (dscores) store<real>(dscores + ((i * c + label) << SHIFT), -(count * invN));
    total += row;
  }
  return total / <f64>n;
}

/**
 * Soft labels: L = (1/N) sum_i sum_j -y_ij log softmax_ij, with log softmax_ij = (s_ij - max_i) -
 * log sum_k exp(s_ik - max_i); dscores_ij = (softmax_ij - y_ij) / N, rounded once to `real`. All in f64.
 */
export function softmax_loss_soft__f64(dscores: usize, scores: usize, y: usize, n: usize, c: usize): f64 {
  let total: f64 = 0;
  for (let i: usize = 0; i < n; i++) {
    let top: f64 = -Infinity;
    for (let j: usize = 0; j < c; j++) top = Math.max(top, <f64>load<real>(scores + ((i * c + j) << SHIFT)));
    let sum: f64 = 0;
    for (let j: usize = 0; j < c; j++) sum += Math.exp(<f64>load<real>(scores + ((i * c + j) << SHIFT)) - top);
    const logSum = Math.log(sum);
    for (let j: usize = 0; j < c; j++) {
      const logP = <f64>load<real>(scores + ((i * c + j) << SHIFT)) - top - logSum;
      total -= <f64>load<real>(y + ((i * c + j) << SHIFT)) * logP;
      if (dscores) {
        const p = Math.exp(<f64>load<real>(scores + ((i * c + j) << SHIFT)) - top) / sum;
        store<real>(dscores + ((i * c + j) << SHIFT), <real>((p - <f64>load<real>(y + ((i * c + j) << SHIFT))) / <f64>n));
      }
    }
  }
  return total / <f64>n;
}

/**
 * Label smoothing eps: the target q_j = eps/c + (1 - eps)[j == y_i]; L = (1/N) Σ_i -Σ_j q_j log p_ij;
 * dscores = (p - q) / N, rounded once to `real`. All in f64.
 */
export function softmax_loss_smoothed__f64(dscores: usize, scores: usize, y: usize, n: usize, c: usize, eps: f64): f64 {
  let total: f64 = 0;
  for (let i: usize = 0; i < n; i++) {
    let top: f64 = -Infinity;
    for (let j: usize = 0; j < c; j++) top = Math.max(top, <f64>load<real>(scores + ((i * c + j) << SHIFT)));
    let sum: f64 = 0;
    for (let j: usize = 0; j < c; j++) sum += Math.exp(<f64>load<real>(scores + ((i * c + j) << SHIFT)) - top);
    const label = <usize>load<i32>(y + (i << 2));
    for (let j: usize = 0; j < c; j++) {
      const q = eps / <f64>c + (j == label ? 1.0 - eps : 0.0);
      const logP = <f64>load<real>(scores + ((i * c + j) << SHIFT)) - top - Math.log(sum);
      total -= q * logP;
      if (dscores) store<real>(dscores + ((i * c + j) << SHIFT), <real>((Math.exp(logP) - q) / <f64>n));
    }
  }
  return total / <f64>n;
}
