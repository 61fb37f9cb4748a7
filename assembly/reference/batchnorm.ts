// Naive scalar twins of the batch-norm kernels, for the specs (both dtypes, over `real`). One
// general layout (n, c, s) serves both: the rows kernels are (n, d, 1), the spatial ones
// (n, c, H*W). Same formulas as ../batchnorm.ts, but every sum runs element by element in plain
// order.
import { SHIFT } from "../real";

export function batchnorm_forward_train__scalar(
  out: usize, mean: usize, invstd: usize, runningMean: usize, runningVar: usize,
  x: usize, gamma: usize, beta: usize, n: usize, c: usize, s: usize, eps: real, momentum: f64, unbiased: bool = false,
): void {
  const count = <f64>n * <f64>s;
  const runCount = unbiased && count > 1 ? count - 1 : count;
  for (let ch: usize = 0; ch < c; ch++) {
    let sum: f64 = 0;
    for (let i: usize = 0; i < n; i++) for (let k: usize = 0; k < s; k++) sum += <f64>at(x, i, ch, k, c, s);
    const m = <real>(sum / count);
    sum = 0;
    for (let i: usize = 0; i < n; i++) {
      for (let k: usize = 0; k < s; k++) {
        const dv = <f64>(at(x, i, ch, k, c, s) - m);
        sum += dv * dv;
      }
    }
    const vr = <real>(sum / count);
    const inv = <real>1.0 / sqrt<real>(vr + eps);
    store<real>(mean + (ch << SHIFT), m);
    store<real>(invstd + (ch << SHIFT), inv);
    const mom = <real>momentum, keep = <real>(1.0 - momentum);
    store<real>(runningMean + (ch << SHIFT), mom * load<real>(runningMean + (ch << SHIFT)) + keep * m);
    store<real>(runningVar + (ch << SHIFT), mom * load<real>(runningVar + (ch << SHIFT)) + keep * <real>(sum / runCount));
    normalize(out, x, m, inv, load<real>(gamma + (ch << SHIFT)), load<real>(beta + (ch << SHIFT)), n, ch, c, s);
  }
}

export function batchnorm_forward_test__scalar(
  out: usize, mean: usize, invstd: usize,
  x: usize, gamma: usize, beta: usize, runningMean: usize, runningVar: usize, n: usize, c: usize, s: usize, eps: real,
): void {
  for (let ch: usize = 0; ch < c; ch++) {
    const m = load<real>(runningMean + (ch << SHIFT));
    const inv = <real>1.0 / sqrt<real>(load<real>(runningVar + (ch << SHIFT)) + eps);
    store<real>(mean + (ch << SHIFT), m);
    store<real>(invstd + (ch << SHIFT), inv);
    normalize(out, x, m, inv, load<real>(gamma + (ch << SHIFT)), load<real>(beta + (ch << SHIFT)), n, ch, c, s);
  }
}

export function batchnorm_backward__scalar(
  dx: usize, dgamma: usize, dbeta: usize,
  dout: usize, x: usize, gamma: usize, mean: usize, invstd: usize, n: usize, c: usize, s: usize, batchStats: bool,
): void {
  const count = <f64>n * <f64>s;
  for (let ch: usize = 0; ch < c; ch++) {
    const m = load<real>(mean + (ch << SHIFT));
    const inv = load<real>(invstd + (ch << SHIFT));
    let sb: f64 = 0;
    let sg: f64 = 0;
    for (let i: usize = 0; i < n; i++) {
      for (let k: usize = 0; k < s; k++) {
        const g = at(dout, i, ch, k, c, s);
        sb += <f64>g;
        sg += <f64>g * <f64>((at(x, i, ch, k, c, s) - m) * inv);
      }
    }
    store<real>(dbeta + (ch << SHIFT), <real>sb);
    store<real>(dgamma + (ch << SHIFT), <real>sg);
    const a: real = batchStats ? <real>(sb / count) : 0;
    const b: real = batchStats ? <real>(sg / count) : 0;
    const kk = load<real>(gamma + (ch << SHIFT)) * inv;
    for (let i: usize = 0; i < n; i++) {
      for (let k: usize = 0; k < s; k++) {
        const xh = (at(x, i, ch, k, c, s) - m) * inv;
        store<real>(dx + index(i, ch, k, c, s), kk * ((at(dout, i, ch, k, c, s) - a) - xh * b));
      }
    }
  }
}

@inline function index(i: usize, ch: usize, k: usize, c: usize, s: usize): usize {
  return ((i * c + ch) * s + k) << SHIFT;
}

@inline function at(p: usize, i: usize, ch: usize, k: usize, c: usize, s: usize): real {
  return load<real>(p + index(i, ch, k, c, s));
}

function normalize(out: usize, x: usize, m: real, inv: real, g: real, b: real, n: usize, ch: usize, c: usize, s: usize): void {
  for (let i: usize = 0; i < n; i++) {
    for (let k: usize = 0; k < s; k++) {
      store<real>(out + index(i, ch, k, c, s), g * ((at(x, i, ch, k, c, s) - m) * inv) + b);
    }
  }
}
