// Update rules with the course's signature: (w, dw, config) -> [nextW, config]. Each is one fused
// wasm pass that updates w IN PLACE (nextW === w). config carries the hyperparameters and the
// state tensors between calls, like the course's dicts: defaults are filled in on first use.
// float64 parameters run the f64 kernels and get float64 state tensors.
//
// Weight decay is decoupled (AdamW's, Loshchilov & Hutter 2019) in every rule: with
// config.weightDecay = λ, w is first shrunk to (1 - learningRate·λ)·w, then the rule's step is
// taken from the gradient as it is. "adamw" is Adam with λ = 0.01 by default.
import { scale } from "../ops/elementwise.js";
import { adagradUpdate, adamUpdate, rmspropUpdate, sgdMomentumUpdate, sgdNesterovUpdate, sgdUpdate } from "../ops/optim.js";
import { checkSameDtype, checkShape, checkTensor, keep, zeros, type Tensor } from "../core/tensor.js";
import { checkNumber, checkOptions, describe, type NumberRange } from "../core/validate.js";

/** Hyperparameters of sgd (the course's config dict); the base of every rule's config. */
export interface SgdConfig {
  /** Step size; > 0 as a float32. Default 1e-2 (adam and adamw: 1e-3). */
  learningRate?: number;
  /** Decoupled weight decay λ: w shrinks to (1 - learningRate·λ)·w before each step. Default 0 (adamw: 0.01). */
  weightDecay?: number;
}
/** Config of sgdMomentum and sgdNesterov: hyperparameters and the velocity they carry between calls. */
export interface SgdMomentumConfig extends SgdConfig {
  /** Momentum μ in [0, 1). Default 0.9. */
  momentum?: number;
  /** Velocity v, w's shape and dtype; created as zeros on the first call and updated in place. */
  velocity?: Tensor;
}
/** Config of adagrad: hyperparameters and the squared-gradient sum it carries between calls. */
export interface AdagradConfig extends SgdConfig {
  /** Added to sqrt(cache) in the denominator; > 0. Default 1e-5 (the course notes' value). */
  epsilon?: number;
  /** Running sum of dw², w's shape and dtype; created as zeros on the first call and updated in place. */
  cache?: Tensor;
}
/** Config of rmsprop: hyperparameters and the moving average of dw² it carries between calls. */
export interface RmspropConfig extends SgdConfig {
  /** Decay d of the moving average of dw², in [0, 1). Default 0.99. */
  decayRate?: number;
  /** Added to sqrt(cache) in the denominator; > 0. Default 1e-8. */
  epsilon?: number;
  /** Moving average of dw², w's shape and dtype; created as zeros on the first call and updated in place. */
  cache?: Tensor;
}
/** Config of adam and adamw: hyperparameters, the two moment estimates and the step count. */
export interface AdamConfig extends SgdConfig {
  /** Decay of the first-moment (mean) estimate m, in [0, 1). Default 0.9. */
  beta1?: number;
  /** Decay of the second-moment (uncentered variance) estimate v, in [0, 1). Default 0.999. */
  beta2?: number;
  /** Added to sqrt(v̂) in the denominator; > 0. Default 1e-8. */
  epsilon?: number;
  /** First-moment estimate, w's shape and dtype; created as zeros on the first call. */
  m?: Tensor;
  /** Second-moment estimate, w's shape and dtype; created as zeros on the first call. */
  v?: Tensor;
  /** Steps taken so far (incremented before each step, for the bias correction). Default 0. */
  t?: number;
}
/** Every key any built-in rule reads: the type of SolverOptions.optimConfig. Each rule accepts only its own keys. */
export type OptimConfig = SgdConfig & SgdMomentumConfig & AdagradConfig & RmspropConfig & AdamConfig;
/**
 * An update rule with the course's signature: updates w from its gradient dw (same shape) and
 * returns [w, config], config holding the state for the next call. The built-in rules update w in place.
 */
export type UpdateRule<C extends object = OptimConfig> = (w: Tensor, dw: Tensor, config?: C) => [Tensor, C];

