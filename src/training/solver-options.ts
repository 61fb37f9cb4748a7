// The Solver's options, checked once at construction into one frozen object with every default
// filled in (the course's: sgd, batches of 100, 10 epochs). Errors name the Solver and the option,
// e.g. "Solver: options.batchSize must be >= 1 (got 0)".
import { checkAugmentations, type Augmentation } from "./augment.js";
import {
  checkOptimConfig,
  DEFAULT_LEARNING_RATES,
  OPTIM_NUMBER_KEYS,
  OPTIM_STATE_KEYS,
  updateRules,
  type OptimConfig,
  type UpdateRule,
  type UpdateRuleName,
} from "./optim.js";
import { drawSubSeed } from "../core/random.js";
import { checkEnum, checkInteger, checkNumber, checkOptions, checkSeed, describe } from "../core/validate.js";
import { isDecay } from "./run-state.js";
import { checkSchedule, type CosineSchedule, type LearningRateSchedule, type ScheduleFunction } from "./schedule.js";

/** What SolverOptions.onProgress receives after every training iteration. */
export interface ProgressEvent {
  /** Epochs completed so far (incremented at the end of each epoch, before this event). */
  epoch: number;
  /** The run's total number of epochs. */
  numEpochs: number;
  /** Iterations done, 1-based: this event's iteration. */
  iteration: number;
  /** The run's total iterations: numEpochs · iterationsPerEpoch. */
  numIterations: number;
  /** This iteration's training loss (data loss + regularization). */
  loss: number;
  /** Set at the first and last iteration and at each epoch end. */
  trainAcc?: number;
  /** Validation accuracy, a fraction in [0, 1]; set when trainAcc is. */
  valAcc?: number;
  /** The learning rate in the optimizer config after this iteration (after an epoch end's lrDecay). */
  learningRate?: number;
}

/** Options of new Solver(model, data, options) (the course's Solver keyword arguments, in camelCase); all optional. */
export interface SolverOptions {
  /** A built-in rule's name ("sgd", default, "adam", ...) or an update-rule function. */
  updateRule?: UpdateRuleName | UpdateRule;
  /** Hyperparameters (and optionally state) of the rule, e.g. { learningRate: 1e-3 }; the Solver works on a copy. Keys the rule does not read are a TypeError. */
  optimConfig?: OptimConfig;
  /** Learning rate multiplier applied after every epoch (default 1). Not with lrSchedule. */
  lrDecay?: number;
  /**
   * A per-iteration schedule instead of lrDecay: `{ type: "cosine", warmupEpochs?, minLearningRate? }`
   * (from optimConfig.learningRate, or the rule's default) or `(epoch, iteration) => learningRate`.
   */
  lrSchedule?: LearningRateSchedule;
  /** Samples per training batch, drawn with replacement (default 100). */
  batchSize?: number;
  /** Epochs to train; an epoch is max(floor(numTrain / batchSize), 1) iterations (default 10). */
  numEpochs?: number;
  /** Training samples used to estimate training accuracy (default 1000; null: all). */
  numTrainSamples?: number | null;
  /** Validation samples used for validation accuracy (default null: all). */
  numValSamples?: number | null;
  /** Seeds the batch sampling and augmentations; drawn from the global stream when absent (reproducible after setSeed). */
  seed?: number;
  /** Print the loss and the accuracies to the console (default true). */
  verbose?: boolean;
  /** With verbose: print the loss every printEvery iterations (default 10). */
  printEvery?: number;
  /** Called after every iteration with the progress (and accuracies at checks). */
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
   * The parameters the model holds when train() ends: "best" (default, as the course's Solver) the
   * ones of the best validation accuracy seen at the checks, or "last" the final step's (as Keras
   * and PyTorch loops leave them; no copies are kept, and restoreBest() is refused). With a
   * schedule that anneals to zero the last parameters are usually the better choice, and a small
   * validation set picks its "best" epoch partly by chance.
   */
  keep?: "best" | "last";
  /**
   * Keeps an exponential moving average of the parameters (and of buffers such as batch-norm
   * running statistics) with this decay per step, e.g. 0.999, as Keras's `use_ema` and PyTorch's
   * `AveragedModel` do; null or absent: none (default). After every step
   * `average += (1 - d) * (params - average)` with `d = min(emaDecay, (1 + t) / (10 + t))` at the
   * average's t-th update (TensorFlow's warm-up, so the start weighs little), computed in wasm.
   * Accuracy checks score the average, the best snapshot is taken of it, and train() leaves it in
   * the model (the best one under keep "best", the last under keep "last"); training itself
   * continues from the raw parameters, so the steps are the same bits as without it.
   */
  emaDecay?: number | null;
  /**
   * Augmentations applied in order to every training batch (not to accuracy checks), e.g.
   * [{ type: "randomFlip" }, { type: "randomCrop", padding: 2 }, { type: "mixup", alpha: 0.2 }].
   * Their draws come from the Solver's stream, so a run reproduces and resumes bit-identically.
   */
  augment?: Augmentation[];
}

