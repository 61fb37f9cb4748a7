// Minibatch training of any model with params and loss(X, y), as in the course's Solver:
// seeded sampling with replacement, any update rule, per-epoch learning-rate decay or a schedule
// (cosine with warm-up, or a function), loss and accuracy history, and the best parameters (by
// validation accuracy) restored at the end. Training batches can be augmented (flip, crop,
// cutout, mixup) and drawn from float32 tensors or uint8 image sets. The Solver owns its state:
// state() / restoreState() are how checkpoints save and resume a run.
//
// Inputs are checked once, at construction (options, optimizer config and state, labels); the
// training loop then calls unchecked cores (the update rules' kernels, model.loss with labels
// marked as checked).
import { applyAugmentations, checkAugmentations, checkAugmentShapes, type Augmentation } from "./augment.js";
import { checkByteData, makeSources, tensorSource, type BatchSource, type DataInfo } from "./data/batches.js";
import type { ImageDataset, Normalization } from "./data/dataset.js";
import { checkLabels, withCheckedLabels, type Labels } from "./labels.js";
import { Int32Scratch } from "./int32-scratch.js";
import type { PredictOptions, TrainableModel } from "./models/contract.js";
import { DEFAULT_PREDICT_BATCH, predictRows } from "./models/predict.js";
import {
  checkOptimConfig,
  checkOptimState,
  DEFAULT_LEARNING_RATES,
  disposeOptimState,
  updateCores,
  updateRules,
  type OptimConfig,
  type Segments,
  type UpdateRule,
  type UpdateRuleName,
} from "./optim.js";
import { deriveSeed, drawSubSeed } from "./random.js";
import { kernels } from "./runtime.js";
import { checkSchedule, cosineRate, type CosineSchedule, type LearningRateSchedule, type ScheduleFunction } from "./schedule.js";
import type { Targets } from "./targets.js";
import { checkShape, checkTensor, keep, tensor, Tensor } from "./tensor.js";
import { checkEnum, checkInteger, checkNumber, checkOptions, checkSeed, describe, shapeString } from "./validate.js";
import { Workspace } from "./workspace.js";

export type { TrainableModel } from "./models/contract.js";

/**
 * Training and validation data: float32 tensors with integer labels, or uint8 image sets (see
 * ImageDataset) with the normalization to apply. Byte sets stay bytes (in host memory): each
 * batch is converted and normalized in wasm, giving the same bits as toSolverData's tensors
 * without a float32 copy of the set (CIFAR-10: 154 MB of bytes instead of 614 MB of floats).
 */
export type SolverData =
  | { XTrain: Tensor; yTrain: Labels; XVal: Tensor; yVal: Labels }
  | { train: ImageDataset; val: ImageDataset; normalization?: Normalization };

export interface ProgressEvent {
  epoch: number;
  numEpochs: number;
  iteration: number;
  numIterations: number;
  loss: number;
  /** Set at the first and last iteration and at each epoch end. */
  trainAcc?: number;
  valAcc?: number;
  /** The learning rate in the optimizer config after this iteration (after an epoch end's lrDecay). */
  learningRate?: number;
}

export interface SolverOptions {
  updateRule?: UpdateRuleName | UpdateRule;
  optimConfig?: OptimConfig;
  /** Learning rate multiplier applied after every epoch (default 1). Not with lrSchedule. */
  lrDecay?: number;
  /**
   * A per-iteration schedule instead of lrDecay: `{ type: "cosine", warmupEpochs?, minLearningRate? }`
   * (from optimConfig.learningRate, or the rule's default) or `(epoch, iteration) => learningRate`.
   */
  lrSchedule?: LearningRateSchedule;
  batchSize?: number;
  numEpochs?: number;
  /** Training samples used to estimate training accuracy (default 1000; null: all). */
  numTrainSamples?: number | null;
  /** Validation samples used for validation accuracy (default null: all). */
  numValSamples?: number | null;
  seed?: number;
  verbose?: boolean;
  printEvery?: number;
  onProgress?: (event: ProgressEvent) => void;
  /** What to do when the loss stops being finite: stop with an error (default) or keep going. */
  onNonFinite?: "throw" | "continue";
  /**
   * Which parameters optimConfig.weightDecay applies to: "all" (default, as PyTorch's optimizers)
   * or "weights": those of rank 2 or more, sparing biases and batch-norm scales and shifts (the
   * small-net recipes' choice).
   */
  weightDecayParams?: "all" | "weights";
  /**
   * Augmentations applied in order to every training batch (not to accuracy checks), e.g.
   * [{ type: "randomFlip" }, { type: "randomCrop", padding: 2 }, { type: "mixup", alpha: 0.2 }].
   * Their draws come from the Solver's stream, so a run reproduces and resumes bit-identically.
   */
  augment?: Augmentation[];
}

/** A cosine schedule as stored in a state (a function cannot be: "custom"). */
export type ScheduleState = Required<CosineSchedule> | "custom" | null;

/**
 * Everything that decides how a run continues, as plain data: what state() returns and
 * restoreState() takes (checkpoints store it: numbers as JSON, tensors as raw float32, or float64
 * for a float64 model).
 */
export interface SolverState {
  /** The options the run was made with; a Solver must match them (except numEpochs) to continue it. */
  options: {
    /** null: a custom update rule function. */
    updateRule: UpdateRuleName | null;
    lrDecay: number;
    lrSchedule: ScheduleState;
    batchSize: number;
    numEpochs: number;
    numTrainSamples: number | null;
    numValSamples: number | null;
    seed: number;
    /** The augment list; absent when empty (so a state without augmentation reads as before). */
    augment?: Augmentation[];
    /** Absent for "all" (states from before the option read as before). */
    weightDecayParams?: "weights";
  };
  iterationsPerEpoch: number;
  epoch: number;
  /** Iterations done (= lossHistory.length). */
  iteration: number;
  /** Position in the sampling stream. */
  rngState: number;
  /** The learning rate schedules start from (optimConfig.learningRate or the rule's default); null if unknown. */
  baseLearningRate: number | null;
  bestValAcc: number;
  lossHistory: number[];
  trainAccHistory: number[];
  valAccHistory: number[];
  /** The iteration (1-based) of each accuracy check: one per trainAccHistory entry. */
  accuracyIterations: number[];
  /** Update-rule state per config key ("all" for the flat region, else a parameter name). */
  optimConfigs: Record<string, { numbers: Record<string, number>; tensors: Record<string, { shape: readonly number[]; data: Float32Array | Float64Array }> }>;
  /** bestState() (the best parameters and buffers by name), or null before the first accuracy check. */
  best: Record<string, Float32Array | Float64Array> | null;
}

