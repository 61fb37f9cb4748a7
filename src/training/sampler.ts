// The Solver's batches: rows drawn with replacement from its own random stream (seed, 1) at
// counter rngState, then through the augment list (augmentation j draws from (seed, 16 + j) at the
// batch's counters, so a run reproduces and resumes bit for bit); and accuracy over a source. The
// buffers are reused, so after the first step sampling allocates nothing.
import { applyAugmentations, type Augmentation } from "./augment.js";
import type { BatchSource } from "../data/batches.js";
import { withCheckedLabels, type Labels } from "../core/labels.js";
import type { PredictOptions, TrainableModel } from "../models/contract.js";
import { DEFAULT_PREDICT_BATCH, predictRows } from "../models/predict.js";
import { deriveSeed } from "../core/random.js";
import { TRAIN_KERNELS, useFamily } from "../core/kernel-families.js";
import { kernels } from "../core/runtime.js";
import type { Targets } from "../layers/targets.js";
import type { Tensor } from "../core/tensor.js";
import { Workspace } from "../core/workspace.js";

export class Sampler {
  /** Position in the sampling stream. */
  rngState = 0;
  /** Batches, sampled indices and predictions, reused step after step. */
  readonly #ws = new Workspace("Solver");
  readonly #model: TrainableModel;
  readonly #seed: number;
  readonly #augment: readonly Augmentation[];
  /** The class bound the labels were checked against. */
  readonly #classes: number;
  /** Classes of mixup's soft labels (checked at construction when the list has a mixup). */
  readonly #numClasses: number | undefined;

  constructor(model: TrainableModel, seed: number, augment: readonly Augmentation[], classes: number, numClasses: number | undefined) {
    this.#model = model;
    this.#seed = seed;
    this.#augment = augment;
    this.#classes = classes;
    this.#numClasses = numClasses;
  }

  /**
   * A training batch of n rows, augmented. Its labels were checked with the data, so mixup skips
   * its scan of them; integer targets come back as an Int32Array, mixup's as soft labels.
   */
  batch(source: BatchSource, n: number): [Tensor, Targets] {
    const offset = this.rngState; // the batch's counters: its augmentations draw at the same position
    const [X, y] = this.#sample(source, n, "batch");
    if (this.#augment.length === 0) return [X, y];
    const ws = this.#ws;
    const buffers = [ws.get("augment0", X.shape, X.dtype), ws.get("augment1", X.shape, X.dtype)] as const;
    const seeds = this.#augment.map((_, j) => deriveSeed(this.#seed, 16 + j));
    const C = this.#numClasses!;
    const mixed = (j: number) => ws.get(`mixup${j}`, [n, C], X.dtype);
    return withCheckedLabels(y, this.#classes, () => applyAugmentations(this.#augment, X, y, buffers, mixed, seeds, offset, C));
  }

  /**
   * Accuracy over a checked source: a seeded subsample gathered into one buffer, or every row, a
   * batch at a time (a tensor's rows are views; a byte set's are converted into one reused batch
   * buffer). These are the batches predict() scores in one call, so both kinds of data give the
   * same bits.
   */
  accuracy(source: BatchSource, numSamples: number | null, batchSize: number): number {
    if (numSamples !== null && source.count > numSamples) {
      const [X, labels] = this.#sample(source, numSamples, "accuracy");
      return countCorrect(this.#predict(X, { batchSize }), labels, 0) / numSamples;
    }
    const total = source.count;
    if (total === 0) return 0;
    let correct = 0;
    for (let start = 0; start < total; start += batchSize) {
      const count = Math.min(batchSize, total - start);
      const rows = source.rows(start, count, () => this.#ws.get("rows", [batchSize, ...source.rowShape]));
      let pred: Int32Array;
      try {
        pred = this.#predict(rows, { batchSize });
      } finally {
        rows.dispose();
      }
      correct += countCorrect(pred, source.labels, start);
    }
    return correct / total;
  }

  /** Frees the buffers (the next use makes them again): after a failed step, and at the end. */
  dispose(): void {
    this.#ws.dispose();
  }

  /** n rows drawn with replacement into reused buffers, with their labels. */
  #sample(source: BatchSource, n: number, key: string): [Tensor, Int32Array] {
    const idxPtr = this.#ws.block("indices", n * 4);
    const out = this.#ws.get(key, [n, ...source.rowShape], source.dtype);
    useFamily(TRAIN_KERNELS);
    kernels().i32_rand_below(idxPtr, n, source.count, deriveSeed(this.#seed, 1), this.rngState);
    source.gather(key === "batch" ? "Solver.step" : "Solver.checkAccuracy", out, idxPtr, n);
    this.rngState += n;
    const idx = this.#ws.int32("indices", n); // derived after the gather (a byte set's may allocate)
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) labels[i] = source.labels[idx[i]];
    return [out, labels];
  }

  #predict(X: Tensor, options: PredictOptions): Int32Array {
    if (typeof this.#model.predict === "function") return this.#model.predict(X, options);
    // A model without predict: score through loss(X), which returns tensors the caller owns.
    return predictRows(X, options.batchSize ?? DEFAULT_PREDICT_BATCH, this.#ws, (batch) => this.#model.loss(batch), true);
  }
}

/** How many predictions pred[i] equal labels[start + i]. */
function countCorrect(pred: Int32Array, labels: Labels, start: number): number {
  let correct = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[start + i]) correct++;
  return correct;
}
