// The plain-JS baseline: what a careful person writes by hand with Float32Array, no library.
// Loop orders keep the innermost loop running along contiguous rows. The net is generic over
// the array type so the test can check its gradients in float64.
import { ADAM, FC, SLOW_GEMM_MAX_SQUARE } from "../cases.mjs";
import { Unavailable, randomArray, randomLabels } from "../harness.mjs";

/** C(m,n) = A(m,k)·B(k,n) (+ bias(n)). */
export function matmulNN(c, a, b, m, n, k, bias = null) {
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    if (bias) for (let j = 0; j < n; j++) c[ci + j] = bias[j];
    else c.fill(0, ci, ci + n);
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] += aip * b[bp + j];
    }
  }
}

/** C(m,n) = A(k,m)ᵀ·B(k,n). */
export function matmulTN(c, a, b, m, n, k) {
  c.fill(0, 0, m * n);
  for (let p = 0; p < k; p++) {
    const ap = p * m;
    const bp = p * n;
    for (let i = 0; i < m; i++) {
      const api = a[ap + i];
      const ci = i * n;
      for (let j = 0; j < n; j++) c[ci + j] += api * b[bp + j];
    }
  }
}

/** C(m,n) = A(m,k)·B(n,k)ᵀ. */
export function matmulNT(c, a, b, m, n, k) {
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    for (let j = 0; j < n; j++) {
      const bj = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ai + p] * b[bj + p];
      c[i * n + j] = s;
    }
  }
}

/**
 * {linear - relu} x (L-1) - linear - softmax, trained with Adam. dims = [D, H1, ..., C].
 * Layer l: W (dims[l], dims[l+1]), b (dims[l+1]).
 */
export class PlainFullyConnectedNet {
  constructor({ dims, batch, seed = 1, Float = Float32Array }) {
    this.dims = dims;
    this.batch = batch;
    this.Float = Float;
    this.t = 0;
    this.layers = [];
    for (let l = 0; l + 1 < dims.length; l++) {
      const din = dims[l];
      const dout = dims[l + 1];
      const scale = Math.sqrt(6 / din); // Kaiming-uniform, so that ReLU activations keep their size
      const param = (size, values) => ({ w: values ?? new Float(size), dw: new Float(size), m: new Float(size), v: new Float(size) });
      this.layers.push({
        din,
        dout,
        W: param(din * dout, Float.from(randomArray(din * dout, seed + l, scale))), // (din, dout)
        b: param(dout), // (dout)
        out: new Float(batch * dout), // (N, dout): after ReLU for hidden layers, scores for the last
        dout_: new Float(batch * dout), // (N, dout): gradient of the loss wrt out
        din_: l > 0 ? new Float(batch * din) : null, // (N, din): gradient wrt this layer's input
      });
    }
  }

  /** x: (N, D) -> scores (N, C), a view owned by the net. */
  forward(x) {
    let input = x;
    const last = this.layers.length - 1;
    this.layers.forEach((layer, l) => {
      matmulNN(layer.out, input, layer.W.w, this.batch, layer.dout, layer.din, layer.b.w);
      if (l < last) for (let i = 0; i < layer.out.length; i++) if (layer.out[i] < 0) layer.out[i] = 0;
      input = layer.out;
    });
    return this.layers[last].out;
  }

  /** Mean softmax cross-entropy; fills every dW, db. x: (N, D), y: (N) labels. */
  loss(x, y) {
    const n = this.batch;
    const L = this.layers.length;
    const scores = this.forward(x);
    const top = this.layers[L - 1];
    const c = top.dout;
    const ds = top.dout_;
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const row = i * c;
      let max = -Infinity;
      for (let j = 0; j < c; j++) max = Math.max(max, scores[row + j]);
      let sum = 0;
      for (let j = 0; j < c; j++) sum += Math.exp(scores[row + j] - max);
      const logSum = Math.log(sum);
      loss -= scores[row + y[i]] - max - logSum;
      for (let j = 0; j < c; j++) ds[row + j] = Math.exp(scores[row + j] - max - logSum) / n;
      ds[row + y[i]] -= 1 / n;
    }
    for (let l = L - 1; l >= 0; l--) {
      const layer = this.layers[l];
      const input = l > 0 ? this.layers[l - 1].out : x;
      matmulTN(layer.W.dw, input, layer.dout_, layer.din, layer.dout, n); // dW = inᵀ·dout
      const db = layer.b.dw;
      db.fill(0);
      for (let i = 0; i < n; i++) for (let j = 0; j < layer.dout; j++) db[j] += layer.dout_[i * layer.dout + j];
      if (l > 0) {
        const below = this.layers[l - 1];
        matmulNT(below.dout_, layer.dout_, layer.W.w, n, layer.din, layer.dout); // din = dout·Wᵀ
        for (let i = 0; i < below.dout_.length; i++) if (below.out[i] <= 0) below.dout_[i] = 0; // ReLU
      }
    }
    return loss / n;
  }

  /** One Adam step over every parameter (the course's rule, t incremented first). */
  adam({ learningRate, beta1, beta2, epsilon } = ADAM) {
    this.t++;
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - beta2 ** this.t;
    for (const layer of this.layers) {
      for (const p of [layer.W, layer.b]) {
        const { w, dw, m, v } = p;
        for (let i = 0; i < w.length; i++) {
          const g = dw[i];
          m[i] = beta1 * m[i] + (1 - beta1) * g;
          v[i] = beta2 * v[i] + (1 - beta2) * g * g;
          w[i] -= (learningRate * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + epsilon);
        }
      }
    }
  }
}

const GEMM = { nn: matmulNN, tn: matmulTN, nt: matmulNT };

function prepare(c) {
  if (c.kind === "gemm") {
    if (Math.max(c.m, c.n, c.k) > 3072 || (c.m === c.n && c.n === c.k && c.m > SLOW_GEMM_MAX_SQUARE)) {
      throw new Unavailable(`skipped: scalar JS, squares above ${SLOW_GEMM_MAX_SQUARE}`);
    }
    const { m, n, k } = c;
    const a = randomArray(m * k, 11);
    const b = randomArray(k * n, 12);
    const out = new Float32Array(m * n);
    const fn = GEMM[c.variant];
    return { step: () => fn(out, a, b, m, n, k) };
  }
  if (c.kind === "fcTrain" || c.kind === "fcInfer") {
    const net = new PlainFullyConnectedNet({ dims: [FC.inputDim, ...FC.hiddenDims, FC.numClasses], batch: FC.batch, seed: 1 });
    const x = randomArray(FC.batch * FC.inputDim, 21);
    const y = randomLabels(FC.batch, FC.numClasses, 22);
    if (c.kind === "fcInfer") return { step: () => void net.forward(x) };
    return {
      step: () => {
        const loss = net.loss(x, y);
        net.adam();
        return loss;
      },
    };
  }
  throw new Unavailable("not written (the baseline covers GEMM and the FC net)");
}

export async function load() {
  return [{ name: "plain-js", note: "hand-written Float32Array loops (GEMM and the FC net)", kinds: ["gemm", "fcTrain", "fcInfer"], prepare }];
}
