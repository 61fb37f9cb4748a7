// The Solver's run state, described once: what state() hands out and restoreState() takes back,
// and what a checkpoint stores (checkpoint.ts keeps the stored form below, with the tensors
// beside it). The checker, the comparison of options and the stored form all follow FIELDS and
// OPTION_FIELDS, so the Solver and the files cannot drift apart.
import { checkAugmentations, type Augmentation } from "./augment.js";
import type { TrainableModel } from "../models/contract.js";
import { OPTIM_NUMBER_KEYS, OPTIM_STATE_KEYS, updateRules, type UpdateRuleName } from "./optim.js";
import type { Tensor } from "../core/tensor.js";
import { describe } from "../core/validate.js";
import type { CosineSchedule, ScheduleFunction } from "./schedule.js";

/**
 * The values of a float32 model's tensors, or of a float64 model's.
 *
 * @inline
 */
export type Values = Float32Array | Float64Array;

/**
 * A cosine schedule as stored in a state (a function cannot be: "custom").
 *
 * @inline
 */
export type ScheduleState = Required<CosineSchedule> | "custom" | null;

/**
 * The options a run was made with; a Solver must match them (except numEpochs) to continue it.
 *
 * @inline
 */
export interface RunOptions {
  /** null: a custom update rule function. */
  updateRule: UpdateRuleName | null;
  /** Learning-rate multiplier per epoch. */
  lrDecay: number;
  /** The cosine schedule with its defaults, "custom" for a schedule function, null for lrDecay. */
  lrSchedule: ScheduleState;
  /** Samples per training batch. */
  batchSize: number;
  /** Epochs of the run (the one option a continuing Solver may change). */
  numEpochs: number;
  /** Training samples per accuracy check (null: all). */
  numTrainSamples: number | null;
  /** Validation samples per accuracy check (null: all). */
  numValSamples: number | null;
  /** Seed of the sampling and augmentation stream. */
  seed: number;
  /** The augment list; absent when empty (so a state without augmentation reads as before). */
  augment?: Augmentation[];
  /** Absent for "all" (states from before the option read as before). */
  weightDecayParams?: "weights";
  /** Absent for "best" (states from before the option read as before). */
  keep?: "last";
  /** The moving average's decay; absent for none (states from before the option read as before). */
  emaDecay?: number;
}

/**
 * Everything that decides how a run continues, as plain data: what state() returns and
 * restoreState() takes (checkpoints store it: numbers as JSON, tensors as raw float32, or float64
 * for a float64 model).
 */
export interface SolverState {
  /** The options the run was made with; a Solver must match them (except numEpochs) to continue it. */
  options: RunOptions;
  /** Iterations per epoch: max(floor(numTrain / batchSize), 1). */
  iterationsPerEpoch: number;
  /** Epochs completed. */
  epoch: number;
  /** Iterations done (= lossHistory.length). */
  iteration: number;
  /** Position in the sampling stream. */
  rngState: number;
  /** The learning rate schedules start from (optimConfig.learningRate or the rule's default); null if unknown. */
  baseLearningRate: number | null;
  /** Best validation accuracy seen, a fraction in [0, 1]. */
  bestValAcc: number;
  /** Training loss of every iteration so far. */
  lossHistory: number[];
  /** Training accuracy (fraction in [0, 1]) at each accuracy check. */
  trainAccHistory: number[];
  /** Validation accuracy (fraction in [0, 1]) at each accuracy check. */
  valAccHistory: number[];
  /** The iteration (1-based) of each accuracy check: one per trainAccHistory entry. */
  accuracyIterations: number[];
  /** Update-rule state per config key ("all" for the flat region, else a parameter name). */
  optimConfigs: Record<
    string,
    {
      /** The config's numbers: hyperparameters as they are now (learning rate after decay) and Adam's t. */
      numbers: Record<string, number>;
      /** The config's state tensors (velocity, cache, m, v) by key, as copies. */
      tensors: Record<
        string,
        {
          /** The state tensor's shape (its parameter's, or the flat region's). */
          shape: readonly number[];
          /** The state tensor's values, in the model's dtype. */
          data: Values;
        }
      >;
    }
  >;
  /** bestState() (the best parameters and buffers by name), or null before the first accuracy check. */
  best: Record<string, Values> | null;
  /** Steps folded into the moving average (emaDecay); 0 without one. */
  averageUpdates: number;
  /** The moving average of the parameters and buffers, named as `best`; null without emaDecay or before the first step. */
  average: Record<string, Values> | null;
}

