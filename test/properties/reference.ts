// Plain-JS references, in double precision over float32 inputs: the simplest loops that define each
// layer, with no attempt at speed. The properties compare the wasm kernels against these.

/** out (N, M) = x (N, D) · w (D, M) + b (M); also returns sum |x||w| + |b| per element, the scale of its rounding error. */
export function linear(x: number[], w: number[], b: number[], N: number, D: number, M: number): { out: number[]; scale: number[] } {
  const out = new Array<number>(N * M).fill(0);
  const scale = new Array<number>(N * M).fill(0);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      let s = b[m];
      let a = Math.abs(b[m]);
      for (let d = 0; d < D; d++) {
        s += x[n * D + d] * w[d * M + m];
        a += Math.abs(x[n * D + d] * w[d * M + m]);
      }
      out[n * M + m] = s;
      scale[n * M + m] = a;
    }
  }
  return { out, scale };
}

/** C (m, n) = A (m, k) · B (k, n) with the error scale, for the backward products. */
export function matmul(A: number[], B: number[], m: number, k: number, n: number): { out: number[]; scale: number[] } {
  return linear(A, B, new Array<number>(n).fill(0), m, k, n);
}

export function transpose(a: number[], rows: number, cols: number): number[] {
  const out = new Array<number>(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

export interface ConvShape {
  N: number;
  C: number;
  H: number;
  W: number;
  F: number;
  HH: number;
  WW: number;
  stride: number;
  pad: number;
}

export function convOut(s: ConvShape): [number, number] {
  return [1 + Math.floor((s.H + 2 * s.pad - s.HH) / s.stride), 1 + Math.floor((s.W + 2 * s.pad - s.WW) / s.stride)];
}

/** The direct 7-loop convolution with zero padding; returns out, the error scale, and the backward given dout. */
export function conv(x: number[], w: number[], b: number[], s: ConvShape, dout: number[]) {
  const { N, C, H, W, F, HH, WW, stride, pad } = s;
  const [Ho, Wo] = convOut(s);
  const out = new Array<number>(N * F * Ho * Wo).fill(0);
  const scale = new Array<number>(out.length).fill(0);
  const dx = new Array<number>(x.length).fill(0);
  const dxScale = new Array<number>(x.length).fill(0);
  const dw = new Array<number>(w.length).fill(0);
  const dwScale = new Array<number>(w.length).fill(0);
  const db = new Array<number>(F).fill(0);
  const dbScale = new Array<number>(F).fill(0);
  const xi = (n: number, c: number, h: number, ww: number) => ((n * C + c) * H + h) * W + ww;
  const wi = (f: number, c: number, i: number, j: number) => ((f * C + c) * HH + i) * WW + j;
  for (let n = 0; n < N; n++) {
    for (let f = 0; f < F; f++) {
      for (let oh = 0; oh < Ho; oh++) {
        for (let ow = 0; ow < Wo; ow++) {
          const o = ((n * F + f) * Ho + oh) * Wo + ow;
          const g = dout[o];
          let sum = b[f];
          let abs = Math.abs(b[f]);
          db[f] += g;
          dbScale[f] += Math.abs(g);
          for (let c = 0; c < C; c++) {
            for (let i = 0; i < HH; i++) {
              for (let j = 0; j < WW; j++) {
                const h = oh * stride - pad + i;
                const v = ow * stride - pad + j;
                if (h < 0 || h >= H || v < 0 || v >= W) continue;
                const xv = x[xi(n, c, h, v)];
                const wv = w[wi(f, c, i, j)];
                sum += xv * wv;
                abs += Math.abs(xv * wv);
                dx[xi(n, c, h, v)] += wv * g;
                dxScale[xi(n, c, h, v)] += Math.abs(wv * g);
                dw[wi(f, c, i, j)] += xv * g;
                dwScale[wi(f, c, i, j)] += Math.abs(xv * g);
              }
            }
          }
          out[o] = sum;
          scale[o] = abs;
        }
      }
    }
  }
  return { out, scale, dx, dxScale, dw, dwScale, db, dbScale, Ho, Wo };
}

export interface PoolShape {
  N: number;
  C: number;
  H: number;
  W: number;
  ph: number;
  pw: number;
  stride: number;
}

/** Max pooling: the first maximum in row-major order wins; backward sends dout to it. */
export function maxPool(x: number[], s: PoolShape, dout: number[]) {
  const { N, C, H, W, ph, pw, stride } = s;
  const Ho = 1 + Math.floor((H - ph) / stride);
  const Wo = 1 + Math.floor((W - pw) / stride);
  const out = new Array<number>(N * C * Ho * Wo);
  const dx = new Array<number>(x.length).fill(0);
  for (let p = 0; p < N * C; p++) {
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++) {
        let best = -Infinity;
        let at = -1;
        for (let i = 0; i < ph; i++) {
          for (let j = 0; j < pw; j++) {
            const k = p * H * W + (oh * stride + i) * W + ow * stride + j;
            if (at < 0 || x[k] > best) {
              best = x[k];
              at = k;
            }
          }
        }
        const o = (p * Ho + oh) * Wo + ow;
        out[o] = best;
        dx[at] += dout[o];
      }
    }
  }
  return { out, dx, Ho, Wo };
}

