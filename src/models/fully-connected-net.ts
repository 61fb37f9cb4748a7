// {linear - [batchnorm] - relu - [dropout]} x (L-1) - linear - softmax, with explicit forward and
// backward passes over workspace buffers (a training step allocates nothing after the first).
// Batch norm runs in train mode inside loss(X, y) (updating the running statistics) and in test
// mode inside loss(X).
import { checkWeightScale, fillNormal, initStd, type WeightScale } from "../layers/init.js";
import { softmaxLossKernel, targetsToWasm, type Targets } from "../layers/targets.js";
import { linearBackwardInto, linearForwardInto } from "../layers/linear.js";
import { dropoutMaskInto, mulInto } from "../layers/dropout.js";
import { reluBackwardInto, reluInto } from "../layers/relu.js";
import { batchNormBackwardInto, batchNormForwardInto } from "../layers/batchnorm.js";
import { deriveSeed, drawSubSeed } from "../core/random.js";
import { checkDtype, checkTensor, empty, fillTensor, type DType, type Tensor } from "../core/tensor.js";
import { checkEnum, checkInteger, checkNumber, checkOptions, checkSeed, describe, shapeString } from "../core/validate.js";
import { WorkspaceModel } from "./model.js";
import { checkDims, checkNormalizationOption, type Normalization } from "./options.js";
import type { Regularization } from "./regularization.js";

/** Options of FullyConnectedNet (the course's FullyConnectedNet keyword arguments, in camelCase). */
export interface FullyConnectedNetOptions {
  /** Widths of the hidden layers. */
  hiddenDims: number[];
  /** Features per input row (default 3*32*32). Inputs of shape (N, ...) are flattened. */
  inputDim?: number;
  /** Number of classes C: the last layer's width (default 10). */
  numClasses?: number;
  /** Probability of DROPPING a hidden unit (0 disables dropout). */
  dropout?: number;
  /** "batchnorm": batch normalization after each hidden linear layer; null (default): none. */
  normalization?: Normalization;
  /** Alias of `normalization: "batchnorm"` (true) / `null` (false), the name DeepConvNet's spec uses. */
  batchnorm?: boolean;
  /** Regularization strength: loss += reg * sum(W²) over weight matrices (or sum|W| with l1). */
  reg?: number;
  /** "l2" (default): reg·sum(W²); "l1": reg·sum|W|, over the weight matrices (not biases). */
  regularization?: Regularization;
  /** std of the initial weights, or "xavier" / "kaiming". */
  weightScale?: WeightScale;
  /** Makes initialization and dropout masks reproducible in every runtime. */
  seed?: number;
  /** Parameters, gradients and inputs in "float32" (default) or "float64" (the notebooks' gradient checks). */
  dtype?: DType;
}

const KNOWN = ["hiddenDims", "inputDim", "numClasses", "dropout", "normalization", "batchnorm", "reg", "regularization", "weightScale", "seed", "dtype"];

/**
 * The course's fully connected network: {affine - [batchnorm] - relu - [dropout]} x (L - 1) -
 * affine - softmax, with parameters W1, b1, ..., WL, bL (and gamma/beta per hidden layer with
 * batchnorm), Wi of shape (D_in, D_out). loss(X) gives the (N, C) scores, loss(X, y) the loss and
 * gradients. Invalid options are a TypeError or RangeError naming the option.
 */
export class FullyConnectedNet extends WorkspaceModel {
  /** The constructor options, normalised (JSON-serialisable: checkpoints store them). */
  readonly config: Required<Omit<FullyConnectedNetOptions, "seed" | "batchnorm">> & {
    /** The seed the weights and dropout stream came from (drawn from the global stream when not given). */
    seed: number;
  };
  /** Number of affine layers L: hiddenDims.length + 1. */
  readonly numLayers: number;
  readonly #dims: number[];
  /** Per layer (index i-1 for layer i), built once: its parameters and buffer names, so a pass builds no strings. */
  readonly #layers: { W: Tensor; b: Tensor; a: string; h: string; mask: string }[];
  #dropoutOffset = 0;

