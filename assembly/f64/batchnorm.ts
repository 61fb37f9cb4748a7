// f64 batch normalization, rows (n, d) and spatial NCHW (n, c, s = H*W) layouts, scalar.
// Formulas (the course's; see batchnorm.ts for the f32 kernels):
//   mean = sum(x) / count;  var = sum((x - mean)^2) / count (biased, two-pass);
//   invstd = 1 / sqrt(var + eps);  out = gamma * ((x - mean) * invstd) + beta
//   running = momentum * running + (1 - momentum) * batch   (train mode only)
// Backward: dbeta = sum dout, dgamma = sum dout * xhat (xhat recomputed),
//   dx = gamma * invstd * ((dout - dbeta/count) - xhat * dgamma/count); with batchStats = false
//   (a test-mode cache) dx = gamma * invstd * dout.
// The rows layout walks x row by row (contiguous) and accumulates per feature in the output
// buffers, so each feature's sum still runs over the rows in order. Sums depend on the sizes
// only: the same bits in every engine.

/**
 * Train-mode forward over rows. out, x: (n, d); mean, invstd: (d) saved for backward;
 * runningMean, runningVar: (d) updated in place; gamma, beta: (d). Preconditions: n >= 1,
 * eps > 0. out may alias x.
 */
export function f64_batchnorm_forward_train(
  out: usize, mean: usize, invstd: usize, runningMean: usize, runningVar: usize,
  x: usize, gamma: usize, beta: usize, n: usize, d: usize, eps: f64, momentum: f64,
): void {
  const rowBytes = d << 3;
  const count = <f64>n;
  const keep = 1.0 - momentum;
  memory.fill(mean, 0, rowBytes);
  memory.fill(invstd, 0, rowBytes);
  for (let i: usize = 0; i < n; i++) {
    const xi = x + i * rowBytes;
    for (let j: usize = 0; j < d; j++) store<f64>(mean + (j << 3), load<f64>(mean + (j << 3)) + load<f64>(xi + (j << 3)));
  }
  for (let j: usize = 0; j < d; j++) store<f64>(mean + (j << 3), load<f64>(mean + (j << 3)) / count);
  for (let i: usize = 0; i < n; i++) {
    const xi = x + i * rowBytes;
    for (let j: usize = 0; j < d; j++) {
      const dv = load<f64>(xi + (j << 3)) - load<f64>(mean + (j << 3));
      store<f64>(invstd + (j << 3), load<f64>(invstd + (j << 3)) + dv * dv);
    }
  }
  for (let j: usize = 0; j < d; j++) {
    const o = j << 3;
    const m = load<f64>(mean + o);
    const vr = load<f64>(invstd + o) / count;
    store<f64>(invstd + o, 1.0 / Math.sqrt(vr + eps));
    store<f64>(runningMean + o, momentum * load<f64>(runningMean + o) + keep * m);
    store<f64>(runningVar + o, momentum * load<f64>(runningVar + o) + keep * vr);
  }
  normalizeRows(out, x, mean, invstd, gamma, beta, n, d);
}

/**
 * Test-mode forward over rows with the running statistics; mean and invstd are written for a
 * backward pass (mean = runningMean, invstd = 1/sqrt(runningVar + eps)). out may alias x.
 */
export function f64_batchnorm_forward_test(
  out: usize, mean: usize, invstd: usize,
  x: usize, gamma: usize, beta: usize, runningMean: usize, runningVar: usize, n: usize, d: usize, eps: f64,
): void {
  for (let j: usize = 0; j < d; j++) {
    const o = j << 3;
    store<f64>(mean + o, load<f64>(runningMean + o));
    store<f64>(invstd + o, 1.0 / Math.sqrt(load<f64>(runningVar + o) + eps));
  }
  normalizeRows(out, x, mean, invstd, gamma, beta, n, d);
}

function normalizeRows(out: usize, x: usize, mean: usize, invstd: usize, gamma: usize, beta: usize, n: usize, d: usize): void {
  const rowBytes = d << 3;
  for (let i: usize = 0; i < n; i++) {
    const xi = x + i * rowBytes;
    const oi = out + i * rowBytes;
    for (let j: usize = 0; j < d; j++) {
      const o = j << 3;
      const xh = (load<f64>(xi + o) - load<f64>(mean + o)) * load<f64>(invstd + o);
      store<f64>(oi + o, load<f64>(gamma + o) * xh + load<f64>(beta + o));
    }
  }
}

/**
 * Backward over rows. dx: (n, d); dgamma, dbeta: (d) (overwritten); dout, x: (n, d); gamma, mean,
 * invstd: (d) as saved by forward. dx may alias dout or x.
 */
export function f64_batchnorm_backward(
  dx: usize, dgamma: usize, dbeta: usize,
  dout: usize, x: usize, gamma: usize, mean: usize, invstd: usize, n: usize, d: usize, batchStats: bool,
): void {
  const rowBytes = d << 3;
  const count = <f64>n;
  memory.fill(dgamma, 0, rowBytes);
  memory.fill(dbeta, 0, rowBytes);
  for (let i: usize = 0; i < n; i++) {
    const r = i * rowBytes;
    for (let j: usize = 0; j < d; j++) {
      const o = j << 3;
      const g = load<f64>(dout + r + o);
      const xh = (load<f64>(x + r + o) - load<f64>(mean + o)) * load<f64>(invstd + o);
      store<f64>(dbeta + o, load<f64>(dbeta + o) + g);
      store<f64>(dgamma + o, load<f64>(dgamma + o) + g * xh);
    }
  }
  for (let i: usize = 0; i < n; i++) {
    const r = i * rowBytes;
    for (let j: usize = 0; j < d; j++) {
      const o = j << 3;
      const inv = load<f64>(invstd + o);
      const a: f64 = batchStats ? load<f64>(dbeta + o) / count : 0;
      const b: f64 = batchStats ? load<f64>(dgamma + o) / count : 0;
      const xh = (load<f64>(x + r + o) - load<f64>(mean + o)) * inv;
      store<f64>(dx + r + o, load<f64>(gamma + o) * inv * ((load<f64>(dout + r + o) - a) - xh * b));
    }
  }
}