/** A problem found: the message (without the caller's name) and the error class the Solver throws. */
export type Fail = (message: string, kind: typeof TypeError | typeof RangeError) => never;

/**
 * What a field must hold: `expected` for the message, `ok` the test (a number that fails is a
 * RangeError, any other value a TypeError). `legacy`: what a state from before the field means
 * without it. An option may say which value a state leaves out (`absent`), and how a mismatch
 * shows a value.
 */
interface Rule {
  expected: string;
  ok(value: unknown): boolean;
  legacy?: unknown;
  absent?: unknown;
  show?(value: unknown, saved: boolean): string;
}

// The rules are plain literals: a call at module scope would keep this file in bundles of apps
// that never use the Solver.
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isPositive = (v: unknown): v is number => isCount(v) && v > 0;
// Numbers that reach the kernels as float32 must stay finite there.
const isRate = (v: unknown): v is number => typeof v === "number" && v >= 0 && Number.isFinite(Math.fround(v));
const isRuleName = (v: unknown): boolean => typeof v === "string" && Object.hasOwn(updateRules, v);

const COUNT: Rule = { expected: "a non-negative integer", ok: isCount };
const POSITIVE_OR_NULL: Rule = { expected: "a positive integer or null", ok: (v) => v === null || isPositive(v) };
const RATE: Rule = { expected: "a number >= 0", ok: isRate };
const NUMBERS: Rule = { expected: "an array of numbers", ok: (v) => Array.isArray(v) && v.every((x) => typeof x === "number") };

/** The run's counters and histories, in state()'s order. */
const FIELDS: Record<Exclude<keyof SolverState, "options" | "optimConfigs" | "best" | "average">, Rule> = {
  iterationsPerEpoch: COUNT,
  epoch: COUNT,
  iteration: COUNT,
  rngState: COUNT,
  baseLearningRate: { expected: "a number >= 0 or null", ok: (v) => v === null || isRate(v), legacy: null },
  bestValAcc: { expected: "a number in [0, 1]", ok: (v) => typeof v === "number" && v >= 0 && v <= 1 },
  lossHistory: NUMBERS,
  trainAccHistory: NUMBERS,
  valAccHistory: NUMBERS,
  accuracyIterations: { expected: "an array of iteration counts", ok: (v) => Array.isArray(v) && v.every(isCount) },
  averageUpdates: { expected: "a non-negative integer", ok: isCount, legacy: 0 },
};

/** The run's options, in state()'s order. */
const OPTION_FIELDS: Record<keyof RunOptions, Rule> = {
  updateRule: {
    get expected() {
      return `one of ${Object.keys(updateRules).join(", ")} or null`;
    },
    ok: (v) => v === null || isRuleName(v),
    show: (v, saved) => (v === null ? (saved ? "a custom function: pass the same one" : "(a custom function)") : String(v)),
  },
  lrDecay: { expected: "a number >= 0", ok: (v) => typeof v === "number" && v >= 0 && Number.isFinite(v) },
  lrSchedule: {
    expected: `null, "custom" or { type: "cosine", warmupEpochs, minLearningRate }`,
    ok: (v) => v === null || v === "custom" || isCosine(v),
    legacy: null,
    show: (v, saved) => `${JSON.stringify(v)}${saved && v === "custom" ? ": pass the same function" : ""}`,
  },
  batchSize: { expected: "a positive integer", ok: isPositive },
  numEpochs: COUNT,
  numTrainSamples: POSITIVE_OR_NULL,
  numValSamples: POSITIVE_OR_NULL,
  seed: { expected: "an integer in [0, 2^32)", ok: (v) => isCount(v) && v < 2 ** 32 },
  augment: { expected: "an array of augmentations", ok: Array.isArray, absent: [] }, // items: checkAugmentations
  weightDecayParams: { expected: `"all" or "weights"`, ok: (v) => v === "all" || v === "weights", absent: "all", show: String },
  keep: { expected: `"best" or "last"`, ok: (v) => v === "best" || v === "last", absent: "best", show: String },
  emaDecay: { expected: "a number in (0, 1) or null", ok: (v) => v === null || isDecay(v), absent: null, show: String },
};

