// PyTorch state_dicts in and out of a tl.sequential, as safetensors bytes (what
// `safetensors.torch.save_file(net.state_dict(), path)` writes and `load_file` reads).
//
//   loadStateDict(model, bytes | tensors, { strict })   PyTorch -> tensorlane, by name
//   saveStateDict(model, { names })                      tensorlane -> PyTorch's load_state_dict(strict=True)
//
// Names: a tl.sequential's parameters and buffers are PyTorch's state_dict names of the same
// nn.Sequential ("0.weight", "4.body.1.running_var"). A model that renames them (importOnnx keys
// them by the ONNX initializer names) answers to both: loading looks a key up among the model's
// names first, then among the state_dict names.
//
// Values: F32, F64, and F16 / BF16 (widened to float32 exactly) go into the model's dtype.
// num_batches_tracked (an I64 scalar per batch norm) is accepted and ignored on load: tensorlane
// keeps no batch counter, PyTorch reads it only for momentum=None. On save it is written as an
// I64 scalar 0, so load_state_dict(strict=True) finds every key it expects.
//
// Loading is all or nothing: every tensor is checked (name, shape, finite values, a
// non-negative running_var) before the first one is written.
import type { Sequential, StateEntry } from "../models/sequential.js";
import { describe } from "../core/validate.js";
import { decodeSafetensors, encodeSafetensors, type SafetensorsAnyTensor } from "./safetensors.js";

/** Options of loadStateDict (PyTorch's load_state_dict keyword). */
export interface LoadStateDictOptions {
  /**
   * true (default): every parameter and buffer of the model must be in the state_dict and every
   * key of the state_dict must belong to the model, as PyTorch's load_state_dict(strict=True).
   * false: load what matches and report the rest (a shape mismatch is an error either way).
   */
  strict?: boolean;
}

/** What loadStateDict did: the names loaded, missing, unexpected and ignored (PyTorch's missing_keys / unexpected_keys). */
export interface LoadStateDictResult {
  /** The model's names of the tensors written, in the model's order. */
  loaded: string[];
  /** The model's parameters and buffers the state_dict did not have (empty when strict). */
  missing: string[];
  /** Keys of the state_dict the model has no tensor for (empty when strict). */
  unexpected: string[];
  /** num_batches_tracked keys: read and ignored. */
  ignored: string[];
}

/**
 * What loadStateDict reads: safetensors bytes, or tensors by name as decodeSafetensors returns them ({ name: { shape, data } }).
 *
 * @inline
 */
type Source = Uint8Array | Record<string, { shape: readonly number[]; data: ArrayLike<number> | BigInt64Array }>;

/**
 * Loads a PyTorch state_dict into `model` (a tl.sequential) by name: safetensors bytes, or
 * tensors as decodeSafetensors gives them ({ name: { shape, data } }).
 */