// The config keys each rule reads, and the range of every hyperparameter. Values reach the kernels
// as float32, so they are checked after rounding too (a learning rate of 1e39 would be Infinity).
const KEYS = {
  sgd: ["learningRate", "weightDecay"],
  sgdMomentum: ["learningRate", "momentum", "velocity", "weightDecay"],
  sgdNesterov: ["learningRate", "momentum", "velocity", "weightDecay"],
  adagrad: ["learningRate", "epsilon", "cache", "weightDecay"],
  rmsprop: ["learningRate", "decayRate", "epsilon", "cache", "weightDecay"],
  adam: ["learningRate", "beta1", "beta2", "epsilon", "m", "v", "t", "weightDecay"],
  adamw: ["learningRate", "beta1", "beta2", "epsilon", "m", "v", "t", "weightDecay"],
} as const;
const UNIT: NumberRange = { min: 0, max: 1, maxExclusive: true, float32: true };
const RANGES: Record<string, NumberRange> = {
  learningRate: { min: 0, float32: true },
  momentum: UNIT,
  decayRate: UNIT,
  beta1: UNIT,
  beta2: UNIT,
  epsilon: { min: 0, minExclusive: true, float32: true },
  weightDecay: { min: 0, float32: true },
};
/** What a config can hold: its numbers (hyperparameters and Adam's step count t) and its state tensors. */
export const OPTIM_NUMBER_KEYS: readonly string[] = ["learningRate", "momentum", "decayRate", "epsilon", "beta1", "beta2", "t", "weightDecay"];
export const OPTIM_STATE_KEYS: readonly string[] = ["velocity", "cache", "m", "v"];

/**
 * Checks a config for a rule without touching it: known keys only, every hyperparameter in range,
 * state values are live tensors, t a step count. The Solver calls it up front, so a bad optimConfig
 * fails at construction rather than at the first step.
 */
export function checkOptimConfig(fn: string, name: string, rule: UpdateRuleName, config: unknown): OptimConfig {
  const c = checkOptions(fn, name, config ?? {}, KEYS[rule]);
  for (const [key, value] of Object.entries(c)) {
    if (value === undefined) continue;
    if (key in RANGES) checkNumber(fn, `${name}.${key}`, value, RANGES[key]);
    else if (OPTIM_STATE_KEYS.includes(key)) checkTensor(fn, `${name}.${key}`, value);
    else if (key === "t" && (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)) {
      throw new TypeError(`${fn}: ${name}.t must be a non-negative integer step count (got ${describe(value)})`);
    }
  }
  return c as OptimConfig;
}

function begin<C extends object>(fn: string, rule: UpdateRuleName, w: Tensor, dw: Tensor, config: C | undefined): C {
  checkTensor(fn, "w", w);
  checkTensor(fn, "dw", dw);
  checkShape(fn, "dw", dw, w.shape, "w's shape");
  checkSameDtype(fn, [
    ["w", w],
    ["dw", dw],
  ]);
  return checkOptimConfig(fn, "config", rule, config) as C;
}

/** config[key], filled with its default on first use, checked. */
function hyper(fn: string, config: Record<string, unknown>, key: string, fallback: number): number {
  config[key] ??= fallback;
  return checkNumber(fn, `config.${key}`, config[key], RANGES[key]);
}

/**
 * State tensors of w's shape (velocity, cache, m, v). Given ones are checked first (w's shape,
 * distinct from w, dw and each other: an alias would silently corrupt the update); missing ones are
 * then created as zeros, kept out of any tidy, and stored in config only once all exist, so a
 * failed call (bad tensor, out of memory) leaves config as it was and allocates nothing.
 */
function states(fn: string, config: Record<string, unknown>, keys: readonly string[], w: Tensor, dw: Tensor): Tensor[] {
  const seen = [w.storage, dw.storage];
  const given = keys.map((key) => {
    if (config[key] === undefined) return undefined;
    const t = checkTensor(fn, `config.${key}`, config[key]);
    checkShape(fn, `config.${key}`, t, w.shape, "w's shape");
    checkSameDtype(fn, [
      ["w", w],
      [`config.${key}`, t],
    ]);
    if (seen.includes(t.storage)) {
      throw new TypeError(`${fn}: config.${key} must be its own tensor, not w, dw or another state tensor (or a view of one)`);
    }
    seen.push(t.storage);
    return t;
  });
  const made: Tensor[] = [];
  try {
    const out = given.map((t) => t ?? made[made.push(keep(zeros(w.shape, { dtype: w.dtype }))) - 1]);
    keys.forEach((key, i) => (config[key] = out[i]));
    return out;
  } catch (error) {
    for (const t of made) t.dispose();
    throw error;
  }
}

