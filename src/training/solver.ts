// Minibatch training of any model with params and loss(X, y), as in the course's Solver:
// seeded sampling with replacement, any update rule, per-epoch learning-rate decay or a schedule
// (cosine with warm-up, or a function), loss and accuracy history, and the best parameters (by
// validation accuracy) restored at the end, optionally of a moving average of the parameters.
// Training batches can be augmented (flip, crop, cutout, mixup) and drawn from float32 tensors or
// uint8 image sets. The Solver owns its state:
// state() / restoreState() are how checkpoints save and resume a run.
//
// Inputs are checked once, at construction (options, optimizer config and state, labels); the
// loop below then calls unchecked cores. Its parts: solver-options.ts (the options), sampler.ts
// (batches and accuracy), updates.ts (the update step and optimizer state), snapshots.ts (best,
// averaged and last parameters), run-state.ts (the state's one schema).
import { checkAugmentShapes, type Augmentation } from "./augment.js";
import { checkSolverData, makeSources, tensorSource, type BatchSource, type SolverData } from "../data/batches.js";
import { checkLabels, withCheckedLabels, type Labels } from "../core/labels.js";
import type { TrainableModel } from "../models/contract.js";
import { DEFAULT_PREDICT_BATCH } from "../models/predict.js";
import type { OptimConfig, UpdateRule, UpdateRuleName } from "./optim.js";
import { checkTensor, type Tensor } from "../core/tensor.js";
import { checkInteger, checkNumber, describe, shapeString } from "../core/validate.js";
import { checkSolverState, optionMismatches, runOptionsOf, type SolverState, type Values } from "./run-state.js";
import { Sampler } from "./sampler.js";
import { cosineRate, type CosineSchedule, type ScheduleFunction } from "./schedule.js";
import { Snapshots } from "./snapshots.js";
import { checkSolverOptions, type ProgressEvent, type SolverOptions } from "./solver-options.js";
import { Updates } from "./updates.js";

export type { SolverData } from "../data/batches.js";
export type { TrainableModel } from "../models/contract.js";
export type { ScheduleState, SolverState } from "./run-state.js";
export type { ProgressEvent, SolverOptions } from "./solver-options.js";

/**
 * Minibatch training of a model, as the course's Solver: new Solver(model, data, options), then
 * train(). Samples batches with replacement from a seeded stream, applies the update rule to every
 * parameter, decays or schedules the learning rate, records loss and accuracy histories, and
 * restores the best parameters (by validation accuracy) at the end. Options and data are checked
 * at construction (TypeError or RangeError naming the option); state() / restoreState() save
 * and resume a run.
 */
export class Solver {
  /** The model being trained (its parameters are updated in place). */
  readonly model: TrainableModel;
  // The settings: the checked options (the constructor assigns them all).
  /** The update-rule function applied to each parameter (the built-in rule for a name). */
  declare readonly updateRule: UpdateRule;
  /** The built-in rule's name, or null for a custom rule function. */
  declare readonly updateRuleName: UpdateRuleName | null;
  /** Learning-rate multiplier applied after every epoch (1 when a schedule is used). */
  declare readonly lrDecay: number;
  /** The per-iteration schedule (cosine with its defaults filled in, or the function), or null: lrDecay per epoch. */
  declare readonly lrSchedule: Required<CosineSchedule> | ScheduleFunction | null;
  /** Samples per training batch. */
  declare readonly batchSize: number;
  /** Epochs train() runs in total. */
  declare readonly numEpochs: number;
  /** Training samples scored for each training-accuracy check (null: all). */
  declare readonly numTrainSamples: number | null;
  /** Validation samples scored for each validation-accuracy check (null: all). */
  declare readonly numValSamples: number | null;
  /** The seed of the sampling and augmentation stream (given, or drawn from the global stream). */
  declare readonly seed: number;
  /** Whether train() prints progress to the console. */
  declare readonly verbose: boolean;
  /** With verbose: the loss is printed every printEvery iterations. */
  declare readonly printEvery: number;
  /** Called after every iteration of train() with the progress; may be replaced between runs. */
  declare onProgress?: (event: ProgressEvent) => void;
  /** A non-finite loss stops training with a RangeError ("throw") or is recorded and training goes on ("continue"). */
  declare readonly onNonFinite: "throw" | "continue";
  /** The augmentations applied to every training batch, in order. */
  declare readonly augment: readonly Augmentation[];
  /** Which parameters optimConfig.weightDecay applies to (see SolverOptions). */
  declare readonly weightDecayParams: "all" | "weights";
  /** The parameters train() leaves in the model: the best by validation accuracy, or the last (see SolverOptions). */
  declare readonly keep: "best" | "last";
  /** The decay of the moving average of the parameters that accuracy checks and train()'s result use, or null: none (see SolverOptions). */
  declare readonly emaDecay: number | null;

