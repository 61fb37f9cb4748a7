// A model composed of modules (tl.sequential([...])), run in order: the last module gives class
// scores (N, numClasses), trained with the softmax cross-entropy like the built-in models. It
// keeps the TrainableModel contract (params, loss(X), loss(X, y), predict), so the Solver,
// checkpoints and the gradient checks take it as they take FullyConnectedNet.
//
// Parameters are named as PyTorch's state_dict names the same nn.Sequential ("0.weight",
// "1.running_mean", "3.body.0.weight") and laid out in that order in one flat region (the update
// rules run over it in one kernel call; getParameters() copies it).
import { checkDtype, type DType } from "../core/dtype.js";
import { fillNormal } from "../layers/init.js";
import {
  backwardChain,
  checkModules,
  forwardChain,
  markChain,
  Module,
  planChain,
  type ModuleSpec,
  type Pass,
  type Plan,
  type PlannedTensor,
} from "../nn/module.js";
import { moduleFromSpec } from "../nn/registry.js";
import { deriveSeed, drawSubSeed } from "../core/random.js";
import { realKernels, requireDtype } from "../core/runtime.js";
import { checkLabelSmoothing, softmaxLossKernel, targetsToWasm, type Targets } from "../layers/targets.js";
import { checkTensor, fillTensor, keep, sizeOf, type Tensor, zeros } from "../core/tensor.js";
import { checkEnum, checkNumber, checkOptions, checkSeed, describe, listString, shapeString } from "../core/validate.js";
import { WorkspaceModel } from "./model.js";
import { regularize, type Regularization } from "./regularization.js";
import { formatSummary } from "./summary.js";

/** Options of tl.sequential(modules, options) (inputShape is required). */
export interface SequentialOptions {
  /** The shape of one input without the batch dimension: [C, H, W] for images, [D] for vectors. */
  inputShape: number[];
  /** Seeds the initial parameters and the dropout masks. Default: drawn from the global stream. */
  seed?: number;
  /** Parameters, gradients and inputs in "float32" (default) or "float64" (after init({ float64: true })). */
  dtype?: DType;
  /** The course's weight penalty added to the loss: reg · Σ W² (or Σ |W| for "l1") over weights of rank >= 2. Default 0. */
  reg?: number;
  /** "l2" (default): reg·Σ W²; "l1": reg·Σ |W|. */
  regularization?: Regularization;
  /** Label smoothing eps of the training loss (softmaxLoss's labelSmoothing), in [0, 1]. Default 0. */
  labelSmoothing?: number;
  /**
   * Other names for parameters and buffers, from their state_dict names ("0.weight") to the names
   * the model uses everywhere (params, gradients, freeze, getParameters order stays the same,
   * checkpoints): importOnnx keys them by the ONNX initializer names this way. Each new name is
   * a non-empty string used once. Default: the state_dict names.
   */
  names?: Record<string, string>;
  /** Lines summary() prints under the table (importOnnx says what it dropped or fused). Default none. */
  notes?: string[];
}

/** What checkpoints store to rebuild the model: the options and the modules as data. */
export interface SequentialConfig {
  /** One input's shape without the batch dimension ([C, H, W] or [D]). */
  inputShape: number[];
  /** The seed the parameters and dropout stream came from. */
  seed: number;
  /** "float32" or "float64": the model's parameters and inputs. */
  dtype: DType;
  /** Weight-penalty strength (0: none). */
  reg: number;
  /** "l2" or "l1": the penalty reg applies to. */
  regularization: Regularization;
  /** Label smoothing eps of the training loss, in [0, 1]. */
  labelSmoothing: number;
  /** The top-level modules as data (type and constructor args, containers with their children). */
  modules: ModuleSpec[];
  /** Present when some parameters or buffers are renamed: state_dict name -> model name. */
  names?: Record<string, string>;
  /** Present when the model carries notes for summary(). */
  notes?: string[];
}