/** SolverOptions checked, every default filled in: the Solver's settings. */
export interface CheckedSolverOptions {
  readonly updateRule: UpdateRule;
  /** The built-in rule's name, or null for a custom rule function. */
  readonly updateRuleName: UpdateRuleName | null;
  /** Checked (a built-in rule's in full: keys, ranges, state tensors); its state tensors are still the caller's. */
  readonly optimConfig: OptimConfig;
  /** The rate schedules start from: optimConfig.learningRate, or the built-in rule's default (null for a custom rule without one). */
  readonly baseLearningRate: number | null;
  readonly lrDecay: number;
  /** Cosine with its defaults filled in, or the function; null: lrDecay per epoch. */
  readonly lrSchedule: Required<CosineSchedule> | ScheduleFunction | null;
  readonly batchSize: number;
  readonly numEpochs: number;
  readonly numTrainSamples: number | null;
  readonly numValSamples: number | null;
  /** Given, or drawn from the global stream (reproducible after setSeed). */
  readonly seed: number;
  readonly verbose: boolean;
  readonly printEvery: number;
  readonly onProgress: ((event: ProgressEvent) => void) | undefined;
  readonly onNonFinite: "throw" | "continue";
  readonly augment: readonly Augmentation[];
  readonly weightDecayParams: "all" | "weights";
  readonly keep: "best" | "last";
  readonly emaDecay: number | null;
}

const KNOWN = [
  "updateRule",
  "optimConfig",
  "lrDecay",
  "lrSchedule",
  "batchSize",
  "numEpochs",
  "numTrainSamples",
  "numValSamples",
  "seed",
  "verbose",
  "printEvery",
  "onProgress",
  "onNonFinite",
  "augment",
  "weightDecayParams",
  "keep",
  "emaDecay",
];

function checkDecay(fn: string, decay: unknown): number {
  if (typeof decay !== "number") throw new TypeError(`${fn}: options.emaDecay must be a number in (0, 1) or null (got ${describe(decay)})`);
  if (!isDecay(decay)) throw new RangeError(`${fn}: options.emaDecay must be in (0, 1), e.g. 0.999 (got ${decay})`);
  return decay;
}

