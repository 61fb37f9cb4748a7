// Naive scalar twins of the batch-norm kernels, for the specs. One general layout (n, c, s) serves
// both: the rows kernels are (n, d, 1), the spatial ones (n, c, H*W). Same formulas as
// ../batchnorm.ts, but every sum runs element by element in plain order.

export function f32_batchnorm_forward_train__scalar(
  out: usize, mean: usize, invstd: usize, runningMean: usize, runningVar: usize,
  x: usize, gamma: usize, beta: usize, n: usize, c: usize, s: usize, eps: f32, momentum: f64,
): void {
  const count = <f64>n * <f64>s;
  for (let ch: usize = 0; ch < c; ch++) {
    let sum: f64 = 0;
    for (let i: usize = 0; i < n; i++) for (let k: usize = 0; k < s; k++) sum += <f64>at(x, i, ch, k, c, s);
    const m = <f32>(sum / count);
    sum = 0;
    for (let i: usize = 0; i < n; i++) {
      for (let k: usize = 0; k < s; k++) {
        const dv = <f64>(at(x, i, ch, k, c, s) - m);
        sum += dv * dv;
      }
    }
    const vr = <f32>(sum / count);
    const inv = <f32>1.0 / sqrt<f32>(vr + eps);
    store<f32>(mean + (ch << 2), m);
    store<f32>(invstd + (ch << 2), inv);
    const mom = <f32>momentum, keep = <f32>(1.0 - momentum);
    store<f32>(runningMean + (ch << 2), mom * load<f32>(runningMean + (ch << 2)) + keep * m);
    store<f32>(runningVar + (ch << 2), mom * load<f32>(runningVar + (ch << 2)) + keep * vr);
    normalize(out, x, m, inv, load<f32>(gamma + (ch << 2)), load<f32>(beta + (ch << 2)), n, ch, c, s);
  }
}

export function f32_batchnorm_forward_test__scalar(
  out: usize, mean: usize, invstd: usize,
  x: usize, gamma: usize, beta: usize, runningMean: usize, runningVar: usize, n: usize, c: usize, s: usize, eps: f32,
): void {
  for (let ch: usize = 0; ch < c; ch++) {
    const m = load<f32>(runningMean + (ch << 2));
    const inv = <f32>1.0 / sqrt<f32>(load<f32>(runningVar + (ch << 2)) + eps);
    store<f32>(mean + (ch << 2), m);
    store<f32>(invstd + (ch << 2), inv);
    normalize(out, x, m, inv, load<f32>(gamma + (ch << 2)), load<f32>(beta + (ch << 2)), n, ch, c, s);
  }
}

export function f32_batchnorm_backward__scalar(
  dx: usize, dgamma: usize, dbeta: usize,
  dout: usize, x: usize, gamma: usize, mean: usize, invstd: usize, n: usize, c: usize, s: usize, batchStats: bool,
): void {
  const count = <f64>n * <f64>s;
  for (let ch: usize = 0; ch < c; ch++) {
    const m = load<f32>(mean + (ch << 2));
    const inv = load<f32>(invstd + (ch << 2));
    let sb: f64 = 0;
    let sg: f64 = 0;
    for (let i: usize = 0; i < n; i++) {
      for (let k: usize = 0; k < s; k++) {
        const g = at(dout, i, ch, k, c, s);
        sb += <f64>g;
        sg += <f64>g * <f64>((at(x, i, ch, k, c, s) - m) * inv);
      }
    }
    store<f32>(dbeta + (ch << 2), <f32>sb);
    store<f32>(dgamma + (ch << 2), <f32>sg);
    const a: f32 = batchStats ? <f32>(sb / count) : 0;
    const b: f32 = batchStats ? <f32>(sg / count) : 0;
    const kk = load<f32>(gamma + (ch << 2)) * inv;
    for (let i: usize = 0; i < n; i++) {
      for (let k: usize = 0; k < s; k++) {
        const xh = (at(x, i, ch, k, c, s) - m) * inv;
        store<f32>(dx + index(i, ch, k, c, s), kk * ((at(dout, i, ch, k, c, s) - a) - xh * b));
      }
    }
  }
}

@inline function index(i: usize, ch: usize, k: usize, c: usize, s: usize): usize {
  return ((i * c + ch) * s + k) << 2;
}

@inline function at(p: usize, i: usize, ch: usize, k: usize, c: usize, s: usize): f32 {
  return load<f32>(p + index(i, ch, k, c, s));
}

function normalize(out: usize, x: usize, m: f32, inv: f32, g: f32, b: f32, n: usize, ch: usize, c: usize, s: usize): void {
  for (let i: usize = 0; i < n; i++) {
    for (let k: usize = 0; k < s; k++) {
      store<f32>(out + index(i, ch, k, c, s), g * ((at(x, i, ch, k, c, s) - m) * inv) + b);
    }
  }
}
