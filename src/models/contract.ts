// The model contract: what a training loop, a checkpoint and a caller of predict() need of a
// model. It sits below both the models and the Solver, so a model never imports the loop that
// trains it, and the Solver never imports a concrete model.
import type { Targets } from "../layers/targets.js";
import type { Tensor } from "../core/tensor.js";
import type { ParamStore } from "./param-store.js";

/** Options of `model.predict(X, options)`. */
export interface PredictOptions {
  /** Rows scored at a time (default 100): memory for activations grows with it, not with N. */
  batchSize?: number;
  /**
   * Test-time augmentation. "flip": every image is also scored mirrored left-right, and the two
   * rows of class scores are added before the argmax (images (N, C, H, W), float32 or float64). About
   * twice the work. Default "none".
   */
  tta?: "none" | "flip";
}

/** What the Solver needs of a model. */
export interface TrainableModel {
  /** The parameters by name (W1, b1, ... or "0.weight", ...); the Solver updates them in place. */
  params: Record<string, Tensor>;
  /** Test-mode class scores (N, C); the caller owns the result. */
  loss(X: Tensor): Tensor;
  /**
   * Training mode: [loss, gradients by parameter name]. y: integer labels, or soft labels
   * (N, numClasses) when the Solver's augment list has a mixup.
   */
  loss(X: Tensor, y: Targets): [number, Record<string, Tensor>];
  /**
   * Class index of each row of X (the argmax of the test-mode scores, first maximum on ties).
   * Optional: the Solver scores a model without it through loss(X).
   */
  predict?(X: Tensor, options?: PredictOptions): Int32Array;
  /** Mirrored flat params/grads: lets a built-in rule update everything in one kernel call. */
  paramStore?: ParamStore;
  /** Names of frozen parameters: loss(X, y) gives them no gradient and the Solver does not update them. */
  readonly frozen?: readonly string[];
  /** Non-parameter state that belongs with the parameters (batch-norm running statistics). */
  buffers?: Record<string, Tensor>;
  /** Position of the model's own random stream (dropout), for bit-identical resume. */
  rngState?: number;
  /** The model's options; the Solver reads numClasses to check labels when it is given. */
  config?: {
    /** Number of classes the model scores (labels must be in [0, numClasses)). */
    numClasses?: number;
  };
}

/** What checkpoints need of a model beyond training. */
export interface CheckpointableModel extends TrainableModel {
  /** The constructor options, normalised and JSON-serialisable. */
  readonly config: object;
  /** Frees the model's parameters, gradients, buffers and workspace. */
  dispose(): void;
  /** Freezes parameters by name (a model with frozen parameters must have it, to be loaded back frozen). */
  freeze?(names: readonly string[]): unknown;
}
