// Update rules with the course's signature: (w, dw, config) -> [nextW, config]. Each is one fused
// wasm pass that updates w IN PLACE (nextW === w). config carries the hyperparameters and the
// state tensors between calls, like the course's dicts: defaults are filled in on first use.
// float64 parameters run the f64 kernels and get float64 state tensors.
import { adagradUpdate, adamUpdate, rmspropUpdate, sgdMomentumUpdate, sgdUpdate } from "./ops/optim.js";
import { checkSameDtype, checkShape, checkTensor, keep, zeros, type Tensor } from "./tensor.js";
import { checkNumber, checkOptions, describe, type NumberRange } from "./validate.js";

export interface SgdConfig {
  learningRate?: number;
}
export interface SgdMomentumConfig extends SgdConfig {
  momentum?: number;
  velocity?: Tensor;
}
export interface AdagradConfig extends SgdConfig {
  epsilon?: number;
  cache?: Tensor;
}
export interface RmspropConfig extends SgdConfig {
  decayRate?: number;
  epsilon?: number;
  cache?: Tensor;
}
export interface AdamConfig extends SgdConfig {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  m?: Tensor;
  v?: Tensor;
  t?: number;
}
export type OptimConfig = SgdConfig & SgdMomentumConfig & AdagradConfig & RmspropConfig & AdamConfig;
export type UpdateRule<C extends object = OptimConfig> = (w: Tensor, dw: Tensor, config?: C) => [Tensor, C];

// The config keys each rule reads, and the range of every hyperparameter. Values reach the kernels
// as float32, so they are checked after rounding too (a learning rate of 1e39 would be Infinity).
const KEYS = {
  sgd: ["learningRate"],
  sgdMomentum: ["learningRate", "momentum", "velocity"],
  adagrad: ["learningRate", "epsilon", "cache"],
  rmsprop: ["learningRate", "decayRate", "epsilon", "cache"],
  adam: ["learningRate", "beta1", "beta2", "epsilon", "m", "v", "t"],
} as const;
const UNIT: NumberRange = { min: 0, max: 1, maxExclusive: true, float32: true };
const RANGES: Record<string, NumberRange> = {
  learningRate: { min: 0, float32: true },
  momentum: UNIT,
  decayRate: UNIT,
  beta1: UNIT,
  beta2: UNIT,
  epsilon: { min: 0, minExclusive: true, float32: true },
};
const STATE = ["velocity", "cache", "m", "v"];

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
    else if (STATE.includes(key)) checkTensor(fn, `${name}.${key}`, value);
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
  checkSameDtype(fn, [["w", w], ["dw", dw]]);
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
    checkSameDtype(fn, [["w", w], [`config.${key}`, t]]);
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
  adagrad: 1e-2,
  rmsprop: 1e-2,
  adam: 1e-3,
};
const DEFAULTS: Record<string, number> = { momentum: 0.9, decayRate: 0.99, beta1: 0.9, beta2: 0.999 };
const EPSILON_DEFAULTS: Record<UpdateRuleName, number> = { sgd: 0, sgdMomentum: 0, adagrad: 1e-5, rmsprop: 1e-8, adam: 1e-8 };

/**
 * A rule's update with no checks: fills in missing hyperparameters with their defaults, creates
 * missing state tensors as zeros, and runs the fused kernel on w in place. For callers that
 * checked w, dw and config once (the Solver: checkOptimConfig and checkOptimState at
 * construction); everyone else calls the checked rules below.
 */
export type UpdateCore = (w: Tensor, dw: Tensor, config: OptimConfig) => void;

function defaults(rule: UpdateRuleName, c: Record<string, unknown>): void {
  c.learningRate ??= DEFAULT_LEARNING_RATES[rule];
  for (const key of KEYS[rule]) {
    if (key in DEFAULTS) c[key] ??= DEFAULTS[key];
    else if (key === "epsilon") c[key] ??= EPSILON_DEFAULTS[rule];
  }
}