/** One entry of a Sequential's state: a parameter, a buffer, or batch norm's batch counter. */
export interface StateEntry {
  /** The name the model uses (params, buffers, checkpoints): the state_dict name unless renamed. */
  name: string;
  /** PyTorch's state_dict name of the same nn.Sequential ("4.body.1.running_mean"). */
  stateDictName: string;
  /** "parameter" (trained), "buffer" (running statistics) or "counter" (num_batches_tracked, in state_dicts only). */
  kind: "parameter" | "buffer" | "counter";
  /** The tensor's full shape (a counter's is [], a scalar). */
  shape: readonly number[];
  /** The values (a view owned by the model); null for a counter (PyTorch's num_batches_tracked, not kept here). */
  tensor: Tensor | null;
  /** The module that owns it, and its local name there ("weight", "running_var"). */
  module: Module;
  /** The local name in that module ("weight", "bias", "running_mean", "num_batches_tracked"). */
  local: string;
}

// numClasses is derived from the modules; a config that states it (checkpoints do) must agree.
const KNOWN = ["inputShape", "seed", "dtype", "reg", "regularization", "labelSmoothing", "modules", "numClasses", "names", "notes"];

/**
 * A model composed of tl.nn modules run in order (PyTorch's nn.Sequential); the last module gives
 * the class scores (N, numClasses), trained with softmax cross-entropy. Parameters are named as
 * PyTorch's state_dict ("0.weight", "3.body.0.weight"). Make one with tl.sequential(modules,
 * options); a module whose input shape does not fit is a RangeError naming it.
 */
export class Sequential extends WorkspaceModel {
  /** The normalized options and modules as data (what checkpoints store), with the derived class count. */
  readonly config: SequentialConfig & {
    /** Number of classes: the last module's output size. */
    numClasses: number;
  };
  /** The top-level modules, in order. */
  readonly modules: readonly Module[];
  /** Every parameter's name, in state_dict order (getParameters()'s order). */
  readonly parameterNames: readonly string[];
  /** Position in the dropout mask stream (saved by checkpoints for an exact resume). */
  rngState = 0;
  readonly #plan: Plan;
  #owner: object = {};
  readonly #frozen = new Set<string>();
  #grads: Record<string, Tensor> = {};
  #weights: string[] = [];
  /** A planned parameter's or buffer's model name (its state_dict name unless renamed). */
  readonly #nameOf: (p: PlannedTensor) => string;

  /** new Sequential({ modules, inputShape, ... }); tl.sequential(modules, options) is the same. */
  constructor(config: SequentialOptions & { modules: (Module | ModuleSpec)[]; numClasses?: number }) {
    const fn = "Sequential";
    const o = checkOptions(fn, "options", config, KNOWN);
    const inputShape = checkShapeOption(fn, o.inputShape);
    if (!Array.isArray(o.modules) || o.modules.length === 0)
      throw new TypeError(`${fn}: modules must be a non-empty array of modules (got ${describe(o.modules)})`);
    const modules = checkModules(
      fn,
      "modules",
      (o.modules as unknown[]).map((m, i) => (m instanceof Module ? m : moduleFromSpec(`${fn}: modules[${i}]`, m))),
    );
    const seed = o.seed === undefined ? drawSubSeed() : checkSeed(fn, "options.seed", o.seed);
    const dtype = checkDtype(fn, "options.dtype", o.dtype);
    const reg = o.reg === undefined ? 0 : checkNumber(fn, "options.reg", o.reg, { min: 0 });
    const regularization = o.regularization === undefined ? "l2" : checkEnum(fn, "options.regularization", o.regularization, ["l2", "l1"] as const);
    const labelSmoothing = checkLabelSmoothing(fn, "options.labelSmoothing", o.labelSmoothing);
    const notes = checkNotes(fn, o.notes);
    // The modules are claimed under this token (a module belongs to one model); a construction
    // that fails gives them back, so the caller can fix the list and try again with them.
    const owner = {};
    const plan: Plan = { params: [], buffers: [], modules: [] };
    let output: number[];
    let renames: Record<string, string>;
    try {
      output = planChain(fn, owner, modules, inputShape, "", plan, 0);
      if (output.length !== 1) {
        throw new RangeError(
          `${fn}: the last module must give class scores (N, numClasses) but gives (N, ${output.join(", ")}): end with tl.nn.flatten() and a tl.nn.linear(...)`,
        );
      }
      if (o.numClasses !== undefined && o.numClasses !== output[0]) {
        throw new RangeError(`${fn}: numClasses ${describe(o.numClasses)} disagrees with the modules, whose last one gives ${output[0]} scores`);
      }
      requireDtype(fn, dtype);
      renames = checkNames(fn, o.names, plan);
    } catch (error) {
      for (const m of modules) m.release(owner);
      throw error;
    }
    const nameOf = (p: PlannedTensor) => (Object.hasOwn(renames, p.fullName) ? renames[p.fullName] : p.fullName);
    super(
      fn,
      plan.params.map((p) => [nameOf(p), p.shape] as const),
      [],
      dtype,
    );
    this.#owner = owner;
    this.#plan = plan;
    this.#nameOf = nameOf;
    this.modules = Object.freeze([...modules]);
    this.parameterNames = Object.freeze(plan.params.map(nameOf));
    this.config = { inputShape, seed, dtype, reg, regularization, labelSmoothing, modules: modules.map((m) => m.spec()), numClasses: output[0] };
    if (Object.keys(renames).length > 0) this.config.names = { ...renames };
    if (notes.length > 0) this.config.notes = notes;
    try {
      this.#bind(plan, seed);
    } catch (error) {
      this.dispose(); // out of memory for the buffers: give back what was made (modules included)
      throw error;
    }
    this.#markTrainable();
  }