/** A moving average's decay: in (0, 1). */
export function isDecay(v: unknown): v is number {
  return typeof v === "number" && v > 0 && v < 1;
}

function isCosine(v: unknown): boolean {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const c = v as Record<string, unknown>;
  return Object.keys(c).length === 3 && c.type === "cosine" && isRate(c.warmupEpochs) && isRate(c.minLearningRate);
}

/**
 * Checks a state against the schema (whether it fits a Solver is restoreState's to check) and
 * returns a normalized copy: fields from before schedules read as their runs were, values a state
 * leaves out are left out, an augment list becomes its checked copy. Messages name paths from `name` ("state.rngState"; "" for bare
 * field names); by default a problem throws `${fn}: ...`.
 */
export function checkSolverState(fn: string, value: unknown, name = "state", fail: Fail = thrower(fn)): SolverState {
  const at = (path: string) => (name && path ? `${name}.${path}` : name || path);
  const check = (path: string, rule: Rule, v: unknown): void => {
    if (!rule.ok(v)) fail(`${at(path)} must be ${rule.expected} (got ${describe(v)})`, typeof v === "number" ? RangeError : TypeError);
  };
  const object = (path: string, v: unknown, known?: readonly string[]): Record<string, unknown> => {
    if (v === null || typeof v !== "object" || Array.isArray(v) || ArrayBuffer.isView(v))
      fail(`${at(path) || "the state"} must be an object (got ${describe(v)})`, TypeError);
    const extra = known && Object.keys(v as object).find((k) => !known.includes(k));
    if (extra !== undefined) fail(`${at(path)} has an unknown field "${extra.slice(0, 40)}" (known: ${known!.join(", ")})`, TypeError);
    return v as Record<string, unknown>;
  };

  const s = object("", value, ["options", ...Object.keys(FIELDS), "optimConfigs", "best", "average"]);
  const o = object("options", s.options, Object.keys(OPTION_FIELDS));
  const options: Record<string, unknown> = {};
  for (const [key, rule] of Object.entries(OPTION_FIELDS)) {
    const v = o[key] === undefined ? ("absent" in rule ? rule.absent : rule.legacy) : o[key];
    check(`options.${key}`, rule, v);
    if (!("absent" in rule) || JSON.stringify(v) !== JSON.stringify(rule.absent)) options[key] = v;
  }
  if (options.augment !== undefined) {
    try {
      options.augment = checkAugmentations("", at("options.augment"), options.augment);
    } catch (error) {
      fail((error as Error).message.replace(/^: /, ""), error instanceof RangeError ? RangeError : TypeError);
    }
  }
  const run: Record<string, unknown> = {};
  for (const [key, rule] of Object.entries(FIELDS)) {
    const v = s[key] === undefined ? rule.legacy : s[key];
    check(key, rule, v);
    run[key] = v;
  }
  const r = run as Pick<SolverState, keyof typeof FIELDS>;
  if (r.lossHistory.length !== r.iteration)
    fail(`${at("lossHistory")} has ${r.lossHistory.length} entries but ${at("iteration")} is ${r.iteration}`, RangeError);
  if (r.trainAccHistory.length !== r.valAccHistory.length || r.accuracyIterations.length !== r.valAccHistory.length) {
    fail(
      `${at("trainAccHistory")}, valAccHistory and accuracyIterations must have one entry per accuracy check ` +
        `(got ${r.trainAccHistory.length}, ${r.valAccHistory.length}, ${r.accuracyIterations.length})`,
      RangeError,
    );
  }
  const optimConfigs: SolverState["optimConfigs"] = {};
  for (const [key, config] of Object.entries(object("optimConfigs", s.optimConfigs))) {
    const path = `optimConfigs.${key}`;
    const c = object(path, config, ["numbers", "tensors"]);
    const numbers = object(`${path}.numbers`, c.numbers ?? {}, OPTIM_NUMBER_KEYS) as Record<string, number>;
    for (const [field, v] of Object.entries(numbers)) check(`${path}.numbers.${field}`, field === "t" ? COUNT : RATE, v);
    const tensors = object(`${path}.tensors`, c.tensors ?? {}, OPTIM_STATE_KEYS) as SolverState["optimConfigs"][string]["tensors"];
    for (const [field, t] of Object.entries(tensors)) {
      if (t === null || typeof t !== "object" || !(t.data instanceof Float32Array || t.data instanceof Float64Array)) {
        fail(`${at(`${path}.tensors.${field}`)} must be { shape, data } with data a Float32Array or Float64Array (got ${describe(t)})`, TypeError);
      }
    }
    define(optimConfigs, key, { numbers, tensors });
  }
  const best = s.best ?? null;
  if (best !== null) object("best", best);
  const average = s.average ?? null;
  if (average !== null) object("average", average);
  if (options.emaDecay === undefined && r.averageUpdates > 0)
    fail(`${at("averageUpdates")} is ${r.averageUpdates} but the run has no moving average (options.emaDecay)`, RangeError);
  return { options: options as unknown as RunOptions, ...r, optimConfigs, best: best as SolverState["best"], average: average as SolverState["average"] };
}