const KNOWN = [
  "updateRule", "optimConfig", "lrDecay", "lrSchedule", "batchSize", "numEpochs", "numTrainSamples", "numValSamples",
  "seed", "verbose", "printEvery", "onProgress", "onNonFinite", "augment", "weightDecayParams",
];
const OPTIM_KEYS = ["learningRate", "momentum", "velocity", "decayRate", "epsilon", "cache", "beta1", "beta2", "m", "v", "t", "weightDecay"];
const STATE_KEYS = ["velocity", "cache", "m", "v"];

export class Solver {
  readonly model: TrainableModel;
  readonly updateRule: UpdateRule;
  /** The built-in rule's name, or null for a custom rule function. */
  readonly updateRuleName: UpdateRuleName | null;
  readonly lrDecay: number;
  /** The per-iteration schedule (cosine with its defaults filled in, or the function), or null: lrDecay per epoch. */
  readonly lrSchedule: Required<CosineSchedule> | ScheduleFunction | null;
  readonly batchSize: number;
  readonly numEpochs: number;
  readonly numTrainSamples: number | null;
  readonly numValSamples: number | null;
  readonly seed: number;
  readonly verbose: boolean;
  readonly printEvery: number;
  onProgress?: (event: ProgressEvent) => void;
  readonly onNonFinite: "throw" | "continue";
  /** The augmentations applied to every training batch, in order. */
  readonly augment: readonly Augmentation[];
  /** Which parameters optimConfig.weightDecay applies to (see SolverOptions). */
  readonly weightDecayParams: "all" | "weights";