// Plain literals, read-only by type: Object.freeze at module scope is a call bundlers must keep.
/** Every rule's default learning rate (the course's values). */
export const DEFAULT_LEARNING_RATES: Readonly<Record<UpdateRuleName, number>> = {
  sgd: 1e-2,
  sgdMomentum: 1e-2,
  sgdNesterov: 1e-2,
  adagrad: 1e-2,
  rmsprop: 1e-2,
  adam: 1e-3,
  adamw: 1e-3,
};
const DEFAULTS: Record<string, number> = { momentum: 0.9, decayRate: 0.99, beta1: 0.9, beta2: 0.999 };
const EPSILON_DEFAULTS: Record<UpdateRuleName, number> = { sgd: 0, sgdMomentum: 0, sgdNesterov: 0, adagrad: 1e-5, rmsprop: 1e-8, adam: 1e-8, adamw: 1e-8 };
const WEIGHT_DECAY_DEFAULTS: Record<UpdateRuleName, number> = { sgd: 0, sgdMomentum: 0, sgdNesterov: 0, adagrad: 0, rmsprop: 0, adam: 0, adamw: 0.01 };

/**
 * Runs of w's elements an update covers: [start, end, decay] (end exclusive), decay saying whether
 * the weight decay applies there. The Solver passes them to leave frozen parameters alone and to
 * spare biases and norms the decay; without them the whole of w is updated and decayed.
 */
export type Segments = readonly (readonly [start: number, end: number, decay: boolean])[];

/**
 * A rule's update with no checks: fills in missing hyperparameters with their defaults, creates
 * missing state tensors as zeros (w's shape), and runs the fused kernel in place over w, or over
 * the given segments of it (one step: Adam's t advances once). For callers that checked w, dw and
 * config once (the Solver: checkOptimConfig and checkOptimState at construction); everyone else
 * calls the checked rules below.
 */
export type UpdateCore = (w: Tensor, dw: Tensor, config: OptimConfig, segments?: Segments) => void;

function defaults(rule: UpdateRuleName, c: Record<string, unknown>): void {
  c.learningRate ??= DEFAULT_LEARNING_RATES[rule];
  for (const key of KEYS[rule]) {
    if (key in DEFAULTS) c[key] ??= DEFAULTS[key];
    else if (key === "epsilon") c[key] ??= EPSILON_DEFAULTS[rule];
    // Absent means none: configs that never use weight decay stay as they always were.
    else if (key === "weightDecay" && WEIGHT_DECAY_DEFAULTS[rule] !== 0) c[key] ??= WEIGHT_DECAY_DEFAULTS[rule];
  }
}

/**
 * Runs `kernel(offset, count)` over each segment (element offsets), after shrinking the decaying
 * ones by (1 - learningRate·weightDecay): the decoupled weight decay.
 */
function overSegments(w: Tensor, c: Record<string, unknown>, segments: Segments | undefined, kernel: (offset: number, count: number) => void): void {
  const runs = segments ?? [[0, w.size, true] as const];
  w.markWritten(); // in place: what was derived from w (packed weights) is stale
  const wd = (c.weightDecay as number | undefined) ?? 0;
  const shrink = 1 - (c.learningRate as number) * wd;
  for (const [start, end, decay] of runs) {
    if (end <= start) continue;
    if (decay && wd !== 0) {
      const at = w.ptr + start * w.itemBytes;
      scale(at, at, end - start, shrink, w.dtype);
    }
    kernel(start * w.itemBytes, end - start);
  }
}

/**
 * State tensors that are missing are created as zeros of w's shape, kept out of any tidy, and
 * stored in config only once all exist (out of memory midway leaves config as it was). The
 * update writes them in place: their versions change.
 */
function stateCore(c: Record<string, unknown>, keys: readonly string[], w: Tensor): Tensor[] {
  if (keys.every((key) => c[key] !== undefined)) {
    return keys.map((key) => {
      const t = c[key] as Tensor;
      t.markWritten();
      return t;
    });
  }
  const made: Tensor[] = [];
  try {
    const out = keys.map((key) => (c[key] as Tensor | undefined) ?? made[made.push(keep(zeros(w.shape, { dtype: w.dtype }))) - 1]);
    keys.forEach((key, i) => (c[key] = out[i]));
    return out;
  } catch (error) {
    for (const t of made) t.dispose();
    throw error;
  }
}

/** The unchecked update of each built-in rule (see UpdateCore). */
type Numbers<K extends string> = Record<string, unknown> & Record<K, number>;

// One const per rule (not one object of them), so that an app calling only adam carries only
// adam's update: the table below is reached through the Solver alone.
const sgdCore: UpdateCore = (w, dw, config, segments) => {
  const c = config as Numbers<"learningRate">;
  defaults("sgd", c);
  overSegments(w, c, segments, (o, n) => sgdUpdate(w.ptr + o, dw.ptr + o, n, c.learningRate, w.dtype));
};

