// {conv3x3 pad 1 - [spatial batchnorm] - relu - [maxpool 2x2 stride 2]} x (L-1) - linear - softmax,
// the course's DeepConvNet, with explicit passes over workspace buffers (a training step
// allocates nothing after the first). Batch norm runs in train mode inside loss(X, y) and in test
// mode inside loss(X).
import { checkWeightScale, fillNormal, initStd, type WeightScale } from "../layers/init.js";
import { softmaxLossKernel, targetsToWasm, type Targets } from "../layers/targets.js";
import { convBackwardInto, convForwardInto, type ConvDims } from "../layers/conv.js";
import { convBatchNormTable } from "../ops/conv.js";
import { linearBackwardInto, linearForwardInto } from "../layers/linear.js";
import { maxPoolBackwardInto, maxPoolForwardInto, type PoolDims } from "../layers/maxpool.js";
import { spatialBatchNormBackwardInto, spatialBatchNormForwardInto } from "../layers/spatial-batchnorm.js";
import { reluBackwardInto, reluInto } from "../layers/relu.js";
import { drawSubSeed, deriveSeed } from "../core/random.js";
import { checkDtype, checkTensor, empty, fillTensor, type DType, type Tensor } from "../core/tensor.js";
import { checkEnum, checkInteger, checkNumber, checkOptions, checkSeed, describe, listString, shapeString } from "../core/validate.js";
import { WorkspaceModel } from "./model.js";
import { checkDims, checkNormalizationOption, type Normalization } from "./options.js";
import type { Regularization } from "./regularization.js";

/** Options of DeepConvNet (the course's DeepConvNet keyword arguments, in camelCase); all optional. */
export interface DeepConvNetOptions {
  /** (C, H, W) of one input image. Default [3, 32, 32]. */
  inputDims?: [number, number, number];
  /** Filters of each conv layer (3x3, pad 1, stride 1). Default [8, 8, 8]. */
  numFilters?: number[];
  /** 0-based indices of the conv layers followed by a 2x2 stride-2 max-pool. Default [0, 1, 2]. */
  maxPools?: number[];
  /** "batchnorm": spatial batch normalization after each conv layer; null (default): none. */
  normalization?: Normalization;
  /** Alias of `normalization: "batchnorm"` (true) / `null` (false), as the spec names it for DeepConvNet. */
  batchnorm?: boolean;
  /** Number of classes C: the last linear layer's width (default 10). */
  numClasses?: number;
  /** std of the initial weights, or "kaiming" (gain 2 for conv layers, 1 for the last linear). */
  weightScale?: WeightScale;
  /** Regularization strength: loss += reg·sum(W²) over the weights (sum|W| with l1). Default 0. */
  reg?: number;
  /** "l2" (default) or "l1": the penalty reg applies to. */
  regularization?: Regularization;
  /** Makes the weight initialization reproducible in every runtime; drawn from the global stream when absent. */
  seed?: number;
  /** Parameters, gradients and inputs in "float32" (default) or "float64". */
  dtype?: DType;
}

const KNOWN = ["inputDims", "numFilters", "maxPools", "normalization", "batchnorm", "numClasses", "weightScale", "reg", "regularization", "seed", "dtype"];
const CONV = { HH: 3, WW: 3, stride: 1, pad: 1 };
const POOL = { poolHeight: 2, poolWidth: 2, stride: 2 };

/** Sizes of one conv block for a batch of N. */
interface Block {
  conv: ConvDims;
  pool: PoolDims | null;
}

/**
 * The course's deep convolutional network: {conv 3x3 pad 1 - [spatial batchnorm] - relu -
 * [maxpool 2x2 stride 2]} x (L - 1) - affine - softmax, on (N, C, H, W) images. loss(X) gives
 * the (N, numClasses) scores, loss(X, y) the loss and gradients. Invalid options are a TypeError
 * or RangeError naming the option.
 */
export class DeepConvNet extends WorkspaceModel {
  /** The constructor options, normalised (JSON-serialisable: checkpoints store them). */
  readonly config: Required<Omit<DeepConvNetOptions, "seed" | "batchnorm">> & {
    /** The seed the weights came from (drawn from the global stream when not given). */
    seed: number;
  };
  /** Number of weight layers L: numFilters.length conv layers + 1 linear. */
  readonly numLayers: number;
  /** Always 0: this net draws no random numbers after initialization (kept for the Solver's resume). */
  rngState = 0;
  /** Feature-map shape after each conv block: [C, H, W]; index 0 is the input. */
  readonly #maps: [number, number, number][];

