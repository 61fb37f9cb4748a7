// Minibatch training of any model with params and loss(X, y), as in the course's Solver:
// seeded sampling with replacement, any update rule, per-epoch learning-rate decay, loss and
// accuracy history, and the best parameters (by validation accuracy) restored at the end.
import { checkLabels, type Labels } from "./labels.js";
import { checkOptimConfig, disposeOptimState, updateRules, type OptimConfig, type UpdateRule, type UpdateRuleName } from "./optim.js";
import { deriveSeed, drawSubSeed } from "./random.js";
import { allocBytes, freeBytes, i32, kernels } from "./runtime.js";
import { checkShape, checkTensor, keep, sizeOf, type Tensor } from "./tensor.js";
import { checkEnum, checkInteger, checkNumber, checkOptions, checkSeed, describe, shapeString } from "./validate.js";
import { Workspace } from "./workspace.js";
import type { ParamStore } from "./models/param-store.js";

/** What the Solver needs of a model. */
export interface TrainableModel {
  params: Record<string, Tensor>;
  loss(X: Tensor): Tensor;
  loss(X: Tensor, y: Labels): [number, Record<string, Tensor>];
  /** Mirrored flat params/grads: lets a built-in rule update everything in one kernel call. */
  paramStore?: ParamStore;
  /** Non-parameter state that belongs with the parameters (batch-norm running statistics). */
  buffers?: Record<string, Tensor>;
  /** Position of the model's own random stream (dropout), for bit-identical resume. */
  rngState?: number;
  config?: { numClasses?: number };
}

export interface SolverData {
  XTrain: Tensor;
  yTrain: Labels;
  XVal: Tensor;
  yVal: Labels;
}

export interface ProgressEvent {
  epoch: number;
  numEpochs: number;
  iteration: number;
  numIterations: number;
  loss: number;
  /** Set at the first and last iteration and at each epoch end. */
  trainAcc?: number;
  valAcc?: number;
  learningRate?: number;
}

export interface SolverOptions {
  updateRule?: UpdateRuleName | UpdateRule;
  optimConfig?: OptimConfig;
  /** Learning rate multiplier applied after every epoch (default 1). */
  lrDecay?: number;
  batchSize?: number;
  numEpochs?: number;
  /** Training samples used to estimate training accuracy (default 1000; null: all). */
  numTrainSamples?: number | null;
  /** Validation samples used for validation accuracy (default null: all). */
  numValSamples?: number | null;
  seed?: number;
  verbose?: boolean;
  printEvery?: number;
  onProgress?: (event: ProgressEvent) => void;
  /** What to do when the loss stops being finite: stop with an error (default) or keep going. */
  onNonFinite?: "throw" | "continue";
}

const KNOWN = [
  "updateRule", "optimConfig", "lrDecay", "batchSize", "numEpochs", "numTrainSamples", "numValSamples",
  "seed", "verbose", "printEvery", "onProgress", "onNonFinite",
];

export class Solver {
  readonly model: TrainableModel;
  readonly updateRule: UpdateRule;
  readonly lrDecay: number;
  readonly batchSize: number;
  readonly numEpochs: number;
  readonly numTrainSamples: number | null;
  readonly numValSamples: number | null;
  readonly seed: number;
  readonly verbose: boolean;
  readonly printEvery: number;
  onProgress?: (event: ProgressEvent) => void;
  readonly onNonFinite: "throw" | "continue";

  epoch = 0;
  bestValAcc = 0;
  lossHistory: number[] = [];
  trainAccHistory: number[] = [];
  valAccHistory: number[] = [];
  /** Update-rule state: one config per parameter name, or `{ all }` when the rule runs on the flat region. */
  optimConfigs: Record<string, OptimConfig> = {};
  /** Position in the Solver's sampling stream (save/restore it to resume bit-identically). */
  rngState = 0;
  /**
   * True after restoreBest() (train() ends with it) until the next step(): the model then holds
   * the best parameters, not the last ones training would continue from (lastState() has those,
   * and saveCheckpoint uses them).
   */
  holdsBest = false;

