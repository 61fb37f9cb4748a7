// Whole-batch calls for the specs, made of the range entry points the host calls (the module
// exports no whole-batch twins: they were dead code the host never reached). Same names and
// arguments as the old exports, so each spec reads as before; one call over the full range is
// what the host does on one thread.
import {
  batchnorm_forward_train_range, batchnorm_forward_test_range, batchnorm_backward_range,
  spatial_batchnorm_forward_train_range, spatial_batchnorm_forward_test_range, spatial_batchnorm_backward_range,
} from "../batchnorm";
import { softmax_loss_rows, softmax_loss_smoothed_rows, svm_loss_rows } from "../loss";
import { sum_rows_range, f64_mean } from "../reduce";

/** Mean softmax loss of n rows: the rows kernel over [0, n), then f64_mean of the row terms (as src/ops/loss.ts). */
export function softmax_loss(dscores: usize, scores: usize, y: usize, n: usize, c: usize): f64 {
  const rowLoss = heap.alloc(n << 3);
  softmax_loss_rows(rowLoss, dscores, scores, y, n, c, 0, n);
  const loss = f64_mean(rowLoss, n);
  heap.free(rowLoss);
  return loss;
}

/** Mean label-smoothed softmax loss of n rows, as softmax_loss above. */
export function softmax_loss_smoothed(dscores: usize, scores: usize, y: usize, n: usize, c: usize, eps: real): f64 {
  const rowLoss = heap.alloc(n << 3);
  softmax_loss_smoothed_rows(rowLoss, dscores, scores, y, n, c, eps, 0, n);
  const loss = f64_mean(rowLoss, n);
  heap.free(rowLoss);
  return loss;
}

/** Mean hinge loss of n rows, as softmax_loss above. */
export function svm_loss(dscores: usize, scores: usize, y: usize, n: usize, c: usize): f64 {
  const rowLoss = heap.alloc(n << 3);
  svm_loss_rows(rowLoss, dscores, scores, y, n, c, 0, n);
  const loss = f64_mean(rowLoss, n);
  heap.free(rowLoss);
  return loss;
}

export function sum_rows(y: usize, x: usize, rows: usize, cols: usize, accumulate: bool): void {
  sum_rows_range(y, x, rows, cols, accumulate, 0, cols);
}

// Batch norm (both dtypes: real = f32 or f64).

export function batchnorm_forward_train(
  out: usize, mean: usize, invstd: usize, runningMean: usize, runningVar: usize,
  x: usize, gamma: usize, beta: usize, n: usize, d: usize, eps: real, momentum: f64, unbiased: bool = false,
): void {
  batchnorm_forward_train_range(out, mean, invstd, runningMean, runningVar, x, gamma, beta, n, d, eps, momentum, unbiased, 0, d);
}

export function batchnorm_forward_test(
  out: usize, mean: usize, invstd: usize,
  x: usize, gamma: usize, beta: usize, runningMean: usize, runningVar: usize, n: usize, d: usize, eps: real,
): void {
  batchnorm_forward_test_range(out, mean, invstd, x, gamma, beta, runningMean, runningVar, n, d, eps, 0, d);
}

export function batchnorm_backward(
  dx: usize, dgamma: usize, dbeta: usize,
  dout: usize, x: usize, gamma: usize, mean: usize, invstd: usize, n: usize, d: usize, batchStats: bool,
): void {
  batchnorm_backward_range(dx, dgamma, dbeta, dout, x, gamma, mean, invstd, n, d, batchStats, 0, d);
}

export function spatial_batchnorm_forward_train(
  out: usize, mean: usize, invstd: usize, runningMean: usize, runningVar: usize,
  x: usize, gamma: usize, beta: usize, n: usize, c: usize, s: usize, eps: real, momentum: f64, unbiased: bool = false,
): void {
  spatial_batchnorm_forward_train_range(out, mean, invstd, runningMean, runningVar, x, gamma, beta, n, c, s, eps, momentum, unbiased, 0, c);
}

export function spatial_batchnorm_forward_test(
  out: usize, mean: usize, invstd: usize,
  x: usize, gamma: usize, beta: usize, runningMean: usize, runningVar: usize, n: usize, c: usize, s: usize, eps: real,
): void {
  spatial_batchnorm_forward_test_range(out, mean, invstd, x, gamma, beta, runningMean, runningVar, n, c, s, eps, 0, c);
}

export function spatial_batchnorm_backward(
  dx: usize, dgamma: usize, dbeta: usize,
  dout: usize, x: usize, gamma: usize, mean: usize, invstd: usize, n: usize, c: usize, s: usize, batchStats: bool,
): void {
  spatial_batchnorm_backward_range(dx, dgamma, dbeta, dout, x, gamma, mean, invstd, n, c, s, batchStats, 0, c);
}