/**
 * State tensors that are missing are created as zeros of w's shape, kept out of any tidy, and
 * stored in config only once all exist (out of memory midway leaves config as it was).
 */
function stateCore(c: Record<string, unknown>, keys: readonly string[], w: Tensor): Tensor[] {
  if (keys.every((key) => c[key] !== undefined)) return keys.map((key) => c[key] as Tensor);
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
export const updateCores: Readonly<Record<UpdateRuleName, UpdateCore>> = {
  sgd(w: Tensor, dw: Tensor, config: OptimConfig): void {
    const c = config as Record<string, number>;
    defaults("sgd", c);
    sgdUpdate(w.ptr, dw.ptr, w.size, c.learningRate, w.dtype);
  },
  sgdMomentum(w: Tensor, dw: Tensor, config: OptimConfig): void {
    const c = config as Record<string, unknown> & Record<"learningRate" | "momentum", number>;
    defaults("sgdMomentum", c);
    const [v] = stateCore(c, ["velocity"], w);
    sgdMomentumUpdate(w.ptr, dw.ptr, v.ptr, w.size, c.learningRate, c.momentum, w.dtype);
  },
  adagrad(w: Tensor, dw: Tensor, config: OptimConfig): void {
    const c = config as Record<string, unknown> & Record<"learningRate" | "epsilon", number>;
    defaults("adagrad", c);
    const [cache] = stateCore(c, ["cache"], w);
    adagradUpdate(w.ptr, dw.ptr, cache.ptr, w.size, c.learningRate, c.epsilon, w.dtype);
  },
  rmsprop(w: Tensor, dw: Tensor, config: OptimConfig): void {
    const c = config as Record<string, unknown> & Record<"learningRate" | "decayRate" | "epsilon", number>;
    defaults("rmsprop", c);
    const [cache] = stateCore(c, ["cache"], w);
    rmspropUpdate(w.ptr, dw.ptr, cache.ptr, w.size, c.learningRate, c.decayRate, c.epsilon, w.dtype);
  },
  adam(w: Tensor, dw: Tensor, config: OptimConfig): void {
    const c = config as Record<string, unknown> & Record<"learningRate" | "beta1" | "beta2" | "epsilon" | "t", number>;
    defaults("adam", c);
    c.t ??= 0;
    const [m, v] = stateCore(c, ["m", "v"], w);
    c.t += 1;
    adamUpdate(w.ptr, dw.ptr, m.ptr, v.ptr, w.size, c.learningRate, c.beta1, c.beta2, c.epsilon, c.t, w.dtype);
  },
};

/**
 * Checks the state tensors a config holds against the w (and dw) they will update: w's shape,
 * distinct from w, dw and each other. What the checked rules do on every call, for callers of
 * updateCores to do once.
 */
export function checkOptimState(fn: string, name: string, config: OptimConfig, w: Tensor, dw: Tensor): void {
  const c = config as Record<string, unknown>;
  const seen = [w.storage, dw.storage];
  for (const key of STATE) {
    if (c[key] === undefined) continue;
    const t = checkTensor(fn, `${name}.${key}`, c[key]);
    checkShape(fn, `${name}.${key}`, t, w.shape, "the shape of the parameters it updates");
    checkSameDtype(fn, [["w", w], [`${name}.${key}`, t]]);
    if (seen.includes(t.storage)) {
      throw new TypeError(`${fn}: ${name}.${key} must be its own tensor, not a parameter, a gradient or another state tensor (or a view of one)`);
    }
    seen.push(t.storage);
  }
}

/** Vanilla SGD: w -= learningRate * dw. Default learningRate 1e-2. */
export function sgd(w: Tensor, dw: Tensor, config?: SgdConfig): [Tensor, SgdConfig] {
  const fn = "sgd";
  const c = begin(fn, fn, w, dw, config) as Record<string, unknown>;
  sgdUpdate(w.ptr, dw.ptr, w.size, hyper(fn, c, "learningRate", 1e-2), w.dtype);
  return [w, c];
}

/** SGD with momentum: v = momentum*v - learningRate*dw; w += v. Defaults 1e-2, 0.9, v = 0. */
export function sgdMomentum(w: Tensor, dw: Tensor, config?: SgdMomentumConfig): [Tensor, SgdMomentumConfig] {
  const fn = "sgdMomentum";
  const c = begin(fn, fn, w, dw, config) as Record<string, unknown>;
  const rate = hyper(fn, c, "learningRate", 1e-2);
  const mu = hyper(fn, c, "momentum", 0.9);
  const [v] = states(fn, c, ["velocity"], w, dw);
  sgdMomentumUpdate(w.ptr, dw.ptr, v.ptr, w.size, rate, mu, w.dtype);
  return [w, c];
}

/** AdaGrad: cache += dw²; w -= learningRate*dw/(sqrt(cache)+epsilon). Defaults 1e-2, 1e-5 (the notes' value). */
export function adagrad(w: Tensor, dw: Tensor, config?: AdagradConfig): [Tensor, AdagradConfig] {
  const fn = "adagrad";
  const c = begin(fn, fn, w, dw, config) as Record<string, unknown>;
  const rate = hyper(fn, c, "learningRate", 1e-2);
  const eps = hyper(fn, c, "epsilon", 1e-5);
  const [cache] = states(fn, c, ["cache"], w, dw);
  adagradUpdate(w.ptr, dw.ptr, cache.ptr, w.size, rate, eps, w.dtype);
  return [w, c];
}

/** RMSProp: cache = d*cache + (1-d)*dw²; w -= learningRate*dw/(sqrt(cache)+epsilon). Defaults 1e-2, 0.99, 1e-8. */
export function rmsprop(w: Tensor, dw: Tensor, config?: RmspropConfig): [Tensor, RmspropConfig] {
  const fn = "rmsprop";
  const c = begin(fn, fn, w, dw, config) as Record<string, unknown>;
  const rate = hyper(fn, c, "learningRate", 1e-2);
  const decay = hyper(fn, c, "decayRate", 0.99);
  const eps = hyper(fn, c, "epsilon", 1e-8);
  const [cache] = states(fn, c, ["cache"], w, dw);
  rmspropUpdate(w.ptr, dw.ptr, cache.ptr, w.size, rate, decay, eps, w.dtype);
  return [w, c];
}

/**
 * Adam with bias correction: t += 1 first; m, v moving averages of dw and dw²;
 * w -= learningRate * m̂ / (sqrt(v̂) + epsilon). Defaults 1e-3, 0.9, 0.999, 1e-8, t = 0.
 */
export function adam(w: Tensor, dw: Tensor, config?: AdamConfig): [Tensor, AdamConfig] {
  const fn = "adam";
  const c = begin(fn, fn, w, dw, config) as Record<string, unknown> & { t?: number };
  const rate = hyper(fn, c, "learningRate", 1e-3);
  const b1 = hyper(fn, c, "beta1", 0.9);
  const b2 = hyper(fn, c, "beta2", 0.999);
  const eps = hyper(fn, c, "epsilon", 1e-8);
  c.t ??= 0;
  const [m, v] = states(fn, c, ["m", "v"], w, dw);
  c.t += 1;
  adamUpdate(w.ptr, dw.ptr, m.ptr, v.ptr, w.size, rate, b1, b2, eps, c.t, w.dtype);
  return [w, c];
}

/** The built-in rules by the names the Solver and CLI accept. */
export const updateRules = { sgd, sgdMomentum, adagrad, rmsprop, adam } as const;
export type UpdateRuleName = keyof typeof updateRules;

/** Frees the state tensors a config holds (velocity, cache, m, v). */
export function disposeOptimState(config: object): void {
  for (const value of Object.values(config)) {
    if (value !== null && typeof value === "object" && "dispose" in value && typeof value.dispose === "function") value.dispose();
  }
}