  readonly #data: SolverData;
  readonly #flat: boolean;
  readonly #ws = new Workspace("Solver");
  #best: Record<string, Tensor> = {};
  #last: Record<string, Tensor> = {}; // the last state while holdsBest (restoreBest() keeps it)
  #indexPtr = 0;
  #indexCount = 0;

  constructor(model: TrainableModel, data: SolverData, options: SolverOptions = {}) {
    const fn = "Solver";
    if (model === null || typeof model !== "object" || typeof model.loss !== "function" || typeof model.params !== "object") {
      throw new TypeError(`${fn}: model must have params and loss(X, y) (got ${describe(model)})`);
    }
    this.model = model;
    this.#data = checkData(fn, data, model.config?.numClasses);
    const o = checkOptions(fn, "options", options, KNOWN) as SolverOptions;
    const rule = o.updateRule ?? "sgd";
    if (typeof rule === "function") this.updateRule = rule;
    else this.updateRule = updateRules[checkEnum(fn, "options.updateRule", rule, Object.keys(updateRules) as UpdateRuleName[])];
    this.#flat = typeof rule === "string" && model.paramStore !== undefined;
    // A built-in rule's config is checked in full now (keys, ranges), not at the first step.
    const optimConfig = typeof rule === "string"
      ? checkOptimConfig(fn, "options.optimConfig", rule, o.optimConfig)
      : (checkOptions(fn, "options.optimConfig", o.optimConfig ?? {}, [
          "learningRate", "momentum", "velocity", "decayRate", "epsilon", "cache", "beta1", "beta2", "m", "v", "t",
        ]) as OptimConfig);
    if (optimConfig.learningRate !== undefined) checkNumber(fn, "options.optimConfig.learningRate", optimConfig.learningRate, { min: 0 });
    this.lrDecay = o.lrDecay === undefined ? 1 : checkNumber(fn, "options.lrDecay", o.lrDecay, { min: 0 });
    this.batchSize = o.batchSize === undefined ? 100 : checkInteger(fn, "options.batchSize", o.batchSize, 1);
    this.numEpochs = o.numEpochs === undefined ? 10 : checkInteger(fn, "options.numEpochs", o.numEpochs, 0);
    this.numTrainSamples = o.numTrainSamples === undefined ? 1000 : o.numTrainSamples === null ? null : checkInteger(fn, "options.numTrainSamples", o.numTrainSamples, 1);
    this.numValSamples = o.numValSamples == null ? null : checkInteger(fn, "options.numValSamples", o.numValSamples, 1);
    this.seed = o.seed === undefined ? drawSubSeed() : checkSeed(fn, "options.seed", o.seed);
    if (o.verbose !== undefined && typeof o.verbose !== "boolean") throw new TypeError(`${fn}: options.verbose must be a boolean (got ${describe(o.verbose)})`);
    this.verbose = o.verbose ?? true;
    this.printEvery = o.printEvery === undefined ? 10 : checkInteger(fn, "options.printEvery", o.printEvery, 1);
    if (o.onProgress !== undefined && typeof o.onProgress !== "function") {
      throw new TypeError(`${fn}: options.onProgress must be a function (got ${describe(o.onProgress)})`);
    }
    this.onProgress = o.onProgress;
    this.onNonFinite = o.onNonFinite === undefined ? "throw" : checkEnum(fn, "options.onNonFinite", o.onNonFinite, ["throw", "continue"] as const);

    const names = this.#flat ? ["all"] : Object.keys(model.params);
    for (const name of names) this.optimConfigs[name] = { ...optimConfig };
  }

