// Learning-rate schedules the Solver applies besides its per-epoch lrDecay: cosine annealing with
// linear warm-up, set every iteration, and a user function (epoch, iteration) => learningRate.
// The cosine is computed in wasm (f64_cos_pi), so a seeded run gets the same rates, and the same
// bits, in every runtime.
import { TRAIN_KERNELS, useFamily } from "../core/kernel-families.js";
import { kernels } from "../core/runtime.js";
import { checkNumber, checkOptions, describe } from "../core/validate.js";

/**
 * Cosine annealing with linear warm-up, per iteration. With W = floor(warmupEpochs * iterations
 * per epoch) and T = numEpochs * iterations per epoch, the step after `t` iterations uses
 *   t < W:  base * (t + 1) / W
 *   else:   min + (base - min) * (1 + cos(pi * (t - W) / (T - W))) / 2
 * where base is optimConfig.learningRate (or the rule's default) and min is minLearningRate.
 */
export interface CosineSchedule {
  /** Selects cosine annealing (the only built-in schedule). */
  type: "cosine";
  /** Epochs of linear warm-up from base/W to base (default 0; may be fractional). */
  warmupEpochs?: number;
  /** The rate the curve ends at (default 0). */
  minLearningRate?: number;
}

/**
 * A user schedule: the learning rate of the next step, given the epochs and iterations completed
 * so far (both 0 before the first step). Must return a number >= 0. It is called once per
 * iteration; a checkpoint cannot store it, so pass the same function when resuming.
 */
export type ScheduleFunction = (epoch: number, iteration: number) => number;

/** SolverOptions.lrSchedule: cosine annealing with warm-up, or a function of (epoch, iteration). */
export type LearningRateSchedule = CosineSchedule | ScheduleFunction;

/** Checks a schedule option; returns the cosine schedule with its defaults filled in, or the function. */
export function checkSchedule(fn: string, name: string, value: unknown, numEpochs: number): Required<CosineSchedule> | ScheduleFunction {
  if (typeof value === "function") return value as ScheduleFunction;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `${fn}: ${name} must be { type: "cosine", warmupEpochs?, minLearningRate? } or a function (epoch, iteration) => learningRate (got ${describe(value)})`,
    );
  }
  const o = checkOptions(fn, name, value, ["type", "warmupEpochs", "minLearningRate"]);
  if (o.type !== "cosine") throw new TypeError(`${fn}: ${name}.type must be "cosine" (got ${describe(o.type)})`);
  const warmupEpochs = o.warmupEpochs === undefined ? 0 : checkNumber(fn, `${name}.warmupEpochs`, o.warmupEpochs, { min: 0 });
  if (warmupEpochs > numEpochs) throw new RangeError(`${fn}: ${name}.warmupEpochs (${warmupEpochs}) must not exceed numEpochs (${numEpochs})`);
  const minLearningRate = o.minLearningRate === undefined ? 0 : checkNumber(fn, `${name}.minLearningRate`, o.minLearningRate, { min: 0, float32: true });
  return { type: "cosine", warmupEpochs, minLearningRate };
}

/** The cosine schedule's rate for the step after `iteration` iterations (see CosineSchedule). */
export function cosineRate(s: Required<CosineSchedule>, base: number, iteration: number, perEpoch: number, numEpochs: number): number {
  const warmup = Math.floor(s.warmupEpochs * perEpoch);
  if (iteration < warmup) return (base * (iteration + 1)) / warmup;
  const span = numEpochs * perEpoch - warmup;
  if (span <= 0) return base;
  const progress = Math.min(1, (iteration - warmup) / span);
  useFamily(TRAIN_KERNELS);
  return s.minLearningRate + ((base - s.minLearningRate) * (1 + kernels().f64_cos_pi(progress))) / 2;
}