function thrower(fn: string): Fail {
  return (message, Kind) => {
    throw new Kind(`${fn}: ${message}`);
  };
}

/** What a run's options would make mismatch in a saved run's (numEpochs may differ: it is the new total). */
export function optionMismatches(mine: RunOptions, saved: RunOptions): string[] {
  const out: string[] = [];
  for (const [key, rule] of Object.entries(OPTION_FIELDS)) {
    if (key === "numEpochs") continue;
    const value = (o: RunOptions) => (o[key as keyof RunOptions] === undefined ? rule.absent : o[key as keyof RunOptions]);
    const [a, b] = [value(mine), value(saved)];
    const show = rule.show ?? ((v: unknown) => JSON.stringify(v));
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${key} ${show(a, false)} (saved: ${show(b, true)})`);
  }
  return out;
}

/** What runOptionsOf reads of a Solver. */
export interface RunSettings {
  updateRuleName: UpdateRuleName | null;
  lrDecay: number;
  lrSchedule: Required<CosineSchedule> | ScheduleFunction | null;
  batchSize: number;
  numEpochs: number;
  numTrainSamples: number | null;
  numValSamples: number | null;
  seed: number;
  augment: readonly Augmentation[];
  weightDecayParams: "all" | "weights";
  keep: "best" | "last";
  emaDecay: number | null;
}

/** A Solver's settings as a state stores them (plain copies; a schedule function is "custom"). */
export function runOptionsOf(s: RunSettings): RunOptions {
  return {
    updateRule: s.updateRuleName,
    lrDecay: s.lrDecay,
    lrSchedule: s.lrSchedule === null ? null : typeof s.lrSchedule === "function" ? "custom" : { ...s.lrSchedule },
    batchSize: s.batchSize,
    numEpochs: s.numEpochs,
    numTrainSamples: s.numTrainSamples,
    numValSamples: s.numValSamples,
    seed: s.seed,
    ...(s.augment.length > 0 ? { augment: s.augment.map((a) => ({ ...a })) } : {}),
    ...(s.weightDecayParams === "weights" ? { weightDecayParams: "weights" as const } : {}),
    ...(s.keep === "last" ? { keep: "last" as const } : {}),
    ...(s.emaDecay !== null ? { emaDecay: s.emaDecay } : {}),
  };
}

/**
 * Options for `new Solver(model, data, { ...options, numEpochs })` that continue a saved run.
 * `updateRule` is absent when the run used a custom rule function, `lrSchedule` for per-epoch
 * lrDecay and for a schedule function: pass the same function.
 *
 * @inline
 */
export interface ResumeOptions {
  /** The built-in rule's name; absent for a custom rule function (pass the same one). */
  updateRule?: UpdateRuleName;
  /** Learning-rate multiplier per epoch. */
  lrDecay: number;
  /** The cosine schedule; absent for per-epoch lrDecay, and for a custom function (pass the same one). */
  lrSchedule?: Required<CosineSchedule>;
  /** Samples per training batch. */
  batchSize: number;
  /** Epochs of the saved run; give a larger numEpochs to train further. */
  numEpochs: number;
  /** Training samples per accuracy check (null: all). */
  numTrainSamples: number | null;
  /** Validation samples per accuracy check (null: all). */
  numValSamples: number | null;
  /** Seed of the sampling and augmentation stream. */
  seed: number;
  /** The augmentations, when the run used any. */
  augment?: Augmentation[];
  /** "weights" when the weight decay spared biases and norms; absent for "all". */
  weightDecayParams?: "weights";
  /** "last" when train() leaves the last parameters; absent for "best". */
  keep?: "last";
  /** The moving average's decay, when the run kept one. */
  emaDecay?: number;
}

export function resumeOptions(o: RunOptions): ResumeOptions {
  return {
    lrDecay: o.lrDecay,
    batchSize: o.batchSize,
    numEpochs: o.numEpochs,
    numTrainSamples: o.numTrainSamples,
    numValSamples: o.numValSamples,
    seed: o.seed,
    ...(o.augment === undefined ? {} : { augment: o.augment }),
    ...(o.weightDecayParams === undefined ? {} : { weightDecayParams: o.weightDecayParams }),
    ...(o.keep === undefined ? {} : { keep: o.keep }),
    ...(o.emaDecay === undefined ? {} : { emaDecay: o.emaDecay }),
    ...(o.updateRule === null ? {} : { updateRule: o.updateRule }),
    ...(o.lrSchedule === null || o.lrSchedule === "custom" ? {} : { lrSchedule: o.lrSchedule }),
  };
}

/**
 * The config keys of a model's optimizer state, each with the tensor it updates: "all" and the
 * flat region for a built-in rule over a paramStore (one kernel call), else every parameter.
 */
export function updateTargets(model: TrainableModel, builtInRule: boolean): [string, Tensor][] {
  return builtInRule && model.paramStore ? [["all", model.paramStore.flat]] : Object.entries(model.params);
}

/**
 * Why `configs` cannot be the optimizer state of these targets, or null: its keys must be theirs,
 * each tensor of its target's size and dtype (a float64 model's state is a Float64Array).
 */
export function optimStateMismatch(configs: SolverState["optimConfigs"], targets: [string, Tensor][], name: string): string | null {
  const keys = Object.keys(configs);
  const expect = targets.map(([key]) => key);
  if (keys.length !== expect.length || keys.some((k) => !expect.includes(k)))
    return `${name} has keys [${keys.join(", ")}] but the model trains [${expect.join(", ")}]`;
  for (const [key, target] of targets) {
    const Data = target.dtype === "float64" ? Float64Array : Float32Array;
    for (const [field, t] of Object.entries(configs[key].tensors)) {
      if (!(t.data instanceof Data) || t.data.length !== target.size) {
        return `${name}.${key}.tensors.${field} must hold ${target.size} ${target.dtype} values (a ${Data.name}; the shape [${target.shape.join(", ")}])`;
      }
    }
  }
  return null;
}

/** The key `best` and a Solver's lastState() give a model buffer (parameters go by their own names). */
export function bufferKey(name: string): string {
  return `buffer:${name}`;
}

/**
 * The stored form checkpoints write: the state's numbers and strings as one JSON text (a
 * non-finite loss as "NaN" or "Infinity", which JSON has no numbers for; `hasBest` for whether a
 * best snapshot exists) and its optimizer tensors named "<config key>.<field>". The snapshot's
 * values are not in it: a checkpoint keeps them as the model's own tensors, and the moving
 * average's beside them (averageUpdates > 0 says it has one).
 */
export function encodeSolverState(state: SolverState): { json: string; tensors: [string, { shape: readonly number[]; data: Values }][] } {
  const optimConfigs: Record<string, Record<string, number>> = {};
  const tensors: [string, { shape: readonly number[]; data: Values }][] = [];
  for (const [key, config] of Object.entries(state.optimConfigs)) {
    for (const [field, t] of Object.entries(config.tensors)) tensors.push([`${key}.${field}`, t]);
    define(optimConfigs, key, config.numbers);
  }
  const stored = {
    options: state.options,
    epoch: state.epoch,
    iteration: state.iteration,
    iterationsPerEpoch: state.iterationsPerEpoch,
    rngState: state.rngState,
    bestValAcc: state.bestValAcc,
    hasBest: state.best !== null,
    ...(state.averageUpdates > 0 ? { averageUpdates: state.averageUpdates } : {}), // files without an average stay as they were
    customUpdateRule: state.options.updateRule === null, // redundant with updateRule null; files keep it as they always had it
    baseLearningRate: state.baseLearningRate,
    lossHistory: state.lossHistory,
    trainAccHistory: state.trainAccHistory,
    valAccHistory: state.valAccHistory,
    accuracyIterations: state.accuracyIterations,
    optimConfigs,
  };
  return { json: JSON.stringify(stored, (_key, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)), tensors };
}

/**
 * A state from its stored form (encodeSolverState's JSON, parsed; files from before schedules,
 * accuracy-check iterations or base rates read as their runs were), checked with checkSolverState
 * (bare field names, problems through `fail`). `tensor(key, field)` gives the stored optimizer
 * tensor of that name, if any (whether it fits the model is the caller's to check); the best
 * snapshot is the caller's to add when `hasBest`.
 */
export function decodeSolverState(
  stored: Record<string, unknown>,
  tensor: (key: string, field: string) => { shape: readonly number[]; data: Values } | undefined,
  fail: Fail,
): { state: SolverState; hasBest: boolean } {
  const s: Record<string, unknown> = {};
  for (const key of ["options", ...Object.keys(FIELDS), "optimConfigs"]) if (stored[key] !== undefined) s[key] = stored[key];
  for (const key of ["lossHistory", "trainAccHistory", "valAccHistory"]) {
    if (Array.isArray(s[key]))
      s[key] = (s[key] as unknown[]).map((v) => (typeof v === "string" && ["NaN", "Infinity", "-Infinity"].includes(v) ? Number(v) : v));
  }
  // Before accuracyIterations the Solver checked at iteration 1, then at every epoch end.
  if (s.accuracyIterations === undefined && isCount(s.iterationsPerEpoch) && Array.isArray(s.valAccHistory)) {
    const perEpoch = s.iterationsPerEpoch;
    const checks = s.valAccHistory.length > 0 ? [1] : [];
    for (let k = 1; checks.length < s.valAccHistory.length; k++) if (k * perEpoch !== 1) checks.push(k * perEpoch);
    s.accuracyIterations = checks;
  }
  const configs = s.optimConfigs;
  if (configs !== null && typeof configs === "object" && !Array.isArray(configs)) {
    const withTensors: Record<string, unknown> = {};
    for (const [key, numbers] of Object.entries(configs)) {
      const tensors: Record<string, unknown> = {};
      for (const field of OPTIM_STATE_KEYS) {
        const t = tensor(key, field);
        if (t !== undefined) tensors[field] = t;
      }
      define(withTensors, key, { numbers, tensors });
    }
    s.optimConfigs = withTensors;
  }
  return { state: checkSolverState("", s, "", fail), hasBest: stored.hasBest === true };
}

// Keys from data (parameter names) are set as own properties, never through a setter such as __proto__.
function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
}