/**
 * Batch norm over groups: feature f's values are the elements e with feature(e) = f.
 * Train mode: batch mean and biased variance; returns out, the new running statistics and the
 * backward (dx, dgamma, dbeta) for dout.
 */
export function batchNorm(
  x: number[],
  gamma: number[],
  beta: number[],
  dout: number[],
  feature: (e: number) => number,
  F: number,
  eps: number,
  momentum: number,
  runMean: number[],
  runVar: number[],
) {
  const count = new Array<number>(F).fill(0);
  const mean = new Array<number>(F).fill(0);
  const variance = new Array<number>(F).fill(0);
  x.forEach((v, e) => {
    mean[feature(e)] += v;
    count[feature(e)]++;
  });
  for (let f = 0; f < F; f++) mean[f] /= count[f];
  x.forEach((v, e) => (variance[feature(e)] += (v - mean[feature(e)]) ** 2));
  for (let f = 0; f < F; f++) variance[f] /= count[f];
  const inv = variance.map((v) => 1 / Math.sqrt(v + eps));
  const xhat = x.map((v, e) => (v - mean[feature(e)]) * inv[feature(e)]);
  const out = xhat.map((h, e) => gamma[feature(e)] * h + beta[feature(e)]);
  const dbeta = new Array<number>(F).fill(0);
  const dgamma = new Array<number>(F).fill(0);
  dout.forEach((g, e) => {
    dbeta[feature(e)] += g;
    dgamma[feature(e)] += g * xhat[e];
  });
  const dx = x.map((_, e) => {
    const f = feature(e);
    return ((gamma[f] * inv[f]) / count[f]) * (count[f] * dout[e] - dbeta[f] - xhat[e] * dgamma[f]);
  });
  return {
    out,
    dx,
    dgamma,
    dbeta,
    runningMean: runMean.map((r, f) => momentum * r + (1 - momentum) * mean[f]),
    runningVar: runVar.map((r, f) => momentum * r + (1 - momentum) * variance[f]),
  };
}

/** Mean softmax cross-entropy and its gradient. */
export function softmaxLoss(scores: number[], y: number[], N: number, C: number): { loss: number; d: number[] } {
  let loss = 0;
  const d = new Array<number>(N * C);
  for (let n = 0; n < N; n++) {
    const row = scores.slice(n * C, (n + 1) * C);
    const max = Math.max(...row);
    const e = row.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    loss += Math.log(sum) - (row[y[n]] - max);
    for (let c = 0; c < C; c++) d[n * C + c] = (e[c] / sum - (c === y[n] ? 1 : 0)) / N;
  }
  return { loss: loss / N, d };
}

/** Mean multiclass hinge loss (margin 1) and its gradient. Scores must be float32 values. */
export function svmLoss(scores: number[], y: number[], N: number, C: number): { loss: number; d: number[] } {
  let loss = 0;
  const d = new Array<number>(N * C).fill(0);
  for (let n = 0; n < N; n++) {
    const correct = scores[n * C + y[n]];
    for (let c = 0; c < C; c++) {
      if (c === y[n]) continue;
      // In float32, as the kernel computes it: whether a margin is active must agree exactly.
      const margin = Math.fround(Math.fround(scores[n * C + c] - correct) + 1);
      if (margin > 0) {
        loss += margin;
        d[n * C + c] += 1 / N;
        d[n * C + y[n]] -= 1 / N;
      }
    }
  }
  return { loss: loss / N, d };
}