export function loadStateDict(model: Sequential, source: Source, options: LoadStateDictOptions = {}): LoadStateDictResult {
  const fn = "loadStateDict";
  checkModel(fn, model);
  if (options === null || typeof options !== "object") throw new TypeError(`${fn}: options must be { strict? } (got ${describe(options)})`);
  for (const key of Object.keys(options)) if (key !== "strict") throw new TypeError(`${fn}: unknown option "${key}" (known: strict)`);
  const strict = options.strict ?? true;
  if (typeof strict !== "boolean") throw new TypeError(`${fn}: options.strict must be true or false (got ${describe(strict)})`);
  let tensors: Record<string, { shape: readonly number[]; data: ArrayLike<number> | BigInt64Array }>;
  if (source instanceof Uint8Array) {
    tensors = decodeSafetensors(source, undefined, { widen: true, integers: true }).tensors as Record<string, SafetensorsAnyTensor>;
  } else if (source !== null && typeof source === "object" && !Array.isArray(source)) {
    tensors = source;
  } else {
    throw new TypeError(`${fn}: source must be safetensors bytes (a Uint8Array) or an object of { shape, data } tensors (got ${describe(source)})`);
  }

  const entries = model.stateEntries();
  const byName = new Map(entries.map((e) => [e.name, e]));
  const byStateDictName = new Map(entries.map((e) => [e.stateDictName, e]));
  const found = new Map<StateEntry, string>();
  const unexpected: string[] = [];
  const ignored: string[] = [];
  const writes: [StateEntry, ArrayLike<number>][] = [];
  for (const [key, t] of Object.entries(tensors)) {
    const entry = byName.get(key) ?? byStateDictName.get(key);
    if (entry === undefined) {
      unexpected.push(key);
      continue;
    }
    const other = found.get(entry);
    if (other !== undefined)
      throw new RangeError(`${fn}: the state_dict has both ${describe(other)} and ${describe(key)} for the model's ${describe(entry.name)}`);
    found.set(entry, key);
    if (t === null || typeof t !== "object" || !Array.isArray(t.shape) || t.data === null || typeof t.data !== "object" || typeof t.data.length !== "number") {
      throw new TypeError(`${fn}: state_dict[${describe(key)}] must be { shape, data } (got ${describe(t)})`);
    }
    if (entry.kind === "counter") {
      ignored.push(key);
      continue;
    }
    if (t.data instanceof BigInt64Array || t.data instanceof Int32Array) {
      throw new TypeError(`${fn}: state_dict[${describe(key)}] holds integers, but ${describe(entry.name)} is a floating-point ${entry.kind}`);
    }
    if (t.shape.length !== entry.shape.length || t.shape.some((d, i) => d !== entry.shape[i])) {
      throw new RangeError(
        `${fn}: state_dict[${describe(key)}] has shape [${t.shape.join(", ")}] but the model's ${describe(entry.name)} (${entry.module.describe()}, module ${entry.module.path}) has shape [${entry.shape.join(", ")}]`,
      );
    }
    const data = t.data as ArrayLike<number>;
    if (data.length !== entry.tensor!.size)
      throw new RangeError(`${fn}: state_dict[${describe(key)}] has ${data.length} values for shape [${t.shape.join(", ")}]`);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (typeof v !== "number" || !Number.isFinite(v))
        throw new RangeError(`${fn}: state_dict[${describe(key)}] holds ${describe(v)} at index ${i}; parameters and buffers must be finite numbers`);
      if (entry.local === "running_var" && v < 0) throw new RangeError(`${fn}: state_dict[${describe(key)}] holds the negative variance ${v} at index ${i}`);
    }
    writes.push([entry, data]);
  }
  const missing = entries.filter((e) => e.kind !== "counter" && !found.has(e)).map((e) => e.name);
  if (strict && (missing.length > 0 || unexpected.length > 0)) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing ${quoted(missing)}`);
    if (unexpected.length > 0) parts.push(`unexpected ${quoted(unexpected)}`);
    throw new RangeError(`${fn}: the state_dict does not match the model: ${parts.join("; ")} (pass { strict: false } to load the tensors that match)`);
  }
  for (const [entry, data] of writes) entry.tensor!.set(data);
  const order = new Map(entries.map((e, i) => [e, i]));
  writes.sort((a, b) => order.get(a[0])! - order.get(b[0])!);
  return { loaded: writes.map(([e]) => e.name), missing, unexpected, ignored };
}

/** Options of saveStateDict: which names to write and the file's metadata. */
export interface SaveStateDictOptions {
  /**
   * "model" (default): the model's names (for a model importOnnx made, the ONNX initializer
   * names). "stateDict": PyTorch's state_dict names of the same nn.Sequential ("0.weight"), the
   * names a PyTorch module built like the tl.sequential expects.
   */
  names?: "model" | "stateDict";
  /** String metadata stored in the file's __metadata__. */
  metadata?: Record<string, string>;
}

/**
 * The model's state_dict as safetensors bytes, in PyTorch's order: F32 (F64 for a float64 model)
 * parameters and buffers, and an I64 scalar num_batches_tracked (0) per batch norm, so that
 * `net.load_state_dict(load_file(path), strict=True)` accepts it for the same nn.Sequential.
 */
export function saveStateDict(model: Sequential, options: SaveStateDictOptions = {}): Uint8Array {
  const fn = "saveStateDict";
  checkModel(fn, model);
  if (options === null || typeof options !== "object") throw new TypeError(`${fn}: options must be { names?, metadata? } (got ${describe(options)})`);
  for (const key of Object.keys(options))
    if (key !== "names" && key !== "metadata") throw new TypeError(`${fn}: unknown option "${key}" (known: names, metadata)`);
  const names = options.names ?? "model";
  if (names !== "model" && names !== "stateDict") throw new TypeError(`${fn}: options.names must be "model" or "stateDict" (got ${describe(names)})`);
  const tensors: Record<string, SafetensorsAnyTensor> = {};
  for (const e of model.stateEntries()) {
    const name = names === "model" ? e.name : e.stateDictName;
    const data = e.tensor === null ? new BigInt64Array(1) : e.tensor.toArray();
    Object.defineProperty(tensors, name, { value: { shape: [...e.shape], data }, enumerable: true, configurable: true, writable: true });
  }
  return encodeSafetensors(tensors, { format: "pt", ...(options.metadata ?? {}) });
}

/** "a", "b", ... (n in all): at most 12 names. */
function quoted(names: string[]): string {
  return `${names
    .slice(0, 12)
    .map((n) => JSON.stringify(n))
    .join(", ")}${names.length > 12 ? `, ... (${names.length} in all)` : ""}`;
}

function checkModel(fn: string, model: unknown): asserts model is Sequential {
  if (model === null || typeof model !== "object" || typeof (model as Sequential).stateEntries !== "function") {
    throw new TypeError(`${fn}: model must be a Sequential (tl.sequential or importOnnx) (got ${describe(model)})`);
  }
}
