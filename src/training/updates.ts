// The update step and the optimizer state it carries between steps: one config per parameter, or
// one ("all") for the flat region when a built-in rule runs over a model's paramStore (one kernel
// call for every parameter). The Solver owns every state tensor here (copies of any it was given).
import type { TrainableModel } from "../models/contract.js";
import {
  checkOptimState,
  disposeOptimState,
  OPTIM_STATE_KEYS,
  updateCores,
  type OptimConfig,
  type Segments,
  type UpdateRule,
  type UpdateRuleName,
} from "./optim.js";
import { checkShape, checkTensor, keep, tensor, Tensor } from "../core/tensor.js";
import { describe } from "../core/validate.js";
import { optimStateMismatch, updateTargets, type SolverState } from "./run-state.js";

export class Updates {
  readonly #model: TrainableModel;
  readonly #rule: UpdateRule;
  /** The built-in rule's name (its unchecked core runs), or null for a custom rule function. */
  readonly #ruleName: UpdateRuleName | null;
  /** Whether optimConfig.weightDecay spares parameters of rank < 2 (biases, norms). */
  readonly #decayWeightsOnly: boolean;
  #configs: Record<string, OptimConfig> = {};

  /**
   * Checks the optimizer state given in `optimConfig` against what it will update (so steps need
   * not) and gives each config key its own copy.
   */
  constructor(
    fn: string,
    model: TrainableModel,
    rule: UpdateRule,
    ruleName: UpdateRuleName | null,
    optimConfig: OptimConfig,
    weightDecayParams: "all" | "weights",
  ) {
    this.#model = model;
    this.#rule = rule;
    this.#ruleName = ruleName;
    this.#decayWeightsOnly = weightDecayParams === "weights";
    const targets = updateTargets(model, ruleName !== null);
    const given = OPTIM_STATE_KEYS.filter((key) => (optimConfig as Record<string, unknown>)[key] !== undefined);
    if (given.length > 0 && targets.length > 1) {
      throw new TypeError(
        `${fn}: options.optimConfig.${given[0]} is one tensor, but this model's parameters are updated as ${targets.length} separate tensors: ` +
          `leave the state out (it starts at zeros) or give a model with a paramStore`,
      );
    }
    for (const [name, w] of targets) {
      if (ruleName !== null) checkOptimState(fn, "options.optimConfig", optimConfig, w, w);
      const config: Record<string, unknown> = { ...optimConfig };
      for (const key of given) config[key] = keep((config[key] as Tensor).clone());
      this.#configs[name] = config as OptimConfig;
    }
  }

  /** The configs by key (a frozen copy of the record; the configs themselves are live). */
  get configs(): Readonly<Record<string, Readonly<OptimConfig>>> {
    return Object.freeze({ ...this.#configs });
  }

  /** The learning rate the configs hold now (the first config's). */
  get learningRate(): number | undefined {
    return Object.values(this.#configs)[0]?.learningRate;
  }

  setLearningRate(rate: number): void {
    for (const config of Object.values(this.#configs)) config.learningRate = rate;
  }

  /** Multiplies every learning rate set by `factor` (per-epoch lrDecay). */
  decayLearningRate(factor: number): void {
    for (const config of Object.values(this.#configs)) if (config.learningRate !== undefined) config.learningRate *= factor;
  }

  /** Updates every trainable parameter from its gradient. */
  apply(grads: Record<string, Tensor>): void {
    const frozen = new Set(this.#model.frozen ?? []);
    const rule = this.#ruleName;
    const store = this.#model.paramStore;
    if (rule !== null && store) {
      updateCores[rule](store.flat, store.gradFlat, this.#configs.all, this.#segments(frozen));
      return;
    }
    for (const [name, w] of Object.entries(this.#model.params)) {
      if (frozen.has(name)) continue;
      if (rule !== null) {
        // The model's gradients come fresh from each call: O(1) checks, then the unchecked core.
        const dw = checkTensor("Solver.step", `the gradient of "${name}"`, grads?.[name]);
        checkShape("Solver.step", `the gradient of "${name}"`, dw, w.shape, "the parameter's shape");
        updateCores[rule](w, dw, this.#configs[name], [[0, w.size, this.#decays(w)]]);
        continue;
      }
      const [nextW, config] = checkRuleResult(this.#rule(w, grads[name], this.#configs[name]), name, w);
      if (nextW !== w) {
        w.set(nextW);
        nextW.dispose();
      }
      this.#configs[name] = config;
    }
  }

  /** The state as plain data: numbers, and copies of the state tensors. */
  state(): SolverState["optimConfigs"] {
    const out: SolverState["optimConfigs"] = {};
    for (const [key, config] of Object.entries(this.#configs)) {
      const numbers: Record<string, number> = {};
      const tensors: SolverState["optimConfigs"][string]["tensors"] = {};
      for (const [field, value] of Object.entries(config as Record<string, unknown>)) {
        if (value instanceof Tensor) tensors[field] = { shape: [...value.shape], data: value.toArray() };
        else if (typeof value === "number") numbers[field] = value;
      }
      out[key] = { numbers, tensors };
    }
    return out;
  }

  /** Throws a RangeError unless `configs` fits this model: the same keys, tensors of the right size and dtype. */
  checkFit(fn: string, configs: SolverState["optimConfigs"]): void {
    const problem = optimStateMismatch(configs, updateTargets(this.#model, this.#ruleName !== null), "state.optimConfigs");
    if (problem !== null) throw new RangeError(`${fn}: ${problem}`);
  }

  /**
   * Replaces the state with `configs` (checked by checkFit), together with `alongside`: if
   * making the tensors or `alongside` fails (out of memory), the state stays as it was.
   */
  restore(configs: SolverState["optimConfigs"], alongside: () => void): void {
    const targets = new Map(updateTargets(this.#model, this.#ruleName !== null));
    const made: [string, OptimConfig][] = [];
    try {
      for (const [key, { numbers, tensors }] of Object.entries(configs)) {
        const config: Record<string, unknown> = { ...numbers };
        made.push([key, config as OptimConfig]);
        const { shape, dtype } = targets.get(key)!;
        for (const [field, t] of Object.entries(tensors)) config[field] = keep(tensor(t.data, shape, { dtype }));
      }
      alongside();
    } catch (error) {
      for (const [, config] of made) disposeOptimState(config);
      throw error;
    }
    this.dispose();
    this.#configs = Object.fromEntries(made);
  }

  /** Frees the state tensors. */
  dispose(): void {
    for (const config of Object.values(this.#configs)) disposeOptimState(config);
  }

  /** Whether the weight decay applies to parameter w (weightDecayParams). */
  #decays(w: Tensor): boolean {
    return !this.#decayWeightsOnly || w.shape.length >= 2;
  }

  /**
   * The runs of the flat region an update covers: trainable parameters only, each run marked with
   * whether the weight decay applies; undefined when that is all of it (one kernel call).
   */
  #segments(frozen: ReadonlySet<string>): Segments | undefined {
    const store = this.#model.paramStore!;
    if (frozen.size === 0 && !this.#decayWeightsOnly) return undefined;
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
