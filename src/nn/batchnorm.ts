// BatchNorm1d (N, C) and BatchNorm2d (N, C, H, W) as PyTorch's modules: weight (gamma) and bias
// (beta) of shape (C), buffers running_mean (starts at 0) and running_var (starts at 1).
// momentum is PyTorch's: running = (1 - momentum)·running + momentum·batch, default 0.1, and the
// running variance takes the batch's unbiased variance (sum / (count - 1)), as PyTorch's does.
// Training mode normalizes with the batch's statistics and updates the running ones; test mode
// (and a module whose parameters are all frozen, as Keras does for fine-tuning) uses the running
// statistics and leaves them alone.
import { spatialBatchNormBackward, spatialBatchNormForward, batchNormBackward, batchNormForward } from "../ops/batchnorm.js";
import type { Tensor } from "../core/tensor.js";
import { checkInteger, checkNumber, checkOptions } from "../core/validate.js";
import { Module, shapeError, type ModulePlan, type Pass } from "./module.js";

/** Options of tl.nn.batchNorm1d and tl.nn.batchNorm2d (PyTorch's keyword arguments). */
export interface BatchNormOptions {
  /** Added to the variance; > 0. Default 1e-5. */
  eps?: number;
  /** Weight of the batch in the running statistics (PyTorch's convention), in [0, 1]. Default 0.1. */
  momentum?: number;
  /**
   * The value every weight (gamma) starts at. Default 1, as PyTorch's. 0 starts the module's
   * output at its bias: the last batch norm of a residual body then makes the block start as its
   * shortcut (torchvision's zero_init_residual, Goyal et al. 2017).
   */
  weightInit?: number;
}

abstract class BatchNormBase extends Module {
  readonly args: {
    /** Number of channels C: the size of weight, bias, running_mean and running_var. */
    num_features: number;
    /** Added to the variance before its square root (default 1e-5). */
    eps: number;
    /** Weight of the batch statistics in the running ones, PyTorch's convention (default 0.1). */
    momentum: number;
  };
  /** The last forward's input and mode (backward needs both). */
  #x: Tensor | null = null;
  #batchStats = false;
  /** options.weightInit: where gamma starts (not one of PyTorch's arguments, so not in args). */
  readonly #weightInit: number;

  constructor(fn: string, numFeatures: number, options: BatchNormOptions) {
    super();
    checkInteger(fn, "numFeatures", numFeatures, 1);
    const o = checkOptions(fn, "options", options, ["eps", "momentum", "weightInit"]);
    const eps = o.eps === undefined ? 1e-5 : checkNumber(fn, "options.eps", o.eps, { min: 0, minExclusive: true, float32: true });
    const momentum = o.momentum === undefined ? 0.1 : checkNumber(fn, "options.momentum", o.momentum, { min: 0, max: 1 });
    this.#weightInit = o.weightInit === undefined ? 1 : checkNumber(fn, "options.weightInit", o.weightInit);
    this.args = { num_features: numFeatures, eps, momentum };
  }

  /** The input's layout as (N, C, S): S = 1 for BatchNorm1d, H·W for BatchNorm2d. */
  protected abstract spatial(): number;