/** sgdMomentum's and sgdNesterov's update: one state tensor (velocity) and the momentum. */
function momentumCore(rule: "sgdMomentum" | "sgdNesterov", update: typeof sgdMomentumUpdate): UpdateCore {
  return (w, dw, config, segments) => {
    const c = config as Numbers<"learningRate" | "momentum">;
    defaults(rule, c);
    const [v] = stateCore(c, ["velocity"], w);
    overSegments(w, c, segments, (o, n) => update(w.ptr + o, dw.ptr + o, v.ptr + o, n, c.learningRate, c.momentum, w.dtype));
  };
}
const sgdMomentumCore = /* @__PURE__ */ momentumCore("sgdMomentum", sgdMomentumUpdate);
const sgdNesterovCore = /* @__PURE__ */ momentumCore("sgdNesterov", sgdNesterovUpdate);

const adagradCore: UpdateCore = (w, dw, config, segments) => {
  const c = config as Numbers<"learningRate" | "epsilon">;
  defaults("adagrad", c);
  const [cache] = stateCore(c, ["cache"], w);
  overSegments(w, c, segments, (o, n) => adagradUpdate(w.ptr + o, dw.ptr + o, cache.ptr + o, n, c.learningRate, c.epsilon, w.dtype));
};

const rmspropCore: UpdateCore = (w, dw, config, segments) => {
  const c = config as Numbers<"learningRate" | "decayRate" | "epsilon">;
  defaults("rmsprop", c);
  const [cache] = stateCore(c, ["cache"], w);
  overSegments(w, c, segments, (o, n) => rmspropUpdate(w.ptr + o, dw.ptr + o, cache.ptr + o, n, c.learningRate, c.decayRate, c.epsilon, w.dtype));
};

function adamCore(rule: "adam" | "adamw"): UpdateCore {
  return (w, dw, config, segments) => {
    const c = config as Numbers<"learningRate" | "beta1" | "beta2" | "epsilon" | "t">;
    defaults(rule, c);
    c.t ??= 0;
    const [m, v] = stateCore(c, ["m", "v"], w);
    c.t += 1;
    overSegments(w, c, segments, (o, n) =>
      adamUpdate(w.ptr + o, dw.ptr + o, m.ptr + o, v.ptr + o, n, c.learningRate, c.beta1, c.beta2, c.epsilon, c.t, w.dtype),
    );
  };
}
const adamRuleCore = /* @__PURE__ */ adamCore("adam");
const adamwRuleCore = /* @__PURE__ */ adamCore("adamw");

/** The unchecked update of each built-in rule (see UpdateCore). */
export const updateCores: Readonly<Record<UpdateRuleName, UpdateCore>> = {
  sgd: sgdCore,
  sgdMomentum: sgdMomentumCore,
  sgdNesterov: sgdNesterovCore,
  adagrad: adagradCore,
  rmsprop: rmspropCore,
  adam: adamRuleCore,
  adamw: adamwRuleCore,
};

/**
 * Checks the state tensors a config holds against the w (and dw) they will update: w's shape,
 * distinct from w, dw and each other. What the checked rules do on every call, for callers of
 * updateCores to do once.
 */
export function checkOptimState(fn: string, name: string, config: OptimConfig, w: Tensor, dw: Tensor): void {
  const c = config as Record<string, unknown>;
  const seen = [w.storage, dw.storage];
  for (const key of OPTIM_STATE_KEYS) {
    if (c[key] === undefined) continue;
    const t = checkTensor(fn, `${name}.${key}`, c[key]);
    checkShape(fn, `${name}.${key}`, t, w.shape, "the shape of the parameters it updates");
    checkSameDtype(fn, [
      ["w", w],
      [`${name}.${key}`, t],
    ]);
    if (seen.includes(t.storage)) {
      throw new TypeError(`${fn}: ${name}.${key} must be its own tensor, not a parameter, a gradient or another state tensor (or a view of one)`);
    }
    seen.push(t.storage);
  }
}

/**
 * The checked rules share one shape: check w, dw and config (known keys, ranges), fill in and
 * check the hyperparameters, check or create the state tensors, then run the same core the
 * Solver runs.
 */