/** Checks the options (nothing allocated); the augment list's shapes are checked against the data by the Solver. */
export function checkSolverOptions(fn: string, options: unknown): CheckedSolverOptions {
  const o = checkOptions(fn, "options", options, KNOWN) as SolverOptions;
  const rule = o.updateRule ?? "sgd";
  const updateRuleName = typeof rule === "function" ? null : checkEnum(fn, "options.updateRule", rule, Object.keys(updateRules) as UpdateRuleName[]);
  const updateRule = updateRuleName === null ? (rule as UpdateRule) : updateRules[updateRuleName];
  const optimConfig =
    updateRuleName !== null
      ? checkOptimConfig(fn, "options.optimConfig", updateRuleName, o.optimConfig)
      : (checkOptions(fn, "options.optimConfig", o.optimConfig ?? {}, [...OPTIM_NUMBER_KEYS, ...OPTIM_STATE_KEYS]) as OptimConfig);
  if (optimConfig.learningRate !== undefined) checkNumber(fn, "options.optimConfig.learningRate", optimConfig.learningRate, { min: 0 });
  const batchSize = o.batchSize === undefined ? 100 : checkInteger(fn, "options.batchSize", o.batchSize, 1);
  const numEpochs = o.numEpochs === undefined ? 10 : checkInteger(fn, "options.numEpochs", o.numEpochs, 0);
  const lrDecay = o.lrDecay === undefined ? 1 : checkNumber(fn, "options.lrDecay", o.lrDecay, { min: 0 });
  const lrSchedule = o.lrSchedule === undefined ? null : checkSchedule(fn, "options.lrSchedule", o.lrSchedule, numEpochs);
  if (lrSchedule !== null && lrDecay !== 1) {
    throw new TypeError(
      `${fn}: options.lrDecay and options.lrSchedule do not combine: a schedule sets the learning rate of every iteration (give one of them)`,
    );
  }
  const baseLearningRate = optimConfig.learningRate ?? (updateRuleName === null ? null : DEFAULT_LEARNING_RATES[updateRuleName]);
  if (lrSchedule !== null && typeof lrSchedule !== "function") {
    if (baseLearningRate === null) {
      throw new TypeError(`${fn}: a cosine lrSchedule with a custom updateRule needs options.optimConfig.learningRate (the rate it starts from)`);
    }
    if (lrSchedule.minLearningRate > baseLearningRate) {
      throw new RangeError(
        `${fn}: options.lrSchedule.minLearningRate (${lrSchedule.minLearningRate}) must not exceed the learning rate it anneals from (${baseLearningRate})`,
      );
    }
  }
  const numTrainSamples =
    o.numTrainSamples === undefined ? 1000 : o.numTrainSamples === null ? null : checkInteger(fn, "options.numTrainSamples", o.numTrainSamples, 1);
  const numValSamples = o.numValSamples == null ? null : checkInteger(fn, "options.numValSamples", o.numValSamples, 1);
  const seed = o.seed === undefined ? drawSubSeed() : checkSeed(fn, "options.seed", o.seed);
  if (o.verbose !== undefined && typeof o.verbose !== "boolean") throw new TypeError(`${fn}: options.verbose must be a boolean (got ${describe(o.verbose)})`);
  const printEvery = o.printEvery === undefined ? 10 : checkInteger(fn, "options.printEvery", o.printEvery, 1);
  if (o.onProgress !== undefined && typeof o.onProgress !== "function") {
    throw new TypeError(`${fn}: options.onProgress must be a function (got ${describe(o.onProgress)})`);
  }
  return Object.freeze({
    updateRule,
    updateRuleName,
    optimConfig,
    baseLearningRate,
    lrDecay,
    lrSchedule,
    batchSize,
    numEpochs,
    numTrainSamples,
    numValSamples,
    seed,
    verbose: o.verbose ?? true,
    printEvery,
    onProgress: o.onProgress,
    onNonFinite: o.onNonFinite === undefined ? "throw" : checkEnum(fn, "options.onNonFinite", o.onNonFinite, ["throw", "continue"] as const),
    augment: Object.freeze(o.augment === undefined ? [] : checkAugmentations(fn, "options.augment", o.augment)),
    weightDecayParams: o.weightDecayParams === undefined ? "all" : checkEnum(fn, "options.weightDecayParams", o.weightDecayParams, ["all", "weights"] as const),
    keep: o.keep === undefined ? "best" : checkEnum(fn, "options.keep", o.keep, ["best", "last"] as const),
    emaDecay: o.emaDecay == null ? null : checkDecay(fn, o.emaDecay),
  });
}