  /** Iterations per epoch: max(floor(numTrain / batchSize), 1). */
  get iterationsPerEpoch(): number {
    return Math.max(Math.floor(this.#data.XTrain.shape[0] / this.batchSize), 1);
  }

  /** One gradient step on a sampled minibatch; returns its loss. */
  step(): number {
    try {
      return this.#step();
    } catch (error) {
      // E.g. out of memory midway: give back the batch and index buffers too (the next step makes them again).
      this.#ws.dispose();
      this.#freeIndexBuffer();
      throw error;
    }
  }

  #step(): number {
    const { XTrain, yTrain } = this.#data;
    const n = Math.min(this.batchSize, XTrain.shape[0]);
    this.holdsBest = false;
    const [Xb, yb] = this.#sample(XTrain, yTrain, n, "batch");
    const [loss, grads] = this.model.loss(Xb, yb);
    this.lossHistory.push(loss);
    if (!Number.isFinite(loss) && this.onNonFinite === "throw") {
      const lr = Object.values(this.optimConfigs)[0]?.learningRate;
      throw new RangeError(
        `Solver: the loss became ${loss} at iteration ${this.lossHistory.length} (epoch ${this.epoch}); ` +
          `the learning rate${lr === undefined ? "" : ` (${lr})`} is probably too large: try a smaller optimConfig.learningRate, ` +
          `or pass onNonFinite: "continue" to keep going. The parameters were not updated by this step.`,
      );
    }
    if (this.#flat) {
      const store = this.model.paramStore!;
      const [, config] = this.updateRule(store.flat, store.gradFlat, this.optimConfigs.all);
      this.optimConfigs.all = config;
    } else {
      for (const [name, w] of Object.entries(this.model.params)) {
        const result: unknown = this.updateRule(w, grads[name], this.optimConfigs[name]);
        const [nextW, config] = checkRuleResult(result, name, w);
        if (nextW !== w) {
          w.set(nextW);
          nextW.dispose();
        }
        this.optimConfigs[name] = config;
      }
    }
    return loss;
  }

  /** Accuracy of the model on (X, y), on a seeded subsample of numSamples rows when given. */
  checkAccuracy(X: Tensor, y: Labels, numSamples: number | null = null, batchSize = 100): number {
    const fn = "Solver.checkAccuracy";
    checkTensor(fn, "X", X);
    checkLabels(fn, y, X.shape[0], Number.MAX_SAFE_INTEGER);
    checkInteger(fn, "batchSize", batchSize, 1);
    if (numSamples !== null) checkInteger(fn, "numSamples", numSamples, 1);
    let data: Tensor = X;
    let labels: Labels = y;
    const N = X.shape[0];
    if (numSamples !== null && N > numSamples) [data, labels] = this.#sample(X, y, numSamples, "accuracy");
    const total = data.shape[0];
    const rowSize = sizeOf(data.shape.slice(1));
    let correct = 0;
    const k = kernels();
    for (let start = 0; start < total; start += batchSize) {
      const count = Math.min(batchSize, total - start);
      const batch = data.sliceView(start * rowSize, [count, ...data.shape.slice(1)]);
      const scores = this.model.loss(batch);
      batch.dispose();
      const predPtr = this.#indexBuffer(count); // labels were already copied out, so reuse is safe
      k.f32_argmax_rows(predPtr, scores.ptr, count, scores.shape[1]);
      scores.dispose();
      const pred = i32();
      for (let i = 0; i < count; i++) if (pred[(predPtr >>> 2) + i] === labels[start + i]) correct++;
    }
    return total === 0 ? 0 : correct / total;
  }

  /** Runs the whole optimization, then restores the best parameters seen (by validation accuracy). */
  train(): this {
    const { XTrain, yTrain, XVal, yVal } = this.#data;
    const perEpoch = this.iterationsPerEpoch;
    const numIterations = this.numEpochs * perEpoch;
    const startIteration = this.lossHistory.length;
    for (let t = startIteration; t < numIterations; t++) {
      const loss = this.step();
      if (this.verbose && t % this.printEvery === 0) console.log(`(Iteration ${t + 1} / ${numIterations}) loss: ${loss.toFixed(6)}`);
      const epochEnd = (t + 1) % perEpoch === 0;
      if (epochEnd) {
        this.epoch++;
        for (const config of Object.values(this.optimConfigs)) {
          if (config.learningRate !== undefined) config.learningRate *= this.lrDecay;
        }
      }
      const event: ProgressEvent = {
        epoch: this.epoch, numEpochs: this.numEpochs, iteration: t + 1, numIterations, loss,
        learningRate: Object.values(this.optimConfigs)[0]?.learningRate,
      };
      if (t === 0 || t === numIterations - 1 || epochEnd) {
        const trainAcc = this.checkAccuracy(XTrain, yTrain, this.numTrainSamples);
        const valAcc = this.checkAccuracy(XVal, yVal, this.numValSamples);
        this.trainAccHistory.push(trainAcc);
        this.valAccHistory.push(valAcc);
        event.trainAcc = trainAcc;
        event.valAcc = valAcc;
        if (this.verbose) console.log(`(Epoch ${this.epoch} / ${this.numEpochs}) train acc: ${trainAcc.toFixed(6)}; val_acc: ${valAcc.toFixed(6)}`);
        if (valAcc > this.bestValAcc || Object.keys(this.#best).length === 0) {
          this.bestValAcc = Math.max(this.bestValAcc, valAcc);
          this.#saveBest();
        }
      }
      this.onProgress?.(event);
    }
    this.restoreBest();
    return this;
  }

  /**
   * Copies the best parameters (and buffers) seen so far back into the model. The last ones are
   * kept (lastState()), so a checkpoint saved after train() still has what resuming needs.
   */
  restoreBest(): void {
    if (!this.holdsBest) this.#last = this.#copyState(this.#last);
    for (const [name, t] of Object.entries(this.#stateTensors())) {
      const best = this.#best[name];
      if (best && !best.isDisposed) t.set(best);
    }
    this.holdsBest = true;
  }

  /**
   * While holdsBest: copies of the parameters and buffers training would continue from (the
   * last ones, kept by restoreBest()), named as in bestState(). Empty otherwise. For checkpoints.
   */
  lastState(): Record<string, Float32Array> {
    return this.holdsBest ? this.#namedArrays(this.#last) : {};
  }

  /**
   * Copies of the best parameters and buffers seen so far (by validation accuracy), by name:
   * params under their own names, buffers as `buffer:<name>`. Empty before the first accuracy
   * check. For checkpoints.
   */
  bestState(): Record<string, Float32Array> {
    return this.#namedArrays(this.#best);
  }

  #namedArrays(copies: Record<string, Tensor>): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    const arrays = new Map<string, Float32Array>();
    for (const [{ key, storage, start }, view] of this.#namedStateViews()) {
      const copy = copies[storage];
      if (!copy || copy.isDisposed) return {};
      if (!arrays.has(storage)) arrays.set(storage, copy.toArray());
      out[key] = arrays.get(storage)!.slice(start, start + view.size);
    }
    return out;
  }

  /** Sets the best snapshot (and bestValAcc) from bestState()'s output, e.g. when resuming. */
  setBestState(values: Record<string, ArrayLike<number>>, bestValAcc: number): void {
    const fn = "Solver.setBestState";
    checkNumber(fn, "bestValAcc", bestValAcc, { min: 0, max: 1 });
    const views = this.#namedStateViews();
    for (const [{ key }, view] of views) {
      const v = values?.[key];
      if (v === undefined || v.length !== view.size) {
        throw new RangeError(`${fn}: values["${key}"] must hold ${view.size} numbers (got ${describe(v)})`);
      }
    }
    this.#saveBest(); // allocates the copies with the right sizes
    for (const [{ key, storage, start }, view] of views) {
      const target = this.#best[storage].sliceView(start, view.shape);
      target.set(values[key]);
      target.dispose();
    }
    this.bestValAcc = bestValAcc;
  }

  // Each named param/buffer with where it lives in the #best copies (flat region: one copy).
  #namedStateViews(): [{ key: string; storage: string; start: number }, Tensor][] {
    const store = this.model.paramStore;
    const out: [{ key: string; storage: string; start: number }, Tensor][] = [];
    for (const [name, t] of Object.entries(this.model.params)) {
      if (store) out.push([{ key: name, storage: "__flat__", start: (t.ptr - store.flat.ptr) >>> 2 }, t]);
      else out.push([{ key: name, storage: name, start: 0 }, t]);
    }
    for (const [name, t] of Object.entries(this.model.buffers ?? {})) out.push([{ key: `buffer:${name}`, storage: `buffer:${name}`, start: 0 }, t]);
    return out;
  }

  /** Frees the Solver's buffers, optimizer state and best-parameter copies (not the model). */
  dispose(): void {
    this.#ws.dispose();
    for (const t of [...Object.values(this.#best), ...Object.values(this.#last)]) t.dispose();
    this.#best = {};
    this.#last = {};
    for (const config of Object.values(this.optimConfigs)) disposeOptimState(config);
    this.#freeIndexBuffer();
  }

  #freeIndexBuffer(): void {
    if (this.#indexPtr) freeBytes(this.#indexPtr);
    this.#indexPtr = 0;
    this.#indexCount = 0;
  }

  #stateTensors(): Record<string, Tensor> {
    const store = this.model.paramStore;
    const params = store ? { __flat__: store.flat } : this.model.params;
    const buffers = Object.fromEntries(Object.entries(this.model.buffers ?? {}).map(([k, v]) => [`buffer:${k}`, v]));
    return { ...params, ...buffers };
  }

  #saveBest(): void {
    this.#best = this.#copyState(this.#best);
  }

  // Copies the model's state tensors into `copies` (reused when the sizes agree).
  #copyState(copies: Record<string, Tensor>): Record<string, Tensor> {
    for (const [name, t] of Object.entries(this.#stateTensors())) {
      let copy = copies[name];
      if (!copy || copy.isDisposed || copy.size !== t.size) {
        copy?.dispose();
        copy = keep(t.clone());
        copies[name] = copy;
      } else {
        copy.set(t);
      }
    }
    return copies;
  }

  /** n rows drawn with replacement from the Solver's stream into a reused buffer. */
  #sample(X: Tensor, y: Labels, n: number, key: string): [Tensor, Int32Array] {
    if (key === "batch") checkTensor("Solver.step", "data.XTrain", X); // disposed since the Solver was made?
    const N = X.shape[0];
    const rowShape = X.shape.slice(1);
    const idxPtr = this.#indexBuffer(n);
    const k = kernels();
    k.i32_rand_below(idxPtr, n, N, deriveSeed(this.seed, 1), this.rngState);
    this.rngState += n;
    const out = this.#ws.get(key, [n, ...rowShape]);
    k.f32_gather_rows(out.ptr, X.ptr, idxPtr, n, sizeOf(rowShape));
    const idx = i32().subarray(idxPtr >>> 2, (idxPtr >>> 2) + n);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) labels[i] = y[idx[i]];
    return [out, labels];
  }

