// Update rules with the course's signature: (w, dw, config) -> [nextW, config]. Each is one fused
// wasm pass that updates w IN PLACE (nextW === w). config carries the hyperparameters and the
// state tensors between calls, like the course's dicts: defaults are filled in on first use.
import { kernels } from "./runtime.js";
import { checkShape, checkTensor, keep, zeros, type Tensor } from "./tensor.js";
import { checkNumber, checkOptions, describe } from "./validate.js";

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

function begin<C extends object>(fn: string, w: Tensor, dw: Tensor, config: C | undefined, known: readonly string[]): C {
  checkTensor(fn, "w", w);
  checkTensor(fn, "dw", dw);
  checkShape(fn, "dw", dw, w.shape, "w's shape");
  return checkOptions(fn, "config", config ?? {}, known) as C;
}

function lr(fn: string, config: SgdConfig, fallback: number): number {
  config.learningRate ??= fallback;
  return checkNumber(fn, "config.learningRate", config.learningRate, { min: 0 });
}

/** A state tensor of w's shape: created as zeros on first use (kept out of any tidy), else checked. */
function state(fn: string, config: Record<string, unknown>, key: string, w: Tensor): Tensor {
  const have = config[key];
  if (have === undefined) {
    const t = keep(zeros(w.shape));
    config[key] = t;
    return t;
  }
  const t = checkTensor(fn, `config.${key}`, have);
  checkShape(fn, `config.${key}`, t, w.shape, "w's shape");
  return t;
}

/** Vanilla SGD: w -= learningRate * dw. Default learningRate 1e-2. */
export function sgd(w: Tensor, dw: Tensor, config?: SgdConfig): [Tensor, SgdConfig] {
  const c = begin("sgd", w, dw, config, ["learningRate"]);
  kernels().f32_sgd(w.ptr, dw.ptr, w.size, lr("sgd", c, 1e-2));
  return [w, c];
}

/** SGD with momentum: v = momentum*v - learningRate*dw; w += v. Defaults 1e-2, 0.9, v = 0. */
export function sgdMomentum(w: Tensor, dw: Tensor, config?: SgdMomentumConfig): [Tensor, SgdMomentumConfig] {
  const fn = "sgdMomentum";
  const c = begin(fn, w, dw, config, ["learningRate", "momentum", "velocity"]);
  const rate = lr(fn, c, 1e-2);
  c.momentum ??= 0.9;
  const mu = checkNumber(fn, "config.momentum", c.momentum, { min: 0, max: 1, maxExclusive: true });
  const v = state(fn, c as Record<string, unknown>, "velocity", w);
  kernels().f32_sgd_momentum(w.ptr, dw.ptr, v.ptr, w.size, rate, mu);
  return [w, c];
}

/** AdaGrad: cache += dw²; w -= learningRate*dw/(sqrt(cache)+epsilon). Defaults 1e-2, 1e-5 (the notes' value). */
export function adagrad(w: Tensor, dw: Tensor, config?: AdagradConfig): [Tensor, AdagradConfig] {
  const fn = "adagrad";
  const c = begin(fn, w, dw, config, ["learningRate", "epsilon", "cache"]);
  const rate = lr(fn, c, 1e-2);
  c.epsilon ??= 1e-5;
  const eps = checkNumber(fn, "config.epsilon", c.epsilon, { min: 0, minExclusive: true });
  const cache = state(fn, c as Record<string, unknown>, "cache", w);
  kernels().f32_adagrad(w.ptr, dw.ptr, cache.ptr, w.size, rate, eps);
  return [w, c];
}

/** RMSProp: cache = d*cache + (1-d)*dw²; w -= learningRate*dw/(sqrt(cache)+epsilon). Defaults 1e-2, 0.99, 1e-8. */
export function rmsprop(w: Tensor, dw: Tensor, config?: RmspropConfig): [Tensor, RmspropConfig] {
  const fn = "rmsprop";
  const c = begin(fn, w, dw, config, ["learningRate", "decayRate", "epsilon", "cache"]);
  const rate = lr(fn, c, 1e-2);
  c.decayRate ??= 0.99;
  c.epsilon ??= 1e-8;
  const decay = checkNumber(fn, "config.decayRate", c.decayRate, { min: 0, max: 1, maxExclusive: true });
  const eps = checkNumber(fn, "config.epsilon", c.epsilon, { min: 0, minExclusive: true });
  const cache = state(fn, c as Record<string, unknown>, "cache", w);
  kernels().f32_rmsprop(w.ptr, dw.ptr, cache.ptr, w.size, rate, decay, eps);
  return [w, c];
}

/**
 * Adam with bias correction: t += 1 first; m, v moving averages of dw and dw²;
 * w -= learningRate * m̂ / (sqrt(v̂) + epsilon). Defaults 1e-3, 0.9, 0.999, 1e-8, t = 0.
 */
export function adam(w: Tensor, dw: Tensor, config?: AdamConfig): [Tensor, AdamConfig] {
  const fn = "adam";
  const c = begin(fn, w, dw, config, ["learningRate", "beta1", "beta2", "epsilon", "m", "v", "t"]);
  const rate = lr(fn, c, 1e-3);
  c.beta1 ??= 0.9;
  c.beta2 ??= 0.999;
  c.epsilon ??= 1e-8;
  c.t ??= 0;
  const b1 = checkNumber(fn, "config.beta1", c.beta1, { min: 0, max: 1, maxExclusive: true });
  const b2 = checkNumber(fn, "config.beta2", c.beta2, { min: 0, max: 1, maxExclusive: true });
  const eps = checkNumber(fn, "config.epsilon", c.epsilon, { min: 0, minExclusive: true });
  if (typeof c.t !== "number" || !Number.isInteger(c.t) || c.t < 0) {
    throw new TypeError(`${fn}: config.t must be a non-negative integer step count (got ${describe(c.t)})`);
  }
  const m = state(fn, c as Record<string, unknown>, "m", w);
  const v = state(fn, c as Record<string, unknown>, "v", w);
  c.t += 1;
  kernels().f32_adam(w.ptr, dw.ptr, m.ptr, v.ptr, w.size, rate, b1, b2, eps, c.t);
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
