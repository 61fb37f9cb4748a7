// What the built-in models share: parameters and gradients in mirrored flat regions, batch-norm
// state kept beside them, reusable workspace buffers, the loss(X) / loss(X, y) entry point and
// disposal, and predict(). A model supplies its layout, its input check (`checkInput`) and the
// forward/backward pass (`compute`).
import { Blocks } from "../core/blocks.js";
import type { BatchNormState } from "../layers/batchnorm.js";
import type { Labels } from "../core/labels.js";
import type { Targets } from "../layers/targets.js";
import { keep, zeros, type DType, type Shape, type Tensor } from "../core/tensor.js";
import { Workspace } from "../core/workspace.js";
import type { PredictOptions } from "./contract.js";
import { ParamStore } from "./param-store.js";
import { evaluateRows, type Evaluation, type EvaluateOptions } from "./evaluate.js";
import { checkPredictOptions, predictRows } from "./predict.js";
import { regularize, type Regularization } from "./regularization.js";

export abstract class WorkspaceModel {
  /** The constructor options, normalised (checkpoints store them); every model scores numClasses classes. */
  abstract readonly config: { readonly numClasses: number };
  /** The parameters and gradients as mirrored flat regions (the Solver updates all of them in one kernel call). */
  readonly paramStore: ParamStore;
  /** Batch-norm state per normalized layer (mode set by loss(): "train" with labels, else "test"). */
  readonly bnParams: BatchNormState[] = [];
  /** Non-parameter state saved with the parameters: runningMean1, runningVar1, ... */
  readonly buffers: Record<string, Tensor> = {};
  /** Activations, caches and gradients of the last pass, reused by the next one. */
  protected readonly ws: Workspace;
  readonly #weightNames: string[];
  /** The dtype of the parameters, gradients, buffers and of the inputs loss() takes. */
  readonly dtype: DType;
  readonly #name: string;
  /** Predicted classes of one batch, reused by the next. */
  readonly #predictions: Blocks;

  /** layout: every parameter's name and shape, in order; weights: the names the penalty applies to. */
  protected constructor(name: string, layout: ReadonlyArray<readonly [string, Shape]>, weights: string[], dtype: DType = "float32") {
    this.paramStore = new ParamStore(layout, name, dtype);
    this.ws = new Workspace(`${name}.loss`, dtype);
    this.#weightNames = weights;
    this.dtype = dtype;
    this.#name = name;
    this.#predictions = new Blocks(`${name}.predict`);
  }

  /** Named parameters (views into one flat region; edit values with set()). */
  get params(): Record<string, Tensor> {
    return this.paramStore.params;
  }

  /** Class scores (N, numClasses) in test mode. The caller owns the result. */
  loss(X: Tensor): Tensor;
  /**
   * Training mode: [mean loss + regularization, gradients] (owned by the model, overwritten by the
   * next call). y: integer labels, or soft labels (N, numClasses) such as mixup's.
   */
  loss(X: Tensor, y: Targets): [number, Record<string, Tensor>];
  loss(X: Tensor, y?: Targets): Tensor | [number, Record<string, Tensor>] {
    if (y !== undefined) this.#markTrainingWrites();
    try {
      return this.compute(X, y);
    } catch (error) {
      // Out of memory midway (a huge batch): free the buffers this call grew, so a failed call
      // returns what it took; the next call allocates them again.
      this.ws.dispose();
      throw error;
    }
  }

  /**
   * Class index of each row of X: the argmax of the test-mode scores (no dropout, batch norm with
   * running statistics), first maximum on ties. Scores `batchSize` rows at a time (default 100)
   * into reused workspace buffers, so a 60,000-image X never needs 60,000 rows of scores.
   */
  predict(X: Tensor, options: PredictOptions = {}): Int32Array {
    const fn = `${this.#name}.predict`;
    this.checkInput(fn, X);
    const { batchSize, flip } = checkPredictOptions(fn, options, X);
    try {
      return predictRows(X, batchSize, this.#predictions, (batch) => this.compute(batch, undefined, true) as Tensor, false, flip);
    } catch (error) {
      this.ws.dispose();
      this.#predictions.dispose();
      throw error;
    }
  }

  /**
   * The test-mode loss (mean softmax cross-entropy, without the weight penalty), the accuracy and
   * the accuracy of each class on (X, y), scoring `batchSize` rows at a time (default 100).
   */
  evaluate(X: Tensor, y: Labels, options: EvaluateOptions = {}): Evaluation {
    const fn = `${this.#name}.evaluate`;
    this.checkInput(fn, X);
    try {
      return evaluateRows(fn, X, y, this.config.numClasses, options, this.ws, (batch) => this.compute(batch, undefined, true) as Tensor);
    } catch (error) {
      this.ws.dispose();
      throw error;
    }
  }

  /**
   * The forward (and with labels, backward) pass. Without labels it returns test-mode scores:
   * a new tensor the caller owns, or with `reuseScores` the workspace's scores buffer (valid
   * until the next call).
   */
  protected abstract compute(X: Tensor, y?: Targets, reuseScores?: boolean): Tensor | [number, Record<string, Tensor>];

  /** Checks X is a batch this model takes (naming `fn` in errors); returns N. */
  protected abstract checkInput(fn: string, X: unknown): number;

  /** Running statistics (zeros, as in the notes) for normalized layer i with `features` features. */
  protected addBatchNorm(i: number, features: number): void {
    // Each statistic is registered in buffers as soon as it exists, so dispose() finds it.
    const runningMean = (this.buffers[`runningMean${i}`] = keep(zeros([features], { dtype: this.dtype })));
    const runningVar = (this.buffers[`runningVar${i}`] = keep(zeros([features], { dtype: this.dtype })));
    this.bnParams.push({ mode: "train", eps: 1e-5, momentum: 0.9, runningMean, runningVar });
  }

  /** Checks X has the model's dtype (a float32 batch into a float64 net is a TypeError naming both). */
  protected checkInputDtype(fn: string, X: Tensor): void {
    if (X.dtype !== this.dtype) {
      throw new TypeError(
        `${fn}: X is ${X.dtype} but the model's parameters are ${this.dtype}; make X with { dtype: "${this.dtype}" } or build the model with dtype: "${X.dtype}"`,
      );
    }
  }

  /** Adds the weight penalty's gradient to the gradients and returns the penalty. */
  protected penalty(reg: number, kind: Regularization): number {
    return regularize(this.paramStore, this.#weightNames, reg, kind);
  }

  // A training pass writes the gradients and the running statistics in place (Tensor.version).
  #markTrainingWrites(): void {
    this.paramStore.gradFlat.markWritten();
    for (const t of Object.values(this.buffers)) t.markWritten();
  }

  /** Frees parameters, gradients, batch-norm statistics and workspace. */
  dispose(): void {
    this.ws.dispose();
    this.#predictions.dispose();
    for (const t of Object.values(this.buffers)) t.dispose();
    this.paramStore.dispose();
  }
}