  #indexBuffer(n: number): number {
    if (n > this.#indexCount) {
      if (this.#indexPtr) freeBytes(this.#indexPtr);
      this.#indexPtr = 0;
      this.#indexPtr = allocBytes(n * 4, "Solver indices");
      this.#indexCount = n;
    }
    return this.#indexPtr;
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

function checkData(fn: string, data: unknown, numClasses?: number): SolverData {
  const d = checkOptions(fn, "data", data, ["XTrain", "yTrain", "XVal", "yVal"]);
  for (const key of ["XTrain", "yTrain", "XVal", "yVal"]) {
    if (d[key] === undefined) throw new TypeError(`${fn}: data.${key} is required ({ XTrain, yTrain, XVal, yVal })`);
  }
  const XTrain = checkTensor(fn, "data.XTrain", d.XTrain);
  const XVal = checkTensor(fn, "data.XVal", d.XVal);
  if (XTrain.shape.length < 2 || XTrain.shape[0] === 0) {
    throw new RangeError(`${fn}: data.XTrain must have shape (N, ...) with N >= 1 (got ${shapeString(XTrain.shape)})`);
  }
  if (XVal.shape.length !== XTrain.shape.length || XVal.shape.slice(1).some((s, i) => s !== XTrain.shape[i + 1])) {
    throw new RangeError(`${fn}: data.XVal rows must have the shape of data.XTrain rows (got ${shapeString(XVal.shape)} vs ${shapeString(XTrain.shape)})`);
  }
  const classes = numClasses ?? Number.MAX_SAFE_INTEGER;
  checkLabels(`${fn} (data.yTrain)`, d.yTrain, XTrain.shape[0], classes);
  checkLabels(`${fn} (data.yVal)`, d.yVal, XVal.shape[0], classes);
  return d as unknown as SolverData;
}
