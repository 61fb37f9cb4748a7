// Update rules with the course's signature: (w, dw, config) -> [nextW, config]. Each is one fused
// wasm pass that updates w IN PLACE (nextW === w). config carries the hyperparameters and the
// state tensors between calls, like the course's dicts: defaults are filled in on first use.
// float64 parameters run the f64 kernels and get float64 state tensors.
import { kernels } from "./runtime.js";
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

/** Vanilla SGD: w -= learningRate * dw. Default learningRate 1e-2. */
export function sgd(w: Tensor, dw: Tensor, config?: SgdConfig): [Tensor, SgdConfig] {
  const fn = "sgd";
  const c = begin(fn, fn, w, dw, config) as Record<string, unknown>;
  const k = kernels();
  (w.dtype === "float64" ? k.f64_sgd : k.f32_sgd)(w.ptr, dw.ptr, w.size, hyper(fn, c, "learningRate", 1e-2));
  return [w, c];
}

/** SGD with momentum: v = momentum*v - learningRate*dw; w += v. Defaults 1e-2, 0.9, v = 0. */
export function sgdMomentum(w: Tensor, dw: Tensor, config?: SgdMomentumConfig): [Tensor, SgdMomentumConfig] {
  const fn = "sgdMomentum";
  const c = begin(fn, fn, w, dw, config) as Record<string, unknown>;
  const rate = hyper(fn, c, "learningRate", 1e-2);
  const mu = hyper(fn, c, "momentum", 0.9);
  const [v] = states(fn, c, ["velocity"], w, dw);
  const k = kernels();
  (w.dtype === "float64" ? k.f64_sgd_momentum : k.f32_sgd_momentum)(w.ptr, dw.ptr, v.ptr, w.size, rate, mu);
  return [w, c];
}

/** AdaGrad: cache += dw²; w -= learningRate*dw/(sqrt(cache)+epsilon). Defaults 1e-2, 1e-5 (the notes' value). */
export function adagrad(w: Tensor, dw: Tensor, config?: AdagradConfig): [Tensor, AdagradConfig] {
  const fn = "adagrad";
  const c = begin(fn, fn, w, dw, config) as Record<string, unknown>;
  const rate = hyper(fn, c, "learningRate", 1e-2);
  const eps = hyper(fn, c, "epsilon", 1e-5);
  const [cache] = states(fn, c, ["cache"], w, dw);
  const k = kernels();
  (w.dtype === "float64" ? k.f64_adagrad : k.f32_adagrad)(w.ptr, dw.ptr, cache.ptr, w.size, rate, eps);
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
  const k = kernels();
  (w.dtype === "float64" ? k.f64_rmsprop : k.f32_rmsprop)(w.ptr, dw.ptr, cache.ptr, w.size, rate, decay, eps);
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
  const k = kernels();
  (w.dtype === "float64" ? k.f64_adam : k.f32_adam)(w.ptr, dw.ptr, m.ptr, v.ptr, w.size, rate, b1, b2, eps, c.t);
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