/**
 * Train-mode forward, NCHW. out, x: (n, c, s); mean, invstd: (c) saved for backward;
 * runningMean, runningVar: (c) updated in place; gamma, beta: (c). Preconditions: n, s >= 1,
 * eps > 0. out may alias x.
 */
export function f64_spatial_batchnorm_forward_train(
  out: usize, mean: usize, invstd: usize, runningMean: usize, runningVar: usize,
  x: usize, gamma: usize, beta: usize, n: usize, c: usize, s: usize, eps: f64, momentum: f64,
): void {
  const runStride = (c * s) << 3;
  const count = <f64>n * <f64>s;
  const keep = 1.0 - momentum;
  for (let ch: usize = 0; ch < c; ch++) {
    const o = ch << 3;
    const xc = x + ((ch * s) << 3);
    let sum: f64 = 0;
    for (let i: usize = 0; i < n; i++) {
      const p = xc + i * runStride;
      for (let k: usize = 0; k < s; k++) sum += load<f64>(p + (k << 3));
    }
    const m = sum / count;
    sum = 0;
    for (let i: usize = 0; i < n; i++) {
      const p = xc + i * runStride;
      for (let k: usize = 0; k < s; k++) {
        const dv = load<f64>(p + (k << 3)) - m;
        sum += dv * dv;
      }
    }
    const vr = sum / count;
    const inv = 1.0 / Math.sqrt(vr + eps);
    store<f64>(mean + o, m);
    store<f64>(invstd + o, inv);
    store<f64>(runningMean + o, momentum * load<f64>(runningMean + o) + keep * m);
    store<f64>(runningVar + o, momentum * load<f64>(runningVar + o) + keep * vr);
    normalizeChannel(out + ((ch * s) << 3), xc, m, inv, load<f64>(gamma + o), load<f64>(beta + o), n, runStride, s);
  }
}

/** Test-mode forward, NCHW, with the running statistics (mean and invstd written for backward). out may alias x. */
export function f64_spatial_batchnorm_forward_test(
  out: usize, mean: usize, invstd: usize,
  x: usize, gamma: usize, beta: usize, runningMean: usize, runningVar: usize, n: usize, c: usize, s: usize, eps: f64,
): void {
  const runStride = (c * s) << 3;
  for (let ch: usize = 0; ch < c; ch++) {
    const o = ch << 3;
    const m = load<f64>(runningMean + o);
    const inv = 1.0 / Math.sqrt(load<f64>(runningVar + o) + eps);
    store<f64>(mean + o, m);
    store<f64>(invstd + o, inv);
    normalizeChannel(out + ((ch * s) << 3), x + ((ch * s) << 3), m, inv, load<f64>(gamma + o), load<f64>(beta + o), n, runStride, s);
  }
}

@inline function normalizeChannel(out: usize, x: usize, m: f64, inv: f64, g: f64, b: f64, n: usize, runStride: usize, s: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const px = x + i * runStride;
    const po = out + i * runStride;
    for (let k: usize = 0; k < s; k++) store<f64>(po + (k << 3), g * ((load<f64>(px + (k << 3)) - m) * inv) + b);
  }
}

/**
 * Backward, NCHW. dx, dout, x: (n, c, s); dgamma, dbeta: (c) (overwritten); gamma, mean,
 * invstd: (c) as saved by forward; batchStats as in f64_batchnorm_backward. dx may alias dout or x.
 */
export function f64_spatial_batchnorm_backward(
  dx: usize, dgamma: usize, dbeta: usize,
  dout: usize, x: usize, gamma: usize, mean: usize, invstd: usize, n: usize, c: usize, s: usize, batchStats: bool,
): void {
  const runStride = (c * s) << 3;
  const count = <f64>n * <f64>s;
  for (let ch: usize = 0; ch < c; ch++) {
    const o = ch << 3;
    const off = (ch * s) << 3;
    const m = load<f64>(mean + o);
    const inv = load<f64>(invstd + o);
    let sb: f64 = 0;
    let sg: f64 = 0;
    for (let i: usize = 0; i < n; i++) {
      const pd = dout + off + i * runStride;
      const px = x + off + i * runStride;
      for (let k: usize = 0; k < s; k++) {
        const g = load<f64>(pd + (k << 3));
        sb += g;
        sg += g * ((load<f64>(px + (k << 3)) - m) * inv);
      }
    }
    store<f64>(dbeta + o, sb);
    store<f64>(dgamma + o, sg);
    const a: f64 = batchStats ? sb / count : 0;
    const b: f64 = batchStats ? sg / count : 0;
    const k1 = load<f64>(gamma + o) * inv;
    for (let i: usize = 0; i < n; i++) {
      const pd = dout + off + i * runStride;
      const px = x + off + i * runStride;
      const pdx = dx + off + i * runStride;
      for (let k: usize = 0; k < s; k++) {
        const xh = (load<f64>(px + (k << 3)) - m) * inv;
        store<f64>(pdx + (k << 3), k1 * ((load<f64>(pd + (k << 3)) - a) - xh * b));
      }
    }
  }
}