  protected tensors(output: number[]): ModulePlan {
    const C = this.args.num_features;
    return {
      output,
      params: [
        { name: "weight", shape: [C], init: { kind: "constant", value: this.#weightInit } },
        { name: "bias", shape: [C], init: { kind: "constant", value: 0 } },
      ],
      buffers: [
        { name: "running_mean", shape: [C], init: { kind: "constant", value: 0 } },
        { name: "running_var", shape: [C], init: { kind: "constant", value: 1 } },
      ],
    };
  }

  forward(x: Tensor, pass: Pass): Tensor {
    const C = this.args.num_features;
    const S = this.spatial();
    const y = pass.ws.get(this.key("y"), [pass.n, ...this.outputShape], pass.dtype);
    const mean = pass.ws.get(this.key("mean"), [C], pass.dtype);
    const invstd = pass.ws.get(this.key("invstd"), [C], pass.dtype);
    this.#batchStats = pass.train && this.trainable;
    if (this.#batchStats && pass.n * S === 1) {
      // As PyTorch: a variance over one value is no statistic (and its unbiased form is 0/0).
      throw new RangeError(
        `${this.type} "${this.path}": training needs more than one value per channel, but the batch has 1 sample of ${this.inputShape.length === 1 ? "1 feature" : "a 1x1 map"}; train with a larger batch`,
      );
    }
    const p = {
      out: y.ptr,
      mean: mean.ptr,
      invstd: invstd.ptr,
      x: x.ptr,
      gamma: this.params.weight.ptr,
      beta: this.params.bias.ptr,
      runningMean: this.buffers.running_mean.ptr,
      runningVar: this.buffers.running_var.ptr,
    };
    // The kernels weigh the OLD statistics by their momentum argument: 1 - PyTorch's momentum.
    const keep = 1 - this.args.momentum;
    if (S === 1) batchNormForward(p, this.#batchStats, this.args.eps, keep, true, pass.n, C, pass.dtype);
    else spatialBatchNormForward(p, this.#batchStats, this.args.eps, keep, true, pass.n, C, S, pass.dtype);
    this.#x = x;
    return y;
  }

  backward(dy: Tensor, pass: Pass): Tensor | null {
    const C = this.args.num_features;
    const S = this.spatial();
    const dx = pass.ws.get(this.key("dx"), [pass.n, ...this.inputShape], pass.dtype);
    const dgamma = this.trainable ? this.grads.weight : pass.ws.get(this.key("dgamma aside"), [C], pass.dtype);
    const dbeta = this.trainable ? this.grads.bias : pass.ws.get(this.key("dbeta aside"), [C], pass.dtype);
    const mean = pass.ws.get(this.key("mean"), [C], pass.dtype);
    const invstd = pass.ws.get(this.key("invstd"), [C], pass.dtype);
    const args = [dx.ptr, dgamma.ptr, dbeta.ptr, dy.ptr, this.#x!.ptr, this.params.weight.ptr, mean.ptr, invstd.ptr, this.#batchStats] as const;
    if (S === 1) batchNormBackward(...args, pass.n, C, pass.dtype);
    else spatialBatchNormBackward(...args, pass.n, C, S, pass.dtype);
    return this.needsInputGrad ? dx : null;
  }
}

/**
 * Batch normalization of (N, C) inputs over the batch, per feature (PyTorch's nn.BatchNorm1d):
 * parameters weight (gamma) and bias (beta) of shape (C), buffers running_mean and running_var.
 * Made by tl.nn.batchNorm1d(numFeatures, options).
 */
export class BatchNorm1d extends BatchNormBase {
  readonly type = "BatchNorm1d";
  /**
   * @param numFeatures - C, the number of features of the (N, C) input; an integer >= 1.
   * @param options - eps, momentum and weightInit; an invalid value is a TypeError or RangeError.
   */
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super("nn.batchNorm1d", numFeatures, options);
  }
  plan(input: readonly number[]): ModulePlan {
    const C = this.args.num_features;
    if (input.length !== 1 || input[0] !== C) throw shapeError(this, `(N, ${C}) inputs`, input);
    return this.tensors([C]);
  }
  protected spatial(): number {
    return 1;
  }
}

/**
 * Batch normalization of (N, C, H, W) inputs over batch and space, per channel (PyTorch's
 * nn.BatchNorm2d, the course's spatial batchnorm): parameters weight and bias of shape (C),
 * buffers running_mean and running_var. Made by tl.nn.batchNorm2d(numFeatures, options).
 */
export class BatchNorm2d extends BatchNormBase {
  readonly type = "BatchNorm2d";
  /**
   * @param numFeatures - C, the number of channels of the (N, C, H, W) input; an integer >= 1.
   * @param options - eps, momentum and weightInit; an invalid value is a TypeError or RangeError.
   */
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super("nn.batchNorm2d", numFeatures, options);
  }
  plan(input: readonly number[]): ModulePlan {
    const C = this.args.num_features;
    if (input.length !== 3 || input[0] !== C) throw shapeError(this, `(N, ${C}, H, W) inputs`, input);
    return this.tensors([...input]);
  }
  protected spatial(): number {
    return this.inputShape[1] * this.inputShape[2];
  }
}