  #epoch = 0;
  #bestValAcc = 0;
  /** Steps folded into the moving average so far (its warm-up counter). */
  #averageUpdates = 0;
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
  /** Where training and validation rows come from (tensors, or byte sets converted per batch). */
  readonly #train: BatchSource;
  readonly #val: BatchSource;
  /** The class bound the labels were checked against (the model's numClasses when it has one). */
  readonly #classes: number;
  readonly #sampler: Sampler;
  readonly #updates: Updates;
  readonly #snapshots: Snapshots;

  constructor(model: TrainableModel, data: SolverData, options: SolverOptions = {}) {
    const fn = "Solver";
    if (model === null || typeof model !== "object" || typeof model.loss !== "function" || typeof model.params !== "object") {
      throw new TypeError(`${fn}: model must have params and loss(X, y) (got ${describe(model)})`);
    }
    this.model = model;
    this.#classes = model.config?.numClasses ?? Number.MAX_SAFE_INTEGER;
    const info = checkSolverData(fn, data, model.config?.numClasses);
    const { optimConfig, baseLearningRate, ...settings } = checkSolverOptions(fn, options);
    Object.assign(this, settings);
    this.#baseLearningRate = baseLearningRate;
    // Classes of mixup's soft labels: the model's numClasses, else a byte set's.
    const numClasses = model.config?.numClasses ?? info.numClasses;
    checkAugmentShapes(fn, this.augment, info.rowShape, numClasses);
    this.#updates = new Updates(fn, model, this.updateRule, this.updateRuleName, optimConfig, this.weightDecayParams);
    this.#sampler = new Sampler(model, this.seed, this.augment, this.#classes, numClasses);
    this.#snapshots = new Snapshots(model);
    // Last: the sources allocate (a byte set's table), once everything else was accepted.
    try {
      [this.#train, this.#val] = makeSources(fn, data);
    } catch (error) {
      this.#updates.dispose();
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
    return this.#updates.configs;
  }

  /** Position in the Solver's sampling stream. */
  get rngState(): number {
    return this.#sampler.rngState;
  }

  /**
   * True after restoreBest() (train() ends with it), or after train() with emaDecay and keep
   * "last" (the model holds the average), until the next step(): the model then holds the best
   * or averaged parameters, not the last ones training would continue from (lastState() has
   * those, and saveCheckpoint uses them).
   */
  get holdsBest(): boolean {
    return this.#snapshots.holdsBest;
  }

  /** The learning rate schedules start from: optimConfig.learningRate, or the built-in rule's default (null for a custom rule without one). */
  get baseLearningRate(): number | null {
    return this.#baseLearningRate;
  }

  /** The learning rate the optimizer config holds now (the next step's under lrDecay; the last step's under a schedule). */
  get learningRate(): number | null {
    return this.#updates.learningRate ?? this.#baseLearningRate;
  }

  /** One gradient step on a sampled minibatch; returns its loss. */
  step(): number {
    try {
      return this.#step();
    } catch (error) {
      // E.g. out of memory midway: give back the batch and index buffers too (the next step makes them again).
      this.#sampler.dispose();
      throw error;
    }
  }

  #step(): number {
    const iteration = this.#lossHistory.length;
    this.#snapshots.holdsBest = false;
    if (this.emaDecay !== null && !this.#snapshots.hasAverage) this.#snapshots.startAverage();
    const [X, y] = this.#sampler.batch(this.#train, Math.min(this.batchSize, this.#train.count));
    // The labels were checked with the data (the model skips its scan); mixup's soft labels are the model's to check.
    const [loss, grads] = y instanceof Int32Array ? withCheckedLabels(y, this.#classes, () => this.model.loss(X, y)) : this.model.loss(X, y);
    this.#lossHistory.push(loss);
    if (!Number.isFinite(loss) && this.onNonFinite === "throw") throw nonFiniteLoss(loss, this.#lossHistory.length, this.#epoch, this.learningRate);
    if (this.lrSchedule !== null) this.#updates.setLearningRate(this.#scheduledRate(iteration));
    this.#updates.apply(grads);
    if (this.emaDecay !== null) {
      // TensorFlow's warm-up: the early averages weigh the starting point little.
      const t = this.#averageUpdates++;
      this.#snapshots.updateAverage(1 - Math.min(this.emaDecay, (1 + t) / (10 + t)));
    }
    return loss;
  }

  /**
   * Runs the whole optimization, then restores the best parameters seen (by validation accuracy);
   * under keep "last" it leaves the last ones. With emaDecay both are of the moving average.
   */
  train(): this {
    const perEpoch = this.iterationsPerEpoch;
    const numIterations = this.numEpochs * perEpoch;
    for (let t = this.#lossHistory.length; t < numIterations; t++) {
      const loss = this.step();
      if (this.verbose && t % this.printEvery === 0) console.log(`(Iteration ${t + 1} / ${numIterations}) loss: ${loss.toFixed(6)}`);
      const epochEnd = (t + 1) % perEpoch === 0;
      if (epochEnd) {
        this.#epoch++;
        if (this.lrSchedule === null) this.#updates.decayLearningRate(this.lrDecay);
      }
      const event: ProgressEvent = {
        epoch: this.#epoch,
        numEpochs: this.numEpochs,
        iteration: t + 1,
        numIterations,
        loss,
        learningRate: this.#updates.learningRate,
      };
      if (t === 0 || t === numIterations - 1 || epochEnd) this.#checkAccuracies(t + 1, event);
      this.onProgress?.(event);
    }
    if (this.keep === "best") this.restoreBest();
    else if (this.emaDecay !== null && this.#snapshots.hasAverage) this.#snapshots.holdAverage();
    return this;
  }

  // The accuracy check after `iteration`: histories, the event, the log line, the best snapshot.
  // With emaDecay the averaged parameters are checked (and become the best snapshot).
  #checkAccuracies(iteration: number, event: ProgressEvent): void {
    const averaged = this.emaDecay !== null && this.#snapshots.hasAverage;
    if (averaged) this.#snapshots.holdAverage();
    try {
      this.#checkAccuraciesOfModel(iteration, event);
    } finally {
      if (averaged) this.#snapshots.release();
    }
  }

  #checkAccuraciesOfModel(iteration: number, event: ProgressEvent): void {
    const trainAcc = this.#sampler.accuracy(this.#train, this.numTrainSamples, DEFAULT_PREDICT_BATCH);
    const valAcc = this.#sampler.accuracy(this.#val, this.numValSamples, DEFAULT_PREDICT_BATCH);
    this.#trainAccHistory.push(trainAcc);
    this.#valAccHistory.push(valAcc);
    this.#accuracyIterations.push(iteration);
    event.trainAcc = trainAcc;
    event.valAcc = valAcc;
    if (this.verbose) console.log(`(Epoch ${this.#epoch} / ${this.numEpochs}) train acc: ${trainAcc.toFixed(6)}; val_acc: ${valAcc.toFixed(6)}`);
    if (this.keep === "last") this.#bestValAcc = Math.max(this.#bestValAcc, valAcc);
    else if (valAcc > this.#bestValAcc || !this.#snapshots.hasBest) {
      this.#bestValAcc = Math.max(this.#bestValAcc, valAcc);
      this.#snapshots.saveBest();
    }
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
    return this.#sampler.accuracy(tensorSource("X", X, y), numSamples, batchSize);
  }

  /**
   * Copies the best parameters (and buffers) seen so far back into the model. The last ones are
   * kept (lastState()), so a checkpoint saved after train() still has what resuming needs.
   */
  restoreBest(): void {
    if (this.keep === "last" && !this.#snapshots.hasBest) {
      throw new RangeError('Solver.restoreBest: this Solver keeps no best parameters (options.keep is "last"); make it with keep: "best" to restore them');
    }
    this.#snapshots.restoreBest();
  }

  /**
   * While holdsBest: copies of the parameters and buffers training would continue from (the
   * last ones, kept by restoreBest()), named as in bestState(). Empty otherwise. For checkpoints.
   */
  lastState(): Record<string, Values> {
    return this.#snapshots.last();
  }

  /**
   * Copies of the best parameters and buffers seen so far (by validation accuracy), by name:
   * params under their own names, buffers as `buffer:<name>`. Empty before the first accuracy
   * check. For checkpoints.
   */
  bestState(): Record<string, Values> {
    return this.#snapshots.best();
  }

  /** Sets the best snapshot (and bestValAcc) from bestState()'s output, e.g. when resuming. */
  setBestState(values: Record<string, ArrayLike<number>>, bestValAcc: number): void {
    const fn = "Solver.setBestState";
    checkNumber(fn, "bestValAcc", bestValAcc, { min: 0, max: 1 });
    this.#snapshots.check(fn, "values", values);
    this.#snapshots.setBest(values);
    this.#bestValAcc = bestValAcc;
  }

  /**
   * The run's state as plain data (copies): options, counters, sampling position, histories,
   * accuracy-check iterations, optimizer state and the best snapshot. A fresh Solver made with
   * the same options and data continues the run bit-identically after restoreState(state) (the
   * model's last parameters, buffers and rngState are the model's to restore).
   */
  state(): SolverState {
    const best = this.bestState();
    return {
      options: runOptionsOf(this),
      iterationsPerEpoch: this.iterationsPerEpoch,
      epoch: this.#epoch,
      iteration: this.#lossHistory.length,
      rngState: this.#sampler.rngState,
      baseLearningRate: this.#baseLearningRate,
      bestValAcc: this.#bestValAcc,
      lossHistory: [...this.#lossHistory],
      trainAccHistory: [...this.#trainAccHistory],
      valAccHistory: [...this.#valAccHistory],
      accuracyIterations: [...this.#accuracyIterations],
      optimConfigs: this.#updates.state(),
      best: Object.keys(best).length > 0 ? best : null,
      averageUpdates: this.#averageUpdates,
      average: this.#snapshots.hasAverage ? this.#snapshots.average() : null,
    };
  }

  /**
   * Puts this fresh Solver where state() left a run: counters, sampling position, histories,
   * optimizer state, best snapshot. Its options must be the saved ones (numEpochs may differ:
   * it is the new total); anything else is a RangeError naming the mismatch, and nothing changes.
   */
  restoreState(state: SolverState): void {
    const fn = "Solver.restoreState";
    const s = checkSolverState(fn, state);
    if (this.#lossHistory.length > 0)
      throw new RangeError(`${fn}: this solver has already trained ${this.#lossHistory.length} iterations; restore into a fresh Solver`);
    const mismatches = optionMismatches(runOptionsOf(this), s.options);
    if (this.iterationsPerEpoch !== s.iterationsPerEpoch) {
      mismatches.push(`${this.iterationsPerEpoch} iterations per epoch (saved: ${s.iterationsPerEpoch}: the training data has another size)`);
    }
    if (mismatches.length > 0) {
      throw new RangeError(
        `${fn}: this solver would not continue the saved run: ${mismatches.join("; ")}. Make it with the saved options (numEpochs may change) and the same data`,
      );
    }
    const { best, average } = s;
    if ((average !== null) !== s.averageUpdates > 0) {
      throw new RangeError(`${fn}: state.average must be ${average === null ? "given" : "null"} when state.averageUpdates is ${s.averageUpdates}`);
    }
    this.#updates.checkFit(fn, s.optimConfigs);
    if (best !== null) this.#snapshots.check(fn, "state.best", best);
    if (average !== null) this.#snapshots.check(fn, "state.average", average);
    // Everything checked: now change state (only the tensor copies can fail, out of memory, and then nothing changes).
    this.#updates.restore(s.optimConfigs, () => {
      if (best !== null) this.#snapshots.setBest(best);
      if (average !== null) this.#snapshots.setAverage(average);
    });
    this.#averageUpdates = s.averageUpdates;
    this.#sampler.rngState = s.rngState;
    this.#epoch = s.epoch;
    this.#baseLearningRate = s.baseLearningRate ?? this.#baseLearningRate;
    this.#lossHistory.push(...s.lossHistory);
    this.#trainAccHistory.push(...s.trainAccHistory);
    this.#valAccHistory.push(...s.valAccHistory);
    this.#accuracyIterations.push(...s.accuracyIterations);
    this.#bestValAcc = s.bestValAcc;
  }

  /** Frees the Solver's buffers (batches, byte staging), optimizer state and best-parameter copies (not the model). */
  dispose(): void {
    this.#sampler.dispose();
    this.#train.dispose();
    this.#val.dispose();
    this.#snapshots.dispose();
    this.#updates.dispose();
  }
}

/** The error for a loss that stopped being finite (onNonFinite "throw"). */
function nonFiniteLoss(loss: number, iteration: number, epoch: number, lr: number | null): RangeError {
  return new RangeError(
    `Solver: the loss became ${loss} at iteration ${iteration} (epoch ${epoch}); ` +
      `the learning rate${lr === null ? "" : ` (${lr})`} is probably too large: try a smaller optimConfig.learningRate, ` +
      `or pass onNonFinite: "continue" to keep going. The parameters were not updated by this step.`,
  );
}

/** A view of `array` whose writes throw: histories stay the Solver's to change. */
function readOnlyArray(array: number[], name: string): readonly number[] {
  const refuse = (): never => {
    throw new TypeError(`Solver.${name} is read-only (copy it with [...solver.${name}] to change the copy)`);
  };
  return new Proxy(array, { set: refuse, defineProperty: refuse, deleteProperty: refuse, setPrototypeOf: refuse, preventExtensions: refuse });
}