  constructor(options: DeepConvNetOptions = {}) {
    const fn = "DeepConvNet";
    const o = checkOptions(fn, "options", options, KNOWN);
    const inputDims = (o.inputDims === undefined ? [3, 32, 32] : checkDims(fn, "inputDims", o.inputDims, false)) as [number, number, number];
    if (inputDims.length !== 3) throw new RangeError(`${fn}: inputDims must be [C, H, W] (got ${listString(o.inputDims as unknown[])})`);
    const numFilters = o.numFilters === undefined ? [8, 8, 8] : checkDims(fn, "numFilters", o.numFilters);
    if (!Array.isArray(o.maxPools ?? [])) throw new TypeError(`${fn}: maxPools must be an array of layer indices (got ${describe(o.maxPools)})`);
    const maxPools = ((o.maxPools as unknown[] | undefined) ?? [0, 1, 2]).map((v, i) => checkInteger(fn, `maxPools[${i}]`, v, 0, numFilters.length - 1));
    const normalization = checkNormalizationOption(fn, o);
    const batchnorm = normalization === "batchnorm";
    const numClasses = o.numClasses === undefined ? 10 : checkInteger(fn, "numClasses", o.numClasses, 1);
    const weightScale = o.weightScale === undefined ? 1e-3 : checkWeightScale(fn, o.weightScale);
    const reg = o.reg === undefined ? 0 : checkNumber(fn, "reg", o.reg, { min: 0 });
    const regularization = o.regularization === undefined ? "l2" : checkEnum(fn, "regularization", o.regularization, ["l2", "l1"] as const);
    const seed = o.seed === undefined ? drawSubSeed() : checkSeed(fn, "seed", o.seed);
    const dtype = checkDtype(fn, "dtype", o.dtype);
    const maps: [number, number, number][] = [inputDims];
    for (let i = 0; i < numFilters.length; i++) {
      const [, H, W] = maps[i];
      const pooled = maxPools.includes(i);
      if (pooled && (H < 2 || W < 2)) {
        throw new RangeError(
          `${fn}: maxPools includes layer ${i}, but its ${H}x${W} feature map is too small for a 2x2 pool (inputDims ${shapeString(inputDims)})`,
        );
      }
      maps.push([numFilters[i], pooled ? Math.floor(H / 2) : H, pooled ? Math.floor(W / 2) : W]);
    }
    const [Cl, Hl, Wl] = maps[numFilters.length];
    const flat = Cl * Hl * Wl;

    const L = numFilters.length + 1;
    const layout: [string, number[]][] = [];
    for (let i = 1; i < L; i++) {
      const Cin = maps[i - 1][0];
      const F = numFilters[i - 1];
      layout.push([`W${i}`, [F, Cin, CONV.HH, CONV.WW]], [`b${i}`, [F]]);
      if (batchnorm) layout.push([`gamma${i}`, [F]], [`beta${i}`, [F]]);
    }
    layout.push([`W${L}`, [flat, numClasses]], [`b${L}`, [numClasses]]);
    super(
      fn,
      layout,
      Array.from({ length: L }, (_, i) => `W${i + 1}`),
      dtype,
    );
    this.config = { inputDims, numFilters, maxPools, normalization, numClasses, weightScale, reg, regularization, seed, dtype };
    this.numLayers = L;
    this.#maps = maps;

    try {
      this.#initParams(L, flat, weightScale, seed);
    } catch (error) {
      this.dispose(); // out of memory for the batch-norm statistics: give back what was made
      throw error;
    }
  }