  /** Views of the flat regions for every module, buffers made, initial values drawn. */
  #bind(plan: Plan, seed: number): void {
    plan.params.forEach((p, i) => {
      const name = this.#nameOf(p);
      p.module.params[p.name] = this.paramStore.params[name];
      p.module.grads[p.name] = this.paramStore.grads[name];
      initialize(this.paramStore.params[name], p, deriveSeed(seed, i + 1));
    });
    for (const b of plan.buffers) {
      const t = (this.buffers[this.#nameOf(b)] = keep(zeros(b.shape, { dtype: this.dtype })));
      b.module.buffers[b.name] = t;
      initialize(t, b, 0);
    }
  }

  /** Class scores (N, numClasses) in test mode; with labels, [loss, gradients of the trainable parameters]. */
  protected compute(X: Tensor, y?: Targets, reuseScores = false): Tensor | [number, Record<string, Tensor>] {
    const fn = "Sequential.loss";
    const N = this.checkInput(fn, X);
    const train = y !== undefined;
    const C = this.config.numClasses;
    const targets = train ? targetsToWasm(fn, y, N, C, this.dtype) : null;
    const pass: Pass = { train, dtype: this.dtype, n: N, ws: this.ws, draw: (count) => this.#draw(count), infer: !train };
    const scores = forwardChain(this.modules, X, pass);
    if (!train) return reuseScores ? scores : scores.clone();
    const dscores = this.ws.get("dscores", [N, C]);
    let loss = softmaxLossKernel(targets!, dscores.ptr, scores.ptr, N, C, this.dtype, this.config.labelSmoothing);
    backwardChain(this.modules, dscores, pass);
    loss += regularize(this.paramStore, this.#weights, this.config.reg, this.config.regularization);
    return [loss, this.#grads];
  }

  #draw(count: number): [number, number] {
    const offset = this.rngState;
    this.rngState += count;
    return [deriveSeed(this.config.seed, 0x0d0), offset];
  }

  protected checkInput(fn: string, X: unknown): number {
    const x = checkTensor(fn, "X", X);
    const want = this.config.inputShape;
    if (x.shape.length !== want.length + 1 || want.some((d, i) => x.shape[i + 1] !== d)) {
      throw new RangeError(`${fn}: X must have shape (N, ${want.join(", ")}) to match inputShape (got ${shapeString(x.shape)})`);
    }
    if (x.shape[0] === 0) throw new RangeError(`${fn}: X must have at least one row`);
    this.checkInputDtype(fn, x);
    return x.shape[0];
  }

  // ---------------------------------------------------------------------------------------------
  // Frozen parameters: no gradient, no update.

  /**
   * Freezes the parameters that `match` selects (names, a RegExp tested against each name, or a
   * predicate): loss(X, y) gives them no gradient, so the Solver leaves them exactly as they are,
   * and backward stops at the earliest module that still needs a gradient. A batch-norm module
   * whose parameters are all frozen also stops updating its running statistics (it normalizes
   * with them, as in test mode). Returns the model.
   */
  freeze(match: string | readonly string[] | RegExp | ((name: string) => boolean)): this {
    for (const name of this.#select("freeze", match)) this.#frozen.add(name);
    this.#markTrainable();
    return this;
  }

  /** Makes trainable again the parameters `match` selects (as freeze). Returns the model. */
  unfreeze(match: string | readonly string[] | RegExp | ((name: string) => boolean)): this {
    for (const name of this.#select("unfreeze", match)) this.#frozen.delete(name);
    this.#markTrainable();
    return this;
  }

  /** The names of the frozen parameters, in state_dict order. */
  get frozen(): string[] {
    return this.parameterNames.filter((n) => this.#frozen.has(n));
  }

  #select(fn: string, match: unknown): string[] {
    const names = this.parameterNames;
    if (typeof match === "string" || Array.isArray(match)) {
      const wanted = typeof match === "string" ? [match] : (match as unknown[]);
      for (const w of wanted) {
        if (typeof w !== "string" || !names.includes(w)) {
          throw new RangeError(
            `Sequential.${fn}: ${describe(w)} is not a parameter of this model (parameters: ${listString(names.slice(0, 12))}${names.length > 12 ? ", ..." : ""})`,
          );
        }
      }
      return wanted as string[];
    }
    if (match instanceof RegExp) return names.filter((n) => new RegExp(match.source, match.flags.replace("g", "")).test(n));
    if (typeof match === "function") return names.filter((n) => (match as (name: string) => boolean)(n) === true);
    throw new TypeError(`Sequential.${fn}: match must be a parameter name, an array of names, a RegExp or a function (got ${describe(match)})`);
  }

  #markTrainable(): void {
    const trains = (m: Module): boolean => this.#plan.params.some((p) => p.module === m && !this.#frozen.has(this.#nameOf(p)));
    markChain(this.modules, false, trains);
    const grads = this.paramStore.grads;
    this.#grads = Object.freeze(Object.fromEntries(this.parameterNames.filter((n) => !this.#frozen.has(n)).map((n) => [n, grads[n]]))) as Record<
      string,
      Tensor
    >;
    this.#weights = this.#plan.params
      .map((p) => [p, this.#nameOf(p)] as const)
      .filter(([p, n]) => p.shape.length >= 2 && !this.#frozen.has(n))
      .map(([, n]) => n);
  }

  // ---------------------------------------------------------------------------------------------
  // The parameters as one vector (federated averaging, weight transfer).

  /** A copy of every parameter in one flat array, in state_dict order (parameterNames): Float32Array, or Float64Array for float64. */
  getParameters(): Float32Array | Float64Array {
    return this.paramStore.flat.toArray();
  }

  /** Loads every parameter from one flat array in state_dict order (as getParameters() gives it). */
  setParameters(values: ArrayLike<number>): void {
    const n = this.paramStore.flat.size;
    if (values === null || typeof values !== "object" || typeof (values as ArrayLike<number>).length !== "number") {
      throw new TypeError(`Sequential.setParameters: values must be a Float32Array, Float64Array or number[] of ${n} values (got ${describe(values)})`);
    }
    if (values.length !== n) throw new RangeError(`Sequential.setParameters: values must hold ${n} numbers, one per parameter element (got ${values.length})`);
    this.paramStore.flat.set(values);
  }

  /** A Keras-style table of the modules, their output shapes and parameter counts. */
  summary(): string {
    return formatSummary(this, this.#plan, new Set(this.#plan.params.filter((p) => this.#frozen.has(this.#nameOf(p))).map((p) => p.fullName)));
  }

  /**
   * Every parameter and buffer in PyTorch's state_dict order (module by module: its parameters,
   * then its buffers; a batch norm's num_batches_tracked after its running statistics, as a
   * "counter" entry with no tensor), with the model's name and the state_dict name of each.
   */
  stateEntries(): StateEntry[] {
    const out: StateEntry[] = [];
    for (const { module } of this.#plan.modules) {
      for (const p of this.#plan.params) {
        if (p.module === module)
          out.push({
            name: this.#nameOf(p),
            stateDictName: p.fullName,
            kind: "parameter",
            shape: p.shape,
            tensor: this.paramStore.params[this.#nameOf(p)],
            module,
            local: p.name,
          });
      }
      for (const b of this.#plan.buffers) {
        if (b.module === module)
          out.push({
            name: this.#nameOf(b),
            stateDictName: b.fullName,
            kind: "buffer",
            shape: b.shape,
            tensor: this.buffers[this.#nameOf(b)],
            module,
            local: b.name,
          });
      }
      if (module.type === "BatchNorm1d" || module.type === "BatchNorm2d") {
        const mean = out.find((e) => e.module === module && e.local === "running_mean");
        const stateDictName = `${module.path}.num_batches_tracked`;
        const name = mean?.name.endsWith(".running_mean") ? `${mean.name.slice(0, -".running_mean".length)}.num_batches_tracked` : stateDictName;
        out.push({ name, stateDictName, kind: "counter", shape: [], tensor: null, module, local: "num_batches_tracked" });
      }
    }
    return out;
  }

  /** Frees parameters, gradients, buffers and workspace; the modules become free for another model. */
  override dispose(): void {
    for (const m of this.#plan?.modules ?? []) m.module.dispose();
    for (const m of this.modules ?? []) m.release(this.#owner);
    super.dispose();
  }
}

/** tl.sequential(modules, options): a model of modules run in order (see Sequential). */
export function sequential(modules: Module[], options: SequentialOptions): Sequential {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`sequential: options must be an object with at least inputShape, e.g. { inputShape: [1, 28, 28] } (got ${describe(options)})`);
  }
  return new Sequential({ ...options, modules });
}

function checkShapeOption(fn: string, value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new TypeError(
      `${fn}: options.inputShape must be the shape of one input without the batch dimension, e.g. [1, 28, 28] or [784] (got ${describe(value)})`,
    );
  }
  if (sizeOf(value) > 2 ** 31) throw new RangeError(`${fn}: options.inputShape ${listString(value)} is too large`);
  return [...value];
}

/** options.names: state_dict names of planned parameters or buffers -> new names, every name used once. */
function checkNames(fn: string, value: unknown, plan: Plan): Record<string, string> {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `${fn}: options.names must be an object from state_dict names to new names, e.g. { "0.weight": "conv1.weight" } (got ${describe(value)})`,
    );
  }
  const planned = [...plan.params, ...plan.buffers].map((p) => p.fullName);
  const out: Record<string, string> = {};
  for (const [from, to] of Object.entries(value)) {
    if (!planned.includes(from)) {
      throw new RangeError(
        `${fn}: options.names renames ${describe(from)}, which is not a parameter or buffer of the modules (they are: ${planned.slice(0, 12).join(", ")}${planned.length > 12 ? ", ..." : ""})`,
      );
    }
    if (typeof to !== "string" || to.length === 0 || to.length > 1024 || to === "__proto__") {
      throw new TypeError(
        `${fn}: options.names[${describe(from)}] must be a non-empty string of at most 1024 characters other than "__proto__" (got ${describe(to)})`,
      );
    }
    if (to !== from) Object.defineProperty(out, from, { value: to, enumerable: true, configurable: true, writable: true });
  }
  const seen = new Map<string, string>();
  for (const name of planned) {
    const final = Object.hasOwn(out, name) ? out[name] : name;
    const other = seen.get(final);
    if (other !== undefined)
      throw new RangeError(
        `${fn}: options.names gives ${describe(name)} the name ${describe(final)}, which ${describe(other)} already has: every parameter and buffer needs its own name`,
      );
    seen.set(final, name);
  }
  return out;
}

/** options.notes: an array of strings (at most 64, each at most 1000 characters). */
function checkNotes(fn: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 64 || value.some((v) => typeof v !== "string" || v.length > 1000)) {
    throw new TypeError(`${fn}: options.notes must be an array of at most 64 strings (got ${describe(value)})`);
  }
  return [...value];
}

/** Fills t as its spec says, from stream `seed`. */
function initialize(t: Tensor, p: PlannedTensor | { init: PlannedTensor["init"] }, seed: number): void {
  const init = p.init;
  t.markWritten();
  if (init.kind === "constant") fillTensor(t, init.value);
  else if (init.kind === "normal") fillNormal(t, init.std, seed);
  else realKernels(t.dtype).rand_uniform(t.ptr, t.size, seed, 0, -init.bound, init.bound);
}