  constructor(options: FullyConnectedNetOptions) {
    const fn = "FullyConnectedNet";
    if (options === undefined) throw new TypeError(`${fn}: options { hiddenDims, ... } are required`);
    const o = checkOptions(fn, "options", options, KNOWN);
    const hiddenDims = checkDims(fn, "hiddenDims", o.hiddenDims);
    const inputDim = o.inputDim === undefined ? 3 * 32 * 32 : checkInteger(fn, "inputDim", o.inputDim, 1);
    const numClasses = o.numClasses === undefined ? 10 : checkInteger(fn, "numClasses", o.numClasses, 1);
    const dropout = o.dropout === undefined ? 0 : checkNumber(fn, "dropout", o.dropout, { min: 0, max: 1, maxExclusive: true, float32: true });
    const normalization = checkNormalizationOption(fn, o);
    const reg = o.reg === undefined ? 0 : checkNumber(fn, "reg", o.reg, { min: 0 });
    const regularization = o.regularization === undefined ? "l2" : checkEnum(fn, "regularization", o.regularization, ["l2", "l1"] as const);
    const weightScale = o.weightScale === undefined ? 1e-2 : checkWeightScale(fn, o.weightScale);
    const seed = o.seed === undefined ? drawSubSeed() : checkSeed(fn, "seed", o.seed);
    const dtype = checkDtype(fn, "dtype", o.dtype);
    const dims = [inputDim, ...hiddenDims, numClasses];
    const L = hiddenDims.length + 1;
    const bn = normalization === "batchnorm";
    const layout: [string, number[]][] = [];
    for (let i = 1; i <= L; i++) {
      layout.push([`W${i}`, [dims[i - 1], dims[i]]], [`b${i}`, [dims[i]]]);
      if (bn && i < L) layout.push([`gamma${i}`, [dims[i]]], [`beta${i}`, [dims[i]]]);
    }
    super(
      fn,
      layout,
      Array.from({ length: L }, (_, i) => `W${i + 1}`),
      dtype,
    );
    this.config = { hiddenDims, inputDim, numClasses, dropout, normalization, reg, regularization, weightScale, seed, dtype };
    this.#dims = dims;
    this.numLayers = L;
    this.#layers = Array.from({ length: L }, (_, j) => ({
      W: this.params[`W${j + 1}`],
      b: this.params[`b${j + 1}`],
      a: `a${j + 1}`,
      h: `h${j + 1}`,
      mask: `mask${j + 1}`,
    }));
    try {
      this.#initParams(bn, weightScale, seed);
    } catch (error) {
      this.dispose(); // out of memory for the batch-norm statistics: give back what was made
      throw error;
    }
  }

  #initParams(bn: boolean, weightScale: WeightScale, seed: number): void {
    for (let i = 1; i <= this.numLayers; i++) {
      const relu = i < this.numLayers;
      fillNormal(this.params[`W${i}`], initStd(weightScale, this.#dims[i - 1], relu), deriveSeed(seed, i));
      fillTensor(this.params[`b${i}`], 0);
      if (bn && i < this.numLayers) {
        fillTensor(this.params[`gamma${i}`], 1);
        fillTensor(this.params[`beta${i}`], 0);
        this.addBatchNorm(i, this.#dims[i]);
      }
    }
  }

  /** Class scores (N, numClasses) in test mode (no dropout); with labels, [loss, gradients]. */
  protected compute(X: Tensor, y?: Targets, reuseScores = false): Tensor | [number, Record<string, Tensor>] {
    const fn = "FullyConnectedNet.loss";
    const N = this.checkInput(fn, X);
    const train = y !== undefined;
    const L = this.numLayers;
    const ws = this.ws;
    const p = this.params;
    const { dropout } = this.config;
    const bn = this.bnParams.length > 0;
    for (const state of this.bnParams) state.mode = train ? "train" : "test";
    const targets = train ? targetsToWasm(fn, y, N, this.config.numClasses, this.dtype) : null;

    // Forward. h[i]: (N, dims[i]) is the input of layer i+1.
    const h: Tensor[] = [X];
    for (let i = 1; i < L; i++) {
      const D = this.#dims[i - 1];
      const M = this.#dims[i];
      const layer = this.#layers[i - 1];
      let a = ws.get(layer.a, [N, M]);
      // Without batch norm the ReLU is applied in the product's store (the bits of the two ops).
      linearForwardInto(a, h[i - 1], layer.W, layer.b, N, D, M, !bn);
      if (bn) {
        const z = ws.get(`z${i}`, [N, M]);
        batchNormForwardInto(z, ws.get(`mean${i}`, [M]), ws.get(`invstd${i}`, [M]), a, p[`gamma${i}`], p[`beta${i}`], this.bnParams[i - 1], N, M);
        a = z;
        reluInto(a, a);
      }
      // a is the ReLU output, in place: it keeps the sign pattern backward needs
      if (train && dropout > 0) {
        const mask = ws.get(layer.mask, [N, M]);
        const [seed, offset] = this.#dropoutStream(mask.size);
        dropoutMaskInto(mask, dropout, seed, offset);
        const out = ws.get(layer.h, [N, M]);
        mulInto(out, a, mask);
        h.push(out);
      } else {
        h.push(a);
      }
    }
    const C = this.#dims[L];
    const scores = train || reuseScores ? ws.get("scores", [N, C]) : empty([N, C], fn, this.dtype);
    linearForwardInto(scores, h[L - 1], this.#layers[L - 1].W, this.#layers[L - 1].b, N, this.#dims[L - 1], C);
    if (!train) return scores;

    // Loss and backward.
    const g = this.paramStore.grads;
    const dscores = ws.get("dscores", [N, C]);
    let loss = softmaxLossKernel(targets!, dscores.ptr, scores.ptr, N, C, this.dtype);
    let dout = dscores;
    for (let i = L; i >= 1; i--) {
      const D = this.#dims[i - 1];
      const M = this.#dims[i];
      const dx = i > 1 ? ws.get(`dh${i - 1}`, [N, D]) : null;
      linearBackwardInto(dx, g[`W${i}`], g[`b${i}`], dout, h[i - 1], p[`W${i}`], N, D, M);
      if (dx) {
        const j = i - 1;
        if (dropout > 0) mulInto(dx, dx, ws.get(`mask${j}`, [N, D]));
        reluBackwardInto(dx, dx, ws.get(bn ? `z${j}` : `a${j}`, [N, D]));
        if (bn) {
          batchNormBackwardInto(
            dx,
            g[`gamma${j}`],
            g[`beta${j}`],
            dx,
            ws.get(`a${j}`, [N, D]),
            p[`gamma${j}`],
            ws.get(`mean${j}`, [D]),
            ws.get(`invstd${j}`, [D]),
            "train",
            N,
            D,
          );
        }
        dout = dx;
      }
    }
    loss += this.penalty(this.config.reg, this.config.regularization);
    return [loss, g];
  }

  /** Position in the dropout mask stream: save and restore it to repeat masks (resume, gradient checks). */
  get rngState(): number {
    return this.#dropoutOffset;
  }
  /** Sets the dropout stream position; a RangeError unless a non-negative safe integer. */
  set rngState(value: number) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`FullyConnectedNet.rngState: must be a non-negative integer (got ${describe(value)})`);
    this.#dropoutOffset = value;
  }

  #dropoutStream(count: number): [number, number] {
    const offset = this.#dropoutOffset;
    this.#dropoutOffset += count;
    return [deriveSeed(this.config.seed, 0x0d0), offset];
  }

  protected checkInput(fn: string, X: unknown): number {
    const x = checkTensor(fn, "X", X);
    if (x.shape.length < 2) throw new RangeError(`${fn}: X must have shape (N, ...features) (got ${shapeString(x.shape)})`);
    let D = 1;
    for (let i = 1; i < x.shape.length; i++) D *= x.shape[i];
    if (D !== this.config.inputDim) {
      throw new RangeError(`${fn}: X has ${D} features per row (shape ${shapeString(x.shape)}); this net expects inputDim ${this.config.inputDim}`);
    }
    if (x.shape[0] === 0) throw new RangeError(`${fn}: X must have at least one row`);
    this.checkInputDtype(fn, x);
    return x.shape[0];
  }
}