  #initParams(L: number, flat: number, weightScale: WeightScale, seed: number): void {
    const { numFilters } = this.config;
    const batchnorm = this.config.normalization === "batchnorm";
    for (let i = 1; i <= L; i++) {
      const conv = i < L;
      const fanIn = conv ? this.#maps[i - 1][0] * CONV.HH * CONV.WW : flat;
      fillNormal(this.params[`W${i}`], initStd(weightScale, fanIn, conv), deriveSeed(seed, i));
      fillTensor(this.params[`b${i}`], 0);
      if (conv && batchnorm) {
        const F = numFilters[i - 1];
        fillTensor(this.params[`gamma${i}`], 1);
        fillTensor(this.params[`beta${i}`], 0);
        this.addBatchNorm(i, F);
      }
    }
  }

  /** Class scores (N, numClasses) in test mode; with labels, [loss, gradients]. */
  protected compute(X: Tensor, y?: Targets, reuseScores = false): Tensor | [number, Record<string, Tensor>] {
    const fn = "DeepConvNet.loss";
    const N = this.checkInput(fn, X);
    const train = y !== undefined;
    const targets = train ? targetsToWasm(fn, y, N, this.config.numClasses, this.dtype) : null;
    const ws = this.ws;
    const p = this.params;
    const L = this.numLayers;
    const bn = this.config.normalization === "batchnorm";
    for (const state of this.bnParams) state.mode = train ? "train" : "test";

    // Forward. h[i] is the input of layer i + 1, shaped (N, C, H, W).
    const blocks = this.#blocks(N);
    const h: Tensor[] = [X];
    for (let i = 1; i < L; i++) {
      const { conv: d, pool } = blocks[i - 1];
      const shape = [N, d.F, d.Ho, d.Wo];
      const a = ws.get(`a${i}`, shape);
      let r = a;
      if (bn && !train) {
        // Test mode: batch norm (running statistics) and the ReLU run in the conv's epilogue, with
        // the bits of the three passes (a holds the block's output; backward never reads it).
        const state = this.bnParams[i - 1];
        const table = ws.get(`bn table${i}`, [4 * d.F]);
        convBatchNormTable(table.ptr, p[`gamma${i}`].ptr, p[`beta${i}`].ptr, state.runningMean.ptr, state.runningVar.ptr, state.eps, d.F, this.dtype);
        convForwardInto(a, h[i - 1], p[`W${i}`], p[`b${i}`], d, true, table.ptr);
      } else {
        // Without batch norm the ReLU runs in the conv's epilogue (a holds relu(conv): backward's
        // mask a > 0 is the same either way).
        convForwardInto(a, h[i - 1], p[`W${i}`], p[`b${i}`], d, !bn);
      }
      if (bn && train) {
        r = ws.get(`z${i}`, shape);
        const S = d.Ho * d.Wo;
        spatialBatchNormForwardInto(
          r,
          ws.get(`mean${i}`, [d.F]),
          ws.get(`invstd${i}`, [d.F]),
          a,
          p[`gamma${i}`],
          p[`beta${i}`],
          this.bnParams[i - 1],
          N,
          d.F,
          S,
        );
        reluInto(r, r);
      }
      if (pool) {
        const out = ws.get(`pool${i}`, [N, pool.C, pool.Ho, pool.Wo]);
        // Inference needs no argmax (backward only).
        maxPoolForwardInto(out, train ? ws.get(`argmax${i}`, [N, pool.C, pool.Ho, pool.Wo]) : null, r, pool);
        h.push(out);
      } else {
        h.push(r);
      }
    }
    const [Cl, Hl, Wl] = this.#maps[L - 1];
    const D = Cl * Hl * Wl;
    const C = this.config.numClasses;
    const scores = train || reuseScores ? ws.get("scores", [N, C]) : empty([N, C], fn, this.dtype);
    linearForwardInto(scores, h[L - 1], p[`W${L}`], p[`b${L}`], N, D, C);
    if (!train) return scores;

    // Loss and backward.
    const g = this.paramStore.grads;
    const dscores = ws.get("dscores", [N, C]);
    let loss = softmaxLossKernel(targets!, dscores.ptr, scores.ptr, N, C, this.dtype);
    let dh: Tensor | null = L > 1 ? ws.get(`dh${L - 1}`, [N, Cl, Hl, Wl]) : null;
    linearBackwardInto(dh, g[`W${L}`], g[`b${L}`], dscores, h[L - 1], p[`W${L}`], N, D, C);
    for (let i = L - 1; i >= 1; i--) {
      const { conv: d, pool } = blocks[i - 1];
      const shape = [N, d.F, d.Ho, d.Wo];
      let dr = dh!;
      if (pool) {
        dr = ws.get(`dr${i}`, shape);
        maxPoolBackwardInto(dr, dh!, ws.get(`argmax${i}`, [N, pool.C, pool.Ho, pool.Wo]), pool);
      }
      reluBackwardInto(dr, dr, ws.get(bn ? `z${i}` : `a${i}`, shape));
      if (bn) {
        spatialBatchNormBackwardInto(
          dr,
          g[`gamma${i}`],
          g[`beta${i}`],
          dr,
          ws.get(`a${i}`, shape),
          p[`gamma${i}`],
          ws.get(`mean${i}`, [d.F]),
          ws.get(`invstd${i}`, [d.F]),
          "train",
          N,
          d.F,
          d.Ho * d.Wo,
        );
      }
      const dx = i > 1 ? ws.get(`dh${i - 1}`, [N, d.C, d.H, d.W]) : null; // the first layer needs no dx
      convBackwardInto(dx, g[`W${i}`], g[`b${i}`], dr, h[i - 1], p[`W${i}`], d);
      dh = dx;
    }
    loss += this.penalty(this.config.reg, this.config.regularization);
    return [loss, g];
  }

  #blocks(N: number): Block[] {
    const { numFilters, maxPools } = this.config;
    return numFilters.map((F, i) => {
      const [C, H, W] = this.#maps[i];
      const conv: ConvDims = { N, C, H, W, F, ...CONV, Ho: H, Wo: W, K: C * CONV.HH * CONV.WW, P: H * W };
      const pool: PoolDims | null = maxPools.includes(i) ? { N, C: F, H, W, ...POOL, Ho: Math.floor(H / 2), Wo: Math.floor(W / 2) } : null;
      return { conv, pool };
    });
  }

  protected checkInput(fn: string, X: unknown): number {
    const x = checkTensor(fn, "X", X, 4);
    const [N, C, H, W] = x.shape;
    const [c, hh, ww] = this.config.inputDims;
    if (C !== c || H !== hh || W !== ww) {
      throw new RangeError(`${fn}: X must have shape (N, ${c}, ${hh}, ${ww}) to match inputDims (got ${shapeString(x.shape)})`);
    }
    if (N === 0) throw new RangeError(`${fn}: X must have at least one image`);
    this.checkInputDtype(fn, x);
    return N;
  }
}
