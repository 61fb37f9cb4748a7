// Copies of a model's parameters and buffers: the best seen (by validation accuracy), restored at
// the end of train(); the moving average of every step's (with SolverOptions.emaDecay); and the
// last ones while the model holds another copy (what training would continue from, for
// checkpoints). Handed out as named arrays: parameters by name, buffers as bufferKey(name). A
// model with a paramStore is copied as one flat region.
import type { TrainableModel } from "../models/contract.js";
import { keep, type Tensor } from "../core/tensor.js";
import { emaUpdate } from "../ops/optim.js";
import { describe } from "../core/validate.js";
import { bufferKey, type Values } from "./run-state.js";

/** Where a named tensor lives in the copies: the copy's key and the first element in it. */
interface Place {
  key: string;
  storage: string;
  start: number;
}

export class Snapshots {
  readonly #model: TrainableModel;
  #best: Record<string, Tensor> = {};
  #last: Record<string, Tensor> = {};
  #average: Record<string, Tensor> = {};
  /** True while the model holds the best or the average copy (restoreBest(), holdAverage()) until the next training step (the Solver clears it). */
  holdsBest = false;

  constructor(model: TrainableModel) {
    this.#model = model;
  }

  /** Whether a best snapshot was taken. */
  get hasBest(): boolean {
    return Object.keys(this.#best).length > 0;
  }

  /** Takes the model's state as the best one. */
  saveBest(): void {
    this.#best = this.#copy(this.#best);
  }

  /** Copies the best state into the model, keeping the last one (the first time) for last(). */
  restoreBest(): void {
    this.#hold(this.#best);
  }

  /** Whether a moving average was started. */
  get hasAverage(): boolean {
    return Object.keys(this.#average).length > 0;
  }

  /** Starts the moving average at the model's state. */
  startAverage(): void {
    this.#average = this.#copy(this.#average);
  }

  /** Moves the average toward the model's state: average += rate * (state - average), in wasm. */
  updateAverage(rate: number): void {
    for (const [name, t] of Object.entries(this.#tensors())) {
      const average = this.#average[name];
      emaUpdate(average.ptr, t.ptr, t.size, rate, t.dtype);
      average.markWritten();
    }
  }

  /** Copies the average into the model, keeping the last state (the first time) for last(). */
  holdAverage(): void {
    this.#hold(this.#average);
  }

  /** Puts the last state back into the model after restoreBest() / holdAverage(). */
  release(): void {
    if (!this.holdsBest) return;
    for (const [name, t] of Object.entries(this.#tensors())) t.set(this.#last[name]);
    this.holdsBest = false;
  }

  /** The average by name; empty before startAverage(). */
  average(): Record<string, Values> {
    return this.#named(this.#average);
  }

  /** Sets the average from checked values. */
  setAverage(values: Record<string, ArrayLike<number>>): void {
    this.startAverage();
    this.#setFrom(this.#average, values);
  }

  #hold(copies: Record<string, Tensor>): void {
    if (!this.holdsBest) this.#last = this.#copy(this.#last);
    for (const [name, t] of Object.entries(this.#tensors())) {
      const copy = copies[name];
      if (copy && !copy.isDisposed) t.set(copy);
    }
    this.holdsBest = true;
  }

  /** The best state by name; empty before the first saveBest(). */
  best(): Record<string, Values> {
    return this.#named(this.#best);
  }

  /** While holdsBest: the last state by name (what training continues from); empty otherwise. */
  last(): Record<string, Values> {
    return this.holdsBest ? this.#named(this.#last) : {};
  }

  /** Throws a RangeError unless `values` (named as best()) holds every tensor's number of values. */
  check(fn: string, name: string, values: Record<string, ArrayLike<number>>): void {
    for (const [{ key }, view] of this.#places()) {
      const v = values?.[key];
      if (v === undefined || v === null || v.length !== view.size) {
        throw new RangeError(`${fn}: ${name}["${key}"] must hold ${view.size} numbers (got ${describe(v)})`);
      }
    }
  }

  /** Sets the best state from checked values. */
  setBest(values: Record<string, ArrayLike<number>>): void {
    this.saveBest(); // allocates the copies with the right sizes
    this.#setFrom(this.#best, values);
  }

  dispose(): void {
    for (const t of [...Object.values(this.#best), ...Object.values(this.#last), ...Object.values(this.#average)]) t.dispose();
    this.#best = {};
    this.#last = {};
    this.#average = {};
  }

  #setFrom(copies: Record<string, Tensor>, values: Record<string, ArrayLike<number>>): void {
    for (const [{ key, storage, start }, view] of this.#places()) {
      const target = copies[storage].sliceView(start, view.shape);
      target.set(values[key]);
      target.dispose();
    }
  }

  // The tensors copied: the flat region (or each parameter) and each buffer.
  #tensors(): Record<string, Tensor> {
    const store = this.#model.paramStore;
    const params = store ? { __flat__: store.flat } : this.#model.params;
    const buffers = Object.fromEntries(Object.entries(this.#model.buffers ?? {}).map(([k, v]) => [bufferKey(k), v]));
    return { ...params, ...buffers };
  }

  // Copies the model's tensors into `copies` (reused when the sizes agree).
  #copy(copies: Record<string, Tensor>): Record<string, Tensor> {
    for (const [name, t] of Object.entries(this.#tensors())) {
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

  // Each named parameter and buffer with its place in the copies.
  #places(): [Place, Tensor][] {
    const store = this.#model.paramStore;
    const out: [Place, Tensor][] = [];
    for (const [name, t] of Object.entries(this.#model.params)) {
      if (store) out.push([{ key: name, storage: "__flat__", start: (t.ptr - store.flat.ptr) / t.itemBytes }, t]);
      else out.push([{ key: name, storage: name, start: 0 }, t]);
    }
    for (const [name, t] of Object.entries(this.#model.buffers ?? {})) out.push([{ key: bufferKey(name), storage: bufferKey(name), start: 0 }, t]);
    return out;
  }

  #named(copies: Record<string, Tensor>): Record<string, Values> {
    const out: Record<string, Values> = {};
    const arrays = new Map<string, Values>();
    for (const [{ key, storage, start }, view] of this.#places()) {
      const copy = copies[storage];
      if (!copy || copy.isDisposed) return {};
      if (!arrays.has(storage)) arrays.set(storage, copy.toArray());
      out[key] = arrays.get(storage)!.slice(start, start + view.size);
    }
    return out;
  }
}