function checked<C extends SgdConfig>(
  rule: UpdateRuleName,
  stateKeys: readonly string[],
  core: UpdateCore,
  w: Tensor,
  dw: Tensor,
  config: C | undefined,
): [Tensor, C] {
  const c = begin(rule, rule, w, dw, config) as Record<string, unknown>;
  hyper(rule, c, "learningRate", DEFAULT_LEARNING_RATES[rule]);
  for (const key of KEYS[rule]) {
    if (key in DEFAULTS) hyper(rule, c, key, DEFAULTS[key]);
    else if (key === "epsilon") hyper(rule, c, key, EPSILON_DEFAULTS[rule]);
    else if (key === "weightDecay" && (c[key] !== undefined || WEIGHT_DECAY_DEFAULTS[rule] !== 0)) hyper(rule, c, key, WEIGHT_DECAY_DEFAULTS[rule]);
  }
  states(rule, c, stateKeys, w, dw);
  core(w, dw, c as OptimConfig);
  return [w, c as C];
}

/** Vanilla SGD: w -= learningRate * dw. Default learningRate 1e-2. */
export function sgd(w: Tensor, dw: Tensor, config?: SgdConfig): [Tensor, SgdConfig] {
  return checked("sgd", [], sgdCore, w, dw, config);
}

/** SGD with momentum: v = momentum*v - learningRate*dw; w += v. Defaults 1e-2, 0.9, v = 0. */
export function sgdMomentum(w: Tensor, dw: Tensor, config?: SgdMomentumConfig): [Tensor, SgdMomentumConfig] {
  return checked("sgdMomentum", ["velocity"], sgdMomentumCore, w, dw, config);
}

/**
 * Nesterov momentum (the course notes' form): v_prev = v; v = momentum*v - learningRate*dw;
 * w += -momentum*v_prev + (1 + momentum)*v. Defaults 1e-2, 0.9, v = 0.
 */
export function sgdNesterov(w: Tensor, dw: Tensor, config?: SgdMomentumConfig): [Tensor, SgdMomentumConfig] {
  return checked("sgdNesterov", ["velocity"], sgdNesterovCore, w, dw, config);
}

/** AdaGrad: cache += dw²; w -= learningRate*dw/(sqrt(cache)+epsilon). Defaults 1e-2, 1e-5 (the notes' value). */
export function adagrad(w: Tensor, dw: Tensor, config?: AdagradConfig): [Tensor, AdagradConfig] {
  return checked("adagrad", ["cache"], adagradCore, w, dw, config);
}

/** RMSProp: cache = d*cache + (1-d)*dw²; w -= learningRate*dw/(sqrt(cache)+epsilon). Defaults 1e-2, 0.99, 1e-8. */
export function rmsprop(w: Tensor, dw: Tensor, config?: RmspropConfig): [Tensor, RmspropConfig] {
  return checked("rmsprop", ["cache"], rmspropCore, w, dw, config);
}

/**
 * Adam with bias correction: t += 1 first; m, v moving averages of dw and dw²;
 * w -= learningRate * m̂ / (sqrt(v̂) + epsilon). Defaults 1e-3, 0.9, 0.999, 1e-8, t = 0.
 */
export function adam(w: Tensor, dw: Tensor, config?: AdamConfig): [Tensor, AdamConfig] {
  return checked("adam", ["m", "v"], adamRuleCore, w, dw, config);
}

/**
 * AdamW: Adam with decoupled weight decay, w shrunk to (1 - learningRate·weightDecay)·w before
 * the step. Defaults as adam, weightDecay 0.01 (PyTorch's).
 */
export function adamw(w: Tensor, dw: Tensor, config?: AdamConfig): [Tensor, AdamConfig] {
  return checked("adamw", ["m", "v"], adamwRuleCore, w, dw, config);
}

/** The built-in rules by the names the Solver and CLI accept. */
export const updateRules = {
  /** Vanilla SGD (see sgd). */
  sgd,
  /** SGD with momentum (see sgdMomentum). */
  sgdMomentum,
  /** Nesterov momentum (see sgdNesterov). */
  sgdNesterov,
  /** AdaGrad (see adagrad). */
  adagrad,
  /** RMSProp (see rmsprop). */
  rmsprop,
  /** Adam (see adam). */
  adam,
  /** Adam with decoupled weight decay (see adamw). */
  adamw,
} as const;
/** The name of a built-in update rule: "sgd", "sgdMomentum", "sgdNesterov", "adagrad", "rmsprop", "adam" or "adamw". */
export type UpdateRuleName = keyof typeof updateRules;

/** Frees the state tensors a config holds (velocity, cache, m, v). */
export function disposeOptimState(config: object): void {
  for (const value of Object.values(config)) {
    if (value !== null && typeof value === "object" && "dispose" in value && typeof value.dispose === "function") value.dispose();
  }
}