  #epoch = 0;
  #bestValAcc = 0;
  #baseLearningRate: number | null;
  readonly #lossHistory: number[] = [];
  readonly #trainAccHistory: number[] = [];
  readonly #valAccHistory: number[] = [];
  readonly #accuracyIterations: number[] = [];
  readonly #views = {
    lossHistory: readOnlyArray(this.#lossHistory, "lossHistory"),
    trainAccHistory: readOnlyArray(this.#trainAccHistory, "trainAccHistory"),
    valAccHistory: readOnlyArray(this.#valAccHistory, "valAccHistory"),
    accuracyIterations: readOnlyArray(this.#accuracyIterations, "accuracyIterations"),
  };
  /** Update-rule state: one config per parameter name, or `{ all }` when the rule runs on the flat region. */
  #optimConfigs: Record<string, OptimConfig> = {};
  #rngState = 0;
  #holdsBest = false;

  /** Where training and validation rows come from (tensors, or byte sets converted per batch). */
  readonly #train: BatchSource;
  readonly #val: BatchSource;
  /** The class bound the labels were checked against (the model's numClasses when it has one). */
  readonly #classes: number;
  /** Classes of mixup's soft labels: the model's numClasses, else a byte set's. */
  readonly #numClasses: number | undefined;
  readonly #flat: boolean;
  readonly #ws = new Workspace("Solver");
  readonly #indices = new Int32Scratch("Solver indices");
  readonly #predictions = new Int32Scratch("Solver predictions");
  readonly #labels = new Map<string, Int32Array>();
  #best: Record<string, Tensor> = {};
  #last: Record<string, Tensor> = {}; // the last state while holdsBest (restoreBest() keeps it)

  constructor(model: TrainableModel, data: SolverData, options: SolverOptions = {}) {
    const fn = "Solver";
    if (model === null || typeof model !== "object" || typeof model.loss !== "function" || typeof model.params !== "object") {
      throw new TypeError(`${fn}: model must have params and loss(X, y) (got ${describe(model)})`);
    }
    this.model = model;
    this.#classes = model.config?.numClasses ?? Number.MAX_SAFE_INTEGER;
    const checked = checkData(fn, data, this.#classes);
    const o = checkOptions(fn, "options", options, KNOWN) as SolverOptions;
    const rule = o.updateRule ?? "sgd";
    if (typeof rule === "function") {
      this.updateRule = rule;
      this.updateRuleName = null;
    } else {
      this.updateRuleName = checkEnum(fn, "options.updateRule", rule, Object.keys(updateRules) as UpdateRuleName[]);
      this.updateRule = updateRules[this.updateRuleName];
    }
    this.#flat = this.updateRuleName !== null && model.paramStore !== undefined;
    // A built-in rule's config is checked in full now (keys, ranges, state tensors), not at every step.
    const optimConfig = this.updateRuleName !== null
      ? checkOptimConfig(fn, "options.optimConfig", this.updateRuleName, o.optimConfig)
      : (checkOptions(fn, "options.optimConfig", o.optimConfig ?? {}, OPTIM_KEYS) as OptimConfig);
    if (optimConfig.learningRate !== undefined) checkNumber(fn, "options.optimConfig.learningRate", optimConfig.learningRate, { min: 0 });
    this.batchSize = o.batchSize === undefined ? 100 : checkInteger(fn, "options.batchSize", o.batchSize, 1);
    this.numEpochs = o.numEpochs === undefined ? 10 : checkInteger(fn, "options.numEpochs", o.numEpochs, 0);
    this.lrDecay = o.lrDecay === undefined ? 1 : checkNumber(fn, "options.lrDecay", o.lrDecay, { min: 0 });
    this.lrSchedule = o.lrSchedule === undefined ? null : checkSchedule(fn, "options.lrSchedule", o.lrSchedule, this.numEpochs);
    if (this.lrSchedule !== null && this.lrDecay !== 1) {
      throw new TypeError(`${fn}: options.lrDecay and options.lrSchedule do not combine: a schedule sets the learning rate of every iteration (give one of them)`);
    }
    this.#baseLearningRate = optimConfig.learningRate ?? (this.updateRuleName === null ? null : DEFAULT_LEARNING_RATES[this.updateRuleName]);
    if (this.lrSchedule !== null && typeof this.lrSchedule !== "function") {
      if (this.#baseLearningRate === null) {
        throw new TypeError(`${fn}: a cosine lrSchedule with a custom updateRule needs options.optimConfig.learningRate (the rate it starts from)`);
      }
      if (this.lrSchedule.minLearningRate > this.#baseLearningRate) {
        throw new RangeError(`${fn}: options.lrSchedule.minLearningRate (${this.lrSchedule.minLearningRate}) must not exceed the learning rate it anneals from (${this.#baseLearningRate})`);
      }
    }
    this.numTrainSamples = o.numTrainSamples === undefined ? 1000 : o.numTrainSamples === null ? null : checkInteger(fn, "options.numTrainSamples", o.numTrainSamples, 1);
    this.numValSamples = o.numValSamples == null ? null : checkInteger(fn, "options.numValSamples", o.numValSamples, 1);
    this.seed = o.seed === undefined ? drawSubSeed() : checkSeed(fn, "options.seed", o.seed);
    if (o.verbose !== undefined && typeof o.verbose !== "boolean") throw new TypeError(`${fn}: options.verbose must be a boolean (got ${describe(o.verbose)})`);
    this.verbose = o.verbose ?? true;
    this.printEvery = o.printEvery === undefined ? 10 : checkInteger(fn, "options.printEvery", o.printEvery, 1);
    if (o.onProgress !== undefined && typeof o.onProgress !== "function") {
      throw new TypeError(`${fn}: options.onProgress must be a function (got ${describe(o.onProgress)})`);
    }
    this.onProgress = o.onProgress;
    this.onNonFinite = o.onNonFinite === undefined ? "throw" : checkEnum(fn, "options.onNonFinite", o.onNonFinite, ["throw", "continue"] as const);
    this.augment = Object.freeze(o.augment === undefined ? [] : checkAugmentations(fn, "options.augment", o.augment));
    this.weightDecayParams = o.weightDecayParams === undefined ? "all" : checkEnum(fn, "options.weightDecayParams", o.weightDecayParams, ["all", "weights"] as const);
    this.#numClasses = model.config?.numClasses ?? checked.numClasses;
    checkAugmentShapes(fn, this.augment, checked.rowShape, this.#numClasses);

    // Each config key gets its own copy of any state tensor given (the Solver owns and frees it);
    // a built-in rule's state is checked against what it will update now, so steps need not.
    const targets = this.#updateTargets();
    const given = STATE_KEYS.filter((key) => (optimConfig as Record<string, unknown>)[key] !== undefined);
    if (given.length > 0 && targets.length > 1) {
      throw new TypeError(
        `${fn}: options.optimConfig.${given[0]} is one tensor, but this model's parameters are updated as ${targets.length} separate tensors: ` +
          `leave the state out (it starts at zeros) or give a model with a paramStore`,
      );
    }
    for (const [name, w] of targets) {
      if (this.updateRuleName !== null) checkOptimState(fn, "options.optimConfig", optimConfig, w, w);
      const config: Record<string, unknown> = { ...optimConfig };
      for (const key of given) config[key] = keep((config[key] as Tensor).clone());
      this.#optimConfigs[name] = config as OptimConfig;
    }
    // Last: the sources allocate (a byte set's table), once everything else was accepted.
    try {
      [this.#train, this.#val] = makeSources(fn, data);
    } catch (error) {
      for (const config of Object.values(this.#optimConfigs)) disposeOptimState(config);
      throw error;
    }
  }

  /** Iterations per epoch: max(floor(numTrain / batchSize), 1). */
  get iterationsPerEpoch(): number {
    return Math.max(Math.floor(this.#train.count / this.batchSize), 1);
  }

  /** Epochs completed. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Iterations completed (= lossHistory.length). */
  get iteration(): number {
    return this.#lossHistory.length;
  }

  /** The best validation accuracy seen so far. */
  get bestValAcc(): number {
    return this.#bestValAcc;
  }

  /** Loss of every iteration (read-only: writing to it throws). */
  get lossHistory(): readonly number[] {
    return this.#views.lossHistory;
  }

  /** Training accuracy at each check (read-only). */
  get trainAccHistory(): readonly number[] {
    return this.#views.trainAccHistory;
  }

  /** Validation accuracy at each check (read-only). */
  get valAccHistory(): readonly number[] {
    return this.#views.valAccHistory;
  }

  /** The iteration (1-based, as in ProgressEvent.iteration) of each accuracy check (read-only). */
  get accuracyIterations(): readonly number[] {
    return this.#views.accuracyIterations;
  }

  /** Update-rule state: one config per parameter name, or `{ all }` when the rule runs on the flat region. */
  get optimConfigs(): Readonly<Record<string, Readonly<OptimConfig>>> {
    return Object.freeze({ ...this.#optimConfigs });
  }

  /** Position in the Solver's sampling stream. */
  get rngState(): number {
    return this.#rngState;
  }

  /**
   * True after restoreBest() (train() ends with it) until the next step(): the model then holds
   * the best parameters, not the last ones training would continue from (lastState() has those,
   * and saveCheckpoint uses them).
   */
  get holdsBest(): boolean {
    return this.#holdsBest;
  }

  /** The learning rate schedules start from: optimConfig.learningRate, or the built-in rule's default (null for a custom rule without one). */
  get baseLearningRate(): number | null {
    return this.#baseLearningRate;
  }

  /** The learning rate the optimizer config holds now (the next step's under lrDecay; the last step's under a schedule). */
  get learningRate(): number | null {
    return Object.values(this.#optimConfigs)[0]?.learningRate ?? this.#baseLearningRate;
  }

  /** One gradient step on a sampled minibatch; returns its loss. */
  step(): number {
    try {
      return this.#step();
    } catch (error) {
      // E.g. out of memory midway: give back the batch and index buffers too (the next step makes them again).
      this.#ws.dispose();
      this.#indices.dispose();
      throw error;
    }
  }

  #step(): number {
    const n = Math.min(this.batchSize, this.#train.count);
    const iteration = this.#lossHistory.length;
    this.#holdsBest = false;
    const offset = this.#rngState; // the batch's counters: its augmentations draw at the same position
    const [Xb, yb] = this.#sample(this.#train, n, "batch");
    // The labels were checked at construction (mixup and the model skip their scans); soft labels
    // (mixup's) are the model's to check.
    const [X, y] = withCheckedLabels(yb, this.#classes, () => this.#augmentBatch(Xb, yb, offset));
    const [loss, grads] = y instanceof Int32Array ? withCheckedLabels(y, this.#classes, () => this.model.loss(X, y)) : this.model.loss(X, y);
    this.#lossHistory.push(loss);
    if (!Number.isFinite(loss) && this.onNonFinite === "throw") {
      const lr = this.learningRate;
      throw new RangeError(
        `Solver: the loss became ${loss} at iteration ${this.#lossHistory.length} (epoch ${this.#epoch}); ` +
          `the learning rate${lr === null ? "" : ` (${lr})`} is probably too large: try a smaller optimConfig.learningRate, ` +
          `or pass onNonFinite: "continue" to keep going. The parameters were not updated by this step.`,
      );
    }
    if (this.lrSchedule !== null) {
      const rate = this.#scheduledRate(iteration);
      for (const config of Object.values(this.#optimConfigs)) config.learningRate = rate;
    }
    const frozen = new Set(this.model.frozen ?? []);
    if (this.#flat) {
      const store = this.model.paramStore!;
      updateCores[this.updateRuleName!](store.flat, store.gradFlat, this.#optimConfigs.all, this.#segments(frozen));
    } else {
      for (const [name, w] of Object.entries(this.model.params)) {
        if (frozen.has(name)) continue;
        if (this.updateRuleName !== null) {
          // The model's gradients come fresh from each call: O(1) checks, then the unchecked core.
          const dw = checkTensor("Solver.step", `the gradient of "${name}"`, grads?.[name]);
          checkShape("Solver.step", `the gradient of "${name}"`, dw, w.shape, "the parameter's shape");
          updateCores[this.updateRuleName](w, dw, this.#optimConfigs[name], [[0, w.size, this.#decays(w)]]);
          continue;
        }
        const result: unknown = this.updateRule(w, grads[name], this.#optimConfigs[name]);
        const [nextW, config] = checkRuleResult(result, name, w);
        if (nextW !== w) {
          w.set(nextW);
          nextW.dispose();
        }
        this.#optimConfigs[name] = config;
      }
    }
    return loss;
  }

  /** Whether the weight decay applies to parameter w (weightDecayParams). */
  #decays(w: Tensor): boolean {
    return this.weightDecayParams === "all" || w.shape.length >= 2;
  }

  /**
   * The runs of the flat region an update covers: trainable parameters only, each run marked with
   * whether the weight decay applies; undefined when that is all of it (one kernel call).
   */
  #segments(frozen: ReadonlySet<string>): Segments | undefined {
    const store = this.model.paramStore!;
    if (frozen.size === 0 && this.weightDecayParams === "all") return undefined;
    const runs: [number, number, boolean][] = [];
    for (const name of store.names) {
      const w = store.params[name];
      if (frozen.has(name)) continue;
      const start = (w.ptr - store.flat.ptr) / w.itemBytes;
      const decay = this.#decays(w);
      const last = runs.at(-1);
      if (last && last[1] === start && last[2] === decay) last[1] = start + w.size;
      else runs.push([start, start + w.size, decay]);
    }
    return runs;
  }

  #scheduledRate(iteration: number): number {
    const s = this.lrSchedule!;
    if (typeof s !== "function") return cosineRate(s, this.#baseLearningRate!, iteration, this.iterationsPerEpoch, this.numEpochs);
    const rate: unknown = s(this.#epoch, iteration);
    return checkNumber("Solver.step", `options.lrSchedule(${this.#epoch}, ${iteration}) (the learning rate)`, rate, { min: 0, float32: true });
  }

  /** Accuracy of the model on (X, y), on a seeded subsample of numSamples rows when given. */
  checkAccuracy(X: Tensor, y: Labels, numSamples: number | null = null, batchSize = DEFAULT_PREDICT_BATCH): number {
    const fn = "Solver.checkAccuracy";
    checkTensor(fn, "X", X);
    if (X.shape.length < 2) throw new RangeError(`${fn}: X must have shape (N, ...) (got ${shapeString(X.shape)})`);
    checkLabels(fn, y, X.shape[0], Number.MAX_SAFE_INTEGER);
    checkInteger(fn, "batchSize", batchSize, 1);
    if (numSamples !== null) checkInteger(fn, "numSamples", numSamples, 1);
    return this.#accuracy(tensorSource("X", X, y), numSamples, batchSize);
  }

  // Accuracy over a checked source (by checkAccuracy, or at construction for the Solver's own
  // data): a seeded subsample gathered into one buffer, or every row, a batch at a time (a
  // tensor's rows are views; a byte set's are converted into one reused batch buffer). These are
  // the batches predict() scores in one call, so both kinds of data give the same bits.
  #accuracy(source: BatchSource, numSamples: number | null, batchSize: number): number {
    if (numSamples !== null && source.count > numSamples) {
      const [X, labels] = this.#sample(source, numSamples, "accuracy");
      return countCorrect(this.#predict(X, { batchSize }), labels, 0) / numSamples;
    }
    const total = source.count;
    if (total === 0) return 0;
    let correct = 0;
    for (let start = 0; start < total; start += batchSize) {
      const count = Math.min(batchSize, total - start);
      const rows = source.rows(start, count, () => this.#ws.get("rows", [batchSize, ...source.rowShape]));
      let pred: Int32Array;
      try {
        pred = this.#predict(rows, { batchSize });
      } finally {
        rows.dispose();
      }
      correct += countCorrect(pred, source.labels, start);
    }
    return correct / total;
  }

  #predict(X: Tensor, options: PredictOptions): Int32Array {
    if (typeof this.model.predict === "function") return this.model.predict(X, options);
    // A model without predict: score through loss(X), which returns tensors the caller owns.
    return predictRows(X, options.batchSize ?? DEFAULT_PREDICT_BATCH, this.#predictions, (batch) => this.model.loss(batch), true);
  }

  /** Runs the whole optimization, then restores the best parameters seen (by validation accuracy). */
  train(): this {
    const perEpoch = this.iterationsPerEpoch;
    const numIterations = this.numEpochs * perEpoch;
    const startIteration = this.#lossHistory.length;
    for (let t = startIteration; t < numIterations; t++) {
      const loss = this.step();
      if (this.verbose && t % this.printEvery === 0) console.log(`(Iteration ${t + 1} / ${numIterations}) loss: ${loss.toFixed(6)}`);
      const epochEnd = (t + 1) % perEpoch === 0;
      if (epochEnd) {
        this.#epoch++;
        if (this.lrSchedule === null) {
          for (const config of Object.values(this.#optimConfigs)) {
            if (config.learningRate !== undefined) config.learningRate *= this.lrDecay;
          }
        }
      }
      const event: ProgressEvent = {
        epoch: this.#epoch, numEpochs: this.numEpochs, iteration: t + 1, numIterations, loss,
        learningRate: Object.values(this.#optimConfigs)[0]?.learningRate,
      };
      if (t === 0 || t === numIterations - 1 || epochEnd) {
        const trainAcc = this.#accuracy(this.#train, this.numTrainSamples, DEFAULT_PREDICT_BATCH);
        const valAcc = this.#accuracy(this.#val, this.numValSamples, DEFAULT_PREDICT_BATCH);
        this.#trainAccHistory.push(trainAcc);
        this.#valAccHistory.push(valAcc);
        this.#accuracyIterations.push(t + 1);
        event.trainAcc = trainAcc;
        event.valAcc = valAcc;
        if (this.verbose) console.log(`(Epoch ${this.#epoch} / ${this.numEpochs}) train acc: ${trainAcc.toFixed(6)}; val_acc: ${valAcc.toFixed(6)}`);
        if (valAcc > this.#bestValAcc || Object.keys(this.#best).length === 0) {
          this.#bestValAcc = Math.max(this.#bestValAcc, valAcc);
          this.#saveBest();
        }
      }
      this.onProgress?.(event);
    }
    this.restoreBest();
    return this;
  }

  /**
   * Copies the best parameters (and buffers) seen so far back into the model. The last ones are
   * kept (lastState()), so a checkpoint saved after train() still has what resuming needs.
   */
  restoreBest(): void {
    if (!this.holdsBest) this.#last = this.#copyState(this.#last);
    for (const [name, t] of Object.entries(this.#stateTensors())) {
      const best = this.#best[name];
      if (best && !best.isDisposed) t.set(best);
    }
    this.#holdsBest = true;
  }

  /**
   * While holdsBest: copies of the parameters and buffers training would continue from (the
   * last ones, kept by restoreBest()), named as in bestState(). Empty otherwise. For checkpoints.
   */
  lastState(): Record<string, Float32Array | Float64Array> {
    return this.holdsBest ? this.#namedArrays(this.#last) : {};
  }

  /**
   * Copies of the best parameters and buffers seen so far (by validation accuracy), by name:
   * params under their own names, buffers as `buffer:<name>`. Empty before the first accuracy
   * check. For checkpoints.
   */
  bestState(): Record<string, Float32Array | Float64Array> {
    return this.#namedArrays(this.#best);
  }

  #namedArrays(copies: Record<string, Tensor>): Record<string, Float32Array | Float64Array> {
    const out: Record<string, Float32Array | Float64Array> = {};
    const arrays = new Map<string, Float32Array | Float64Array>();
    for (const [{ key, storage, start }, view] of this.#namedStateViews()) {
      const copy = copies[storage];
      if (!copy || copy.isDisposed) return {};
      if (!arrays.has(storage)) arrays.set(storage, copy.toArray());
      out[key] = arrays.get(storage)!.slice(start, start + view.size);
    }
    return out;
  }

  /** Sets the best snapshot (and bestValAcc) from bestState()'s output, e.g. when resuming. */
  setBestState(values: Record<string, ArrayLike<number>>, bestValAcc: number): void {
    const fn = "Solver.setBestState";
    checkNumber(fn, "bestValAcc", bestValAcc, { min: 0, max: 1 });
    this.#checkBestValues(fn, "values", values);
    this.#setBest(values);
    this.#bestValAcc = bestValAcc;
  }

  #checkBestValues(fn: string, name: string, values: Record<string, ArrayLike<number>>): void {
    for (const [{ key }, view] of this.#namedStateViews()) {
      const v = values?.[key];
      if (v === undefined || v === null || v.length !== view.size) {
        throw new RangeError(`${fn}: ${name}["${key}"] must hold ${view.size} numbers (got ${describe(v)})`);
      }
    }
  }

  #setBest(values: Record<string, ArrayLike<number>>): void {
    this.#saveBest(); // allocates the copies with the right sizes
    for (const [{ key, storage, start }, view] of this.#namedStateViews()) {
      const target = this.#best[storage].sliceView(start, view.shape);
      target.set(values[key]);
      target.dispose();
    }
  }

  /**
   * The run's state as plain data (copies): options, counters, sampling position, histories,
   * accuracy-check iterations, optimizer state and the best snapshot. A fresh Solver made with
   * the same options and data continues the run bit-identically after restoreState(state) (the
   * model's last parameters, buffers and rngState are the model's to restore).
   */
  state(): SolverState {
    const optimConfigs: SolverState["optimConfigs"] = {};
    for (const [key, config] of Object.entries(this.#optimConfigs)) {
      const numbers: Record<string, number> = {};
      const tensors: Record<string, { shape: readonly number[]; data: Float32Array | Float64Array }> = {};
      for (const [field, value] of Object.entries(config as Record<string, unknown>)) {
        if (value instanceof Tensor) tensors[field] = { shape: [...value.shape], data: value.toArray() };
        else if (typeof value === "number") numbers[field] = value;
      }
      optimConfigs[key] = { numbers, tensors };
    }
    const best = this.bestState();
    return {
      options: {
        updateRule: this.updateRuleName,
        lrDecay: this.lrDecay,
        lrSchedule: this.#scheduleState(),
        batchSize: this.batchSize,
        numEpochs: this.numEpochs,
        numTrainSamples: this.numTrainSamples,
        numValSamples: this.numValSamples,
        seed: this.seed,
        ...(this.augment.length > 0 ? { augment: this.augment.map((a) => ({ ...a })) } : {}),
        ...(this.weightDecayParams === "weights" ? { weightDecayParams: "weights" as const } : {}),
      },
      iterationsPerEpoch: this.iterationsPerEpoch,
      epoch: this.#epoch,
      iteration: this.#lossHistory.length,
      rngState: this.#rngState,
      baseLearningRate: this.#baseLearningRate,
      bestValAcc: this.#bestValAcc,
      lossHistory: [...this.#lossHistory],
      trainAccHistory: [...this.#trainAccHistory],
      valAccHistory: [...this.#valAccHistory],
      accuracyIterations: [...this.#accuracyIterations],
      optimConfigs,
      best: Object.keys(best).length > 0 ? best : null,
    };
  }

  #scheduleState(): ScheduleState {
    const s = this.lrSchedule;
    return s === null ? null : typeof s === "function" ? "custom" : { ...s };
  }

  /**
   * Puts this fresh Solver where state() left a run: counters, sampling position, histories,
   * optimizer state, best snapshot. Its options must be the saved ones (numEpochs may differ:
   * it is the new total); anything else is a RangeError naming the mismatch, and nothing changes.
   */
  restoreState(state: SolverState): void {
    const fn = "Solver.restoreState";
    const s = checkOptions(fn, "state", state, [
      "options", "iterationsPerEpoch", "epoch", "iteration", "rngState", "baseLearningRate", "bestValAcc",
      "lossHistory", "trainAccHistory", "valAccHistory", "accuracyIterations", "optimConfigs", "best",
    ]) as unknown as SolverState;
    if (this.#lossHistory.length > 0) throw new RangeError(`${fn}: this solver has already trained ${this.#lossHistory.length} iterations; restore into a fresh Solver`);
    const o = checkOptions(fn, "state.options", s.options, [
      "updateRule", "lrDecay", "lrSchedule", "batchSize", "numEpochs", "numTrainSamples", "numValSamples", "seed", "augment", "weightDecayParams",
    ]) as unknown as SolverState["options"];
    const mismatches: string[] = [];
    if (o.updateRule !== this.updateRuleName) {
      mismatches.push(`updateRule ${this.updateRuleName ?? "(a custom function)"} (saved: ${o.updateRule ?? "a custom function: pass the same one"})`);
    }
    for (const key of ["lrDecay", "batchSize", "numTrainSamples", "numValSamples", "seed"] as const) {
      if (this[key] !== o[key]) mismatches.push(`${key} ${this[key]} (saved: ${o[key]})`);
    }
    const schedule = JSON.stringify(this.#scheduleState());
    if (schedule !== JSON.stringify(o.lrSchedule ?? null)) {
      mismatches.push(`lrSchedule ${schedule} (saved: ${JSON.stringify(o.lrSchedule ?? null)}${o.lrSchedule === "custom" ? ": pass the same function" : ""})`);
    }
    const augment = JSON.stringify(this.augment);
    const savedAugment = JSON.stringify(o.augment === undefined ? [] : checkAugmentations(fn, "state.options.augment", o.augment));
    if (augment !== savedAugment) mismatches.push(`augment ${augment} (saved: ${savedAugment})`);
    if (this.weightDecayParams !== (o.weightDecayParams ?? "all")) mismatches.push(`weightDecayParams ${this.weightDecayParams} (saved: ${o.weightDecayParams ?? "all"})`);
    if (this.iterationsPerEpoch !== s.iterationsPerEpoch) {
      mismatches.push(`${this.iterationsPerEpoch} iterations per epoch (saved: ${s.iterationsPerEpoch}: the training data has another size)`);
    }
    if (mismatches.length > 0) {
      throw new RangeError(`${fn}: this solver would not continue the saved run: ${mismatches.join("; ")}. Make it with the saved options (numEpochs may change) and the same data`);
    }
    const count = (name: string, v: unknown): number => checkInteger(fn, `state.${name}`, v, 0, Number.MAX_SAFE_INTEGER);
    const epoch = count("epoch", s.epoch);
    const iteration = count("iteration", s.iteration);
    const rngState = count("rngState", s.rngState);
    const bestValAcc = checkNumber(fn, "state.bestValAcc", s.bestValAcc, { min: 0, max: 1 });
    const base = s.baseLearningRate == null ? this.#baseLearningRate : checkNumber(fn, "state.baseLearningRate", s.baseLearningRate, { min: 0, float32: true });
    const list = (name: string, v: unknown, integers = false): number[] => {
      if (!Array.isArray(v) || v.some((x) => typeof x !== "number" || (integers && !Number.isSafeInteger(x)))) {
        throw new TypeError(`${fn}: state.${name} must be an array of ${integers ? "integers" : "numbers"} (got ${describe(v)})`);
      }
      return v as number[];
    };
    const lossHistory = list("lossHistory", s.lossHistory);
    const trainAcc = list("trainAccHistory", s.trainAccHistory);
    const valAcc = list("valAccHistory", s.valAccHistory);
    const checks = list("accuracyIterations", s.accuracyIterations, true);
    if (lossHistory.length !== iteration) throw new RangeError(`${fn}: state.lossHistory has ${lossHistory.length} entries but state.iteration is ${iteration}`);
    if (trainAcc.length !== valAcc.length || checks.length !== valAcc.length) {
      throw new RangeError(`${fn}: state.trainAccHistory, valAccHistory and accuracyIterations must have one entry per accuracy check (got ${trainAcc.length}, ${valAcc.length}, ${checks.length})`);
    }
    const configs = this.#checkOptimState(fn, s.optimConfigs);
    if (s.best !== null && s.best !== undefined) this.#checkBestValues(fn, "state.best", s.best);

    // Everything checked: now change state (only the tensor copies below can fail, out of memory).
    const made: OptimConfig[] = [];
    const targets = new Map(this.#updateTargets());
    try {
      for (const [key, { numbers, tensors }] of Object.entries(configs)) {
        const config: Record<string, unknown> = { ...(numbers ?? {}) };
        made.push(config as OptimConfig);
        for (const [field, t] of Object.entries(tensors ?? {})) config[field] = keep(tensor(t.data, targets.get(key)!.shape, { dtype: targets.get(key)!.dtype }));
      }
      if (s.best) this.#setBest(s.best);
    } catch (error) {
      for (const config of made) disposeOptimState(config);
      throw error;
    }
    for (const config of Object.values(this.#optimConfigs)) disposeOptimState(config);
    this.#optimConfigs = Object.fromEntries(Object.keys(configs).map((key, i) => [key, made[i]]));
    this.#rngState = rngState;
    this.#epoch = epoch;
    this.#baseLearningRate = base;
    this.#lossHistory.push(...lossHistory);
    this.#trainAccHistory.push(...trainAcc);
    this.#valAccHistory.push(...valAcc);
    this.#accuracyIterations.push(...checks);
    this.#bestValAcc = bestValAcc;
  }

  // The saved optimizer state must fit this solver's keys and shapes; numbers must be hyperparameters.
  #checkOptimState(fn: string, value: unknown): SolverState["optimConfigs"] {
    const expect = Object.keys(this.#optimConfigs);
    const configs = checkOptions(fn, "state.optimConfigs", value, expect) as SolverState["optimConfigs"];
    const keys = Object.keys(configs);
    if (keys.length !== expect.length) {
      throw new RangeError(`${fn}: state.optimConfigs has keys [${keys.join(", ")}] but this solver updates [${expect.join(", ")}]`);
    }
    const targets = new Map(this.#updateTargets());
    for (const key of keys) {
      const c = checkOptions(fn, `state.optimConfigs.${key}`, configs[key], ["numbers", "tensors"]);
      const numbers = checkOptions(fn, `state.optimConfigs.${key}.numbers`, c.numbers ?? {}, OPTIM_KEYS.filter((k) => !STATE_KEYS.includes(k)));
      for (const [field, v] of Object.entries(numbers)) {
        checkNumber(fn, `state.optimConfigs.${key}.numbers.${field}`, v, { min: 0, float32: field !== "t" });
        if (field === "t") checkInteger(fn, `state.optimConfigs.${key}.numbers.t`, v, 0);
      }
      const tensors = checkOptions(fn, `state.optimConfigs.${key}.tensors`, c.tensors ?? {}, STATE_KEYS);
      const target = targets.get(key)!;
      // The state's own precision: a float64 model's state is a Float64Array, a float32 one's a Float32Array.
      const Values = target.dtype === "float64" ? Float64Array : Float32Array;
      for (const [field, t] of Object.entries(tensors) as [string, { shape: readonly number[]; data: Float32Array | Float64Array }][]) {
        if (t === null || typeof t !== "object" || !(t.data instanceof Values) || t.data.length !== target.size) {
          throw new RangeError(`${fn}: state.optimConfigs.${key}.tensors.${field} must hold ${target.size} ${target.dtype} values (a ${Values.name}; the shape ${shapeString(target.shape)})`);
        }
      }
    }
    return configs;
  }

  /** [config key, tensor it updates]: ["all", flat] for a built-in rule over a paramStore, else each parameter. */
  #updateTargets(): [string, Tensor][] {
    return this.#flat ? [["all", this.model.paramStore!.flat]] : Object.entries(this.model.params);
  }

  // Each named param/buffer with where it lives in the #best copies (flat region: one copy).
  #namedStateViews(): [{ key: string; storage: string; start: number }, Tensor][] {
    const store = this.model.paramStore;
    const out: [{ key: string; storage: string; start: number }, Tensor][] = [];
    for (const [name, t] of Object.entries(this.model.params)) {
      if (store) out.push([{ key: name, storage: "__flat__", start: (t.ptr - store.flat.ptr) / t.itemBytes }, t]);
      else out.push([{ key: name, storage: name, start: 0 }, t]);
    }
    for (const [name, t] of Object.entries(this.model.buffers ?? {})) out.push([{ key: `buffer:${name}`, storage: `buffer:${name}`, start: 0 }, t]);
    return out;
  }

  /** Frees the Solver's buffers (batches, byte staging), optimizer state and best-parameter copies (not the model). */
  dispose(): void {
    this.#ws.dispose();
    this.#train.dispose();
    this.#val.dispose();
    for (const t of [...Object.values(this.#best), ...Object.values(this.#last)]) t.dispose();
    this.#best = {};
    this.#last = {};
    for (const config of Object.values(this.#optimConfigs)) disposeOptimState(config);
    this.#indices.dispose();
    this.#predictions.dispose();
  }

  #stateTensors(): Record<string, Tensor> {
    const store = this.model.paramStore;
    const params = store ? { __flat__: store.flat } : this.model.params;
    const buffers = Object.fromEntries(Object.entries(this.model.buffers ?? {}).map(([k, v]) => [`buffer:${k}`, v]));
    return { ...params, ...buffers };
  }

  #saveBest(): void {
    this.#best = this.#copyState(this.#best);
  }

  // Copies the model's state tensors into `copies` (reused when the sizes agree).
  #copyState(copies: Record<string, Tensor>): Record<string, Tensor> {
    for (const [name, t] of Object.entries(this.#stateTensors())) {
      let copy = copies[name];
      if (!copy || copy.isDisposed || copy.size !== t.size) {
        copy?.dispose();
        copy = keep(t.clone());
        copies[name] = copy;
      } else {
        copy.set(t);
      }
    }
    return copies;
  }

  /** n rows drawn with replacement from the Solver's stream into reused buffers (rows and labels). */
  #sample(source: BatchSource, n: number, key: string): [Tensor, Int32Array] {
    const idxPtr = this.#indices.get(n);
    const out = this.#ws.get(key, [n, ...source.rowShape], source.dtype);
    kernels().i32_rand_below(idxPtr, n, source.count, deriveSeed(this.seed, 1), this.#rngState);
    source.gather(key === "batch" ? "Solver.step" : "Solver.checkAccuracy", out, idxPtr, n);
    this.#rngState += n;
    const idx = this.#indices.view(n); // derived after the gather (a byte set's may allocate)
    const y = source.labels;
    let labels = this.#labels.get(key);
    if (labels === undefined || labels.length !== n) this.#labels.set(key, (labels = new Int32Array(n)));
    for (let i = 0; i < n; i++) labels[i] = y[idx[i]];
    return [out, labels];
  }

  // The batch through the augment list: two ping-pong buffers and one soft-label buffer per mixup,
  // all reused, in the batch's dtype. Augmentation j draws from its own stream (seed, 16 + j) at
  // the batch's counters.
  #augmentBatch(X: Tensor, y: Int32Array, offset: number): [Tensor, Targets] {
    if (this.augment.length === 0) return [X, y];
    const ws = this.#ws;
    const buffers = [ws.get("augment0", X.shape, X.dtype), ws.get("augment1", X.shape, X.dtype)] as const;
    const seeds = this.augment.map((_, j) => deriveSeed(this.seed, 16 + j));
    const n = X.shape[0];
    const C = this.#numClasses!; // checked at construction when the list has a mixup
    return applyAugmentations(this.augment, X, y, buffers, (j) => ws.get(`mixup${j}`, [n, C], X.dtype), seeds, offset, C);
  }
}

/** How many predictions pred[i] equal labels[start + i]. */
function countCorrect(pred: Int32Array, labels: Labels, start: number): number {
  let correct = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[start + i]) correct++;
  return correct;
}

/** A view of `array` whose writes throw: histories stay the Solver's to change. */
function readOnlyArray(array: number[], name: string): readonly number[] {
  const refuse = (): never => {
    throw new TypeError(`Solver.${name} is read-only (copy it with [...solver.${name}] to change the copy)`);
  };
  return new Proxy(array, { set: refuse, defineProperty: refuse, deleteProperty: refuse, setPrototypeOf: refuse, preventExtensions: refuse });
}

/** A custom update rule must return [nextW (w's shape), config]: a clear error instead of a crash in the loop. */
function checkRuleResult(result: unknown, name: string, w: Tensor): [Tensor, OptimConfig] {
  const fn = "Solver.step";
  if (!Array.isArray(result) || result.length !== 2 || result[1] === null || typeof result[1] !== "object") {
    throw new TypeError(`${fn}: updateRule must return [nextW, config] (got ${describe(result)} for parameter "${name}")`);
  }
  const nextW = checkTensor(fn, `updateRule's nextW for "${name}"`, result[0]);
  checkShape(fn, `updateRule's nextW for "${name}"`, nextW, w.shape, "the parameter's shape");
  return result as [Tensor, OptimConfig];
}

/** Checks the data once (nothing allocated): tensors with labels, or byte sets (data/batches.ts). */
function checkData(fn: string, data: unknown, classes: number): DataInfo {
  if (data !== null && typeof data === "object" && "train" in data) return checkByteData(fn, data, classes === Number.MAX_SAFE_INTEGER ? undefined : classes);
  const d = checkOptions(fn, "data", data, ["XTrain", "yTrain", "XVal", "yVal"]);
  for (const key of ["XTrain", "yTrain", "XVal", "yVal"]) {
    if (d[key] === undefined) throw new TypeError(`${fn}: data.${key} is required ({ XTrain, yTrain, XVal, yVal })`);
  }
  const XTrain = checkTensor(fn, "data.XTrain", d.XTrain);
  const XVal = checkTensor(fn, "data.XVal", d.XVal);
  if (XTrain.shape.length < 2 || XTrain.shape[0] === 0) {
    throw new RangeError(`${fn}: data.XTrain must have shape (N, ...) with N >= 1 (got ${shapeString(XTrain.shape)})`);
  }
  if (XVal.shape.length !== XTrain.shape.length || XVal.shape.slice(1).some((s, i) => s !== XTrain.shape[i + 1])) {
    throw new RangeError(`${fn}: data.XVal rows must have the shape of data.XTrain rows (got ${shapeString(XVal.shape)} vs ${shapeString(XTrain.shape)})`);
  }
  checkLabels(`${fn} (data.yTrain)`, d.yTrain, XTrain.shape[0], classes);
  checkLabels(`${fn} (data.yVal)`, d.yVal, XVal.shape[0], classes);
  return { rowShape: XTrain.shape.slice(1) };
}
