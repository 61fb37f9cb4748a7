// Model-level checkpoints as safetensors bytes (platform-neutral: Node writes them to disk with
// src/node/checkpoint-file.ts, a browser can keep them in IndexedDB or offer a download).
//
// Tensors (F32, or F64 for a float64 model; PyTorch's `safetensors` reads both):
//   <param>                          the parameters to use (the best seen by validation accuracy
//                                    when a Solver is given), e.g. W1, b1, ...
//   buffers.<name>                   non-parameter state such as batch-norm running statistics
//   resume.params.<param>            with a Solver: the LAST parameters, which training continues from
//   resume.buffers.<name>            with a Solver: the last buffers
//   resume.optim.<key>.<state>       with a Solver: update-rule state (m, v, velocity, cache) per
//                                    config key ("all" for the flat region, else a param name)
// Metadata (strings):
//   format "tensorlane-checkpoint", format_version "1", tensorlane_version,
//   model   JSON { kind, config, rngState, frozen? } (frozen: the frozen parameters' names, when any)
//   solver  JSON (with a Solver): Solver.state() without its tensors: options (with lrSchedule,
//           and the augment list when the run has one),
//           epoch, iteration, rngState, histories, accuracy-check iterations, best accuracy
//   meta    JSON, the caller's (data normalization, seed, command line, ...)
//   crc32   of the data section, so a flipped bit in the numbers is caught, not trained on
//   crc32_tensors   JSON { name: crc32 } of each tensor's bytes: a damaged file names the tensor
//   crc32_metadata  JSON { key: crc32 } of every other metadata value (its UTF-8 bytes), last:
//           a flipped bit in the header's JSON that still parses (a digit of the learning rate,
//           of rngState) is caught too. Files written before these two keys load without them.
//
// Loading treats the bytes as hostile: the safetensors decoder bounds every size, then every
// piece is checked against the model rebuilt from its config (names, shapes, JSON types), and any
// mismatch is a FileFormatError that says what is wrong.
import { checkAugmentations, type Augmentation } from "../augment.js";
import { MODEL_KINDS, modelKindOf, type CheckpointableModel } from "../models/kinds.js";
import { updateRules, type UpdateRuleName } from "../optim.js";
import type { CosineSchedule } from "../schedule.js";
import type { Solver, SolverOptions, SolverState } from "../solver.js";
import type { Tensor } from "../tensor.js";
import { describe } from "../validate.js";
import { VERSION } from "../version.js";
import { crc32 } from "./crc32.js";
import { FileFormatError } from "./format-error.js";
import { decodeSafetensors, encodeSafetensorsParts, type SafetensorsTensor } from "./safetensors.js";

export const CHECKPOINT_FORMAT = "tensorlane-checkpoint";
export const CHECKPOINT_FORMAT_VERSION = "1";

const OPTIM_NUMBERS = ["learningRate", "momentum", "decayRate", "epsilon", "beta1", "beta2", "t", "weightDecay"] as const;
const OPTIM_STATES = ["velocity", "cache", "m", "v"] as const;

export interface SaveCheckpointOptions {
  model: CheckpointableModel;
  /** The Solver training the model: adds what resuming needs (optimizer state, histories, ...). */
  solver?: Solver;
  /** The caller's metadata, JSON-serialisable (data normalization, seed, ...). */
  meta?: Record<string, unknown>;
}

/** What a checkpoint says about the Solver that wrote it. */
export interface SolverCheckpoint {
  /**
   * Options for `new Solver(model, data, { ...options, numEpochs })`: the same rule, sampling,
   * batches and schedule. `updateRule` is absent when the run used a custom rule function
   * (`customUpdateRule`): pass the same function.
   */
  options: Required<Pick<SolverOptions, "lrDecay" | "batchSize" | "numEpochs" | "seed">> & {
    updateRule?: UpdateRuleName;
    /** The cosine schedule; absent for per-epoch lrDecay, and for a custom function (`customLrSchedule`: pass the same one). */
    lrSchedule?: Required<CosineSchedule>;
    /** The augmentations, when the run used any. */
    augment?: Augmentation[];
    /** "weights" when the weight decay spared biases and norms; absent for "all". */
    weightDecayParams?: "weights";
    numTrainSamples: number | null;
    numValSamples: number | null;
  };
  customUpdateRule: boolean;
  customLrSchedule: boolean;
  epoch: number;
  /** Iterations done (= lossHistory.length). */
  iteration: number;
  iterationsPerEpoch: number;
  rngState: number;
  bestValAcc: number;
  /** False when no accuracy check had happened yet (the stored params are then the last ones). */
  hasBest: boolean;
  lossHistory: number[];
  trainAccHistory: number[];
  valAccHistory: number[];
  /** The iteration of each accuracy check (derived for checkpoints that predate it). */
  accuracyIterations: number[];
  /** The learning rate schedules start from (null when the checkpoint predates it). */
  baseLearningRate: number | null;
  /** Update-rule hyperparameters per config key as they were (learning rate after decay, Adam's t). */
  optimConfigs: Record<string, Record<string, number>>;
}

export interface LoadedCheckpoint {
  /** The model class name ("FullyConnectedNet", "DeepConvNet"). */
  kind: string;
  /** A new model built from the stored config, holding the stored (best) parameters and buffers. */
  model: CheckpointableModel;
  /** The caller's metadata as saved. */
  meta: Record<string, unknown>;
  /** The tensorlane version that wrote the file. */
  version: string;
  /** Present when the checkpoint was saved with a Solver. */
  solver: SolverCheckpoint | null;
  /**
   * Puts `solver` (made with `solver.options` over `model`) and the model exactly where the
   * saved training run was: last parameters and buffers, dropout and sampling streams, optimizer
   * state, epoch, histories, best snapshot. `solver.train()` then continues bit-identically.
   */
  resume(solver: Solver): void;
}

// ---------------------------------------------------------------------------------------------
// Saving

/** Encodes a checkpoint as safetensors bytes. */
export function saveCheckpoint(options: SaveCheckpointOptions): Uint8Array {
  const parts = checkpointParts(options);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The checkpoint as byte chunks, for writers that stream (no full copy). */
export function checkpointParts(options: SaveCheckpointOptions): Uint8Array[] {
  const fn = "saveCheckpoint";
  if (options === null || typeof options !== "object") throw new TypeError(`${fn}: options must be { model, solver?, meta? } (got ${describe(options)})`);
  for (const key of Object.keys(options)) {
    if (!["model", "solver", "meta"].includes(key)) throw new TypeError(`${fn}: unknown option "${key}" (known: model, solver, meta)`);
  }
  const { model, solver, meta = {} } = options;
  const kind = modelKindOf(model);
  if (kind === undefined) {
    throw new TypeError(`${fn}: model must be one of ${Object.keys(MODEL_KINDS).join(", ")} (got ${describe(model)})`);
  }
  if (meta === null || typeof meta !== "object" || Array.isArray(meta)) throw new TypeError(`${fn}: meta must be a plain object (got ${describe(meta)})`);
  let metaJson: string;
  try {
    metaJson = JSON.stringify(meta);
  } catch (error) {
    throw new TypeError(`${fn}: meta must be JSON-serialisable (${error instanceof Error ? error.message : String(error)})`);
  }

  const tensors: Record<string, SafetensorsTensor> = {};
  const put = (name: string, shape: readonly number[], data: Float32Array | Float64Array): void => {
    Object.defineProperty(tensors, name, { value: { shape, data }, enumerable: true, configurable: true, writable: true });
  };
  const buffers = model.buffers ?? {};
  let solverJson: string | undefined;
  if (solver !== undefined) {
    if (solver === null || typeof solver !== "object" || solver.model !== model) {
      throw new TypeError(`${fn}: solver must be the Solver training this model (got ${describe(solver)})`);
    }
    // After train() the model holds the restored best parameters and the Solver keeps the last
    // ones (what resuming continues from); during training it is the other way round.
    const last = solver.holdsBest ? solver.lastState() : null;
    if (last !== null && Object.keys(last).length === 0) {
      throw new RangeError(
        `${fn}: the model holds the best parameters restored by restoreBest(), and the solver no longer has the last ones training would continue from; ` +
          `save without the solver for a model to evaluate`,
      );
    }
    const st = solver.state();
    // While holdsBest the model's own params are the best ones (st.best is then that same copy).
    const best = last === null ? st.best : null;
    const bestOf = (key: string, t: Tensor) => (best ? best[key] : t.toArray());
    const lastOf = (key: string, t: Tensor) => (last === null ? t.toArray() : last[key]);
    for (const [name, t] of Object.entries(model.params)) put(name, t.shape, bestOf(name, t));
    for (const [name, t] of Object.entries(buffers)) put(`buffers.${name}`, t.shape, bestOf(`buffer:${name}`, t));
    for (const [name, t] of Object.entries(model.params)) put(`resume.params.${name}`, t.shape, lastOf(name, t));
    for (const [name, t] of Object.entries(buffers)) put(`resume.buffers.${name}`, t.shape, lastOf(`buffer:${name}`, t));
    const optimConfigs: Record<string, Record<string, number>> = {};
    for (const [key, { numbers, tensors: state }] of Object.entries(st.optimConfigs)) {
      for (const [field, t] of Object.entries(state)) put(`resume.optim.${key}.${field}`, t.shape, t.data);
      optimConfigs[key] = numbers;
    }
    const state = {
      options: st.options, // updateRule null: a custom rule; lrSchedule null (lrDecay), a cosine object, or "custom"
      epoch: st.epoch,
      iteration: st.iteration,
      iterationsPerEpoch: st.iterationsPerEpoch,
      rngState: st.rngState,
      bestValAcc: st.bestValAcc,
      hasBest: last !== null || best !== null,
      customUpdateRule: st.options.updateRule === null,
      baseLearningRate: st.baseLearningRate,
      lossHistory: st.lossHistory,
      trainAccHistory: st.trainAccHistory,
      valAccHistory: st.valAccHistory,
      accuracyIterations: st.accuracyIterations,
      optimConfigs,
    };
    solverJson = JSON.stringify(state, nonFiniteReplacer);
  } else {
    for (const [name, t] of Object.entries(model.params)) put(name, t.shape, t.toArray());
    for (const [name, t] of Object.entries(buffers)) put(`buffers.${name}`, t.shape, t.toArray());
  }

  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_FORMAT_VERSION,
    tensorlane_version: VERSION,
    model: JSON.stringify({
      kind, config: model.config, rngState: typeof model.rngState === "number" ? model.rngState : 0,
      ...(model.frozen !== undefined && model.frozen.length > 0 ? { frozen: [...model.frozen] } : {}),
    }),
    meta: metaJson,
  };
  if (solverJson !== undefined) metadata.solver = solverJson;
  return encodeSafetensorsParts(tensors, sealCheckpoint(tensors, metadata));
}

const hex = (crc: number) => crc.toString(16).padStart(8, "0");

/**
 * The metadata with its checksums added: crc32 (the whole data section, in the tensors' order),
 * crc32_tensors and, last, crc32_metadata (replacing any there). Tests use it to make files that
 * are consistent but wrong.
 */
export function sealCheckpoint(tensors: Record<string, SafetensorsTensor>, metadata: Record<string, string>): Record<string, string> {
  const { crc32: _whole, crc32_tensors: _tensors, crc32_metadata: _metadata, ...rest } = metadata;
  let whole = 0;
  const perTensor: Record<string, string> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = littleEndianBytes(t.data);
    whole = crc32(bytes, whole);
    Object.defineProperty(perTensor, name, { value: hex(crc32(bytes)), enumerable: true, configurable: true, writable: true });
  }
  const sealed: Record<string, string> = { ...rest, crc32: hex(whole), crc32_tensors: JSON.stringify(perTensor) };
  sealed.crc32_metadata = JSON.stringify(metadataChecksums(sealed));
  return sealed;
}

// Each metadata value's CRC-32 (of its UTF-8 bytes), crc32_metadata itself left out.
function metadataChecksums(metadata: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const utf8 = new TextEncoder();
  for (const [key, value] of Object.entries(metadata)) {
    if (key !== "crc32_metadata") Object.defineProperty(out, key, { value: hex(crc32(utf8.encode(value))), enumerable: true, configurable: true, writable: true });
  }
  return out;
}

/** A flipped bit in the header that still parses as JSON: which metadata value it hit. */
function checkMetadataChecksums(fail: (m: string) => never, metadata: Record<string, string>): void {
  let listed: unknown;
  try {
    listed = JSON.parse(metadata.crc32_metadata);
  } catch {
    fail(`the header is damaged: its metadata "crc32_metadata" (the checksums of the other metadata) is not valid JSON`);
  }
  if (listed === null || typeof listed !== "object" || Array.isArray(listed)) fail(`the header is damaged: its metadata "crc32_metadata" is not a JSON object`);
  const want = listed as Record<string, unknown>;
  const got = metadataChecksums(metadata);
  const clip = (key: string) => JSON.stringify(key.length > 40 ? `${key.slice(0, 37)}...` : key);
  for (const key of Object.keys(got)) {
    if (!Object.prototype.hasOwnProperty.call(want, key)) fail(`the header is damaged: metadata ${clip(key)} is not among the keys its checksums list (a damaged key name?)`);
  }
  for (const [key, crc] of Object.entries(want)) {
    if (!Object.prototype.hasOwnProperty.call(got, key)) fail(`the header is damaged: metadata ${clip(key)} is missing (its checksum is listed)`);
    if (got[key] !== crc) fail(`the header is damaged: metadata ${clip(key)} has CRC-32 ${got[key]}, the file says ${typeof crc === "string" ? crc.slice(0, 8) : describe(crc)}`);
  }
}

/** A flipped byte in a tensor's name: the names must be the ones the (checked) metadata lists. */
function checkTensorNames(fail: (m: string) => never, tensors: Record<string, SafetensorsTensor>, listedJson: string): void {
  let listed: unknown;
  try {
    listed = JSON.parse(listedJson);
  } catch {
    fail(`metadata "crc32_tensors" is not valid JSON`);
  }
  if (listed === null || typeof listed !== "object" || Array.isArray(listed)) fail(`metadata "crc32_tensors" is not a JSON object`);
  const clip = (name: string) => JSON.stringify(name.length > 60 ? `${name.slice(0, 57)}...` : name);
  const names = Object.keys(listed as object);
  const extra = Object.keys(tensors).filter((n) => !names.includes(n));
  const missing = names.filter((n) => !Object.prototype.hasOwnProperty.call(tensors, n));
  if (extra.length > 0 || missing.length > 0) {
    const what = [
      extra.length > 0 ? `tensor ${extra.slice(0, 3).map(clip).join(", ")} ${extra.length > 1 ? "are" : "is"} not among the tensors its checksums list` : "",
      missing.length > 0 ? `tensor ${missing.slice(0, 3).map(clip).join(", ")} ${missing.length > 1 ? "are" : "is"} missing` : "",
    ].filter(Boolean);
    fail(`the header is damaged: ${what.join(" and ")} (a damaged tensor name?)`);
  }
}

/** The whole data section's CRC-32 failed: name the tensors whose bytes changed, when the file lists them. */
function damagedTensors(tensors: Record<string, SafetensorsTensor>, metadata: Record<string, string>): string | null {
  if (metadata.crc32_tensors === undefined) return null;
  let listed: Record<string, unknown>;
  try {
    listed = JSON.parse(metadata.crc32_tensors) as Record<string, unknown>;
  } catch {
    return null; // checked by crc32_metadata already; older hand-made files: the plain message
  }
  if (listed === null || typeof listed !== "object") return null;
  const bad: string[] = [];
  let at = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = littleEndianBytes(t.data);
    if (hex(crc32(bytes)) !== listed[name]) bad.push(`"${name.length > 60 ? `${name.slice(0, 57)}...` : name}" (data bytes ${at}..${at + bytes.length})`);
    at += bytes.length;
  }
  if (bad.length === 0) return null;
  return `the bytes of tensor${bad.length > 1 ? "s" : ""} ${bad.slice(0, 3).join(", ")}${bad.length > 3 ? ` and ${bad.length - 3} more` : ""} are damaged (their CRC-32 differs from the one in the header)`;
}

// Losses can be NaN or Infinity when a run diverged with onNonFinite "continue": JSON has no
// such numbers, so they travel as strings.
function nonFiniteReplacer(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? String(value) : value;
}

// ---------------------------------------------------------------------------------------------
// Loading

/**
 * Decodes and checks a checkpoint, and rebuilds its model (which the caller disposes). `what`
 * names the source in errors (a file path). Throws FileFormatError for anything wrong.
 */
export function loadCheckpoint(bytes: Uint8Array, what = "checkpoint"): LoadedCheckpoint {
  const fail = (message: string): never => {
    throw new FileFormatError(`loadCheckpoint: ${what}: ${message}`);
  };
  const { tensors, metadata } = decodeSafetensors(bytes, what);
  // Files from before the per-part checksums have neither key; newer files have both.
  if ((metadata.crc32_metadata === undefined) !== (metadata.crc32_tensors === undefined)) {
    fail(`the header is damaged: metadata "${metadata.crc32_metadata === undefined ? "crc32_metadata" : "crc32_tensors"}" is missing (a damaged key name?)`);
  }
  if (metadata.crc32_metadata !== undefined) {
    checkMetadataChecksums(fail, metadata);
    checkTensorNames(fail, tensors, metadata.crc32_tensors);
  }
  if (metadata.format !== CHECKPOINT_FORMAT) {
    fail(`not a tensorlane checkpoint (its metadata has no format "${CHECKPOINT_FORMAT}"${metadata.format === undefined ? "" : `, it says ${JSON.stringify(metadata.format.slice(0, 40))}`})`);
  }
  if (metadata.format_version !== CHECKPOINT_FORMAT_VERSION) {
    fail(`checkpoint format version ${JSON.stringify(metadata.format_version ?? null)} is not one this tensorlane (${VERSION}) reads (${CHECKPOINT_FORMAT_VERSION})`);
  }
  const expectedCrc = metadata.crc32;
  if (typeof expectedCrc !== "string" || !/^[0-9a-f]{8}$/.test(expectedCrc)) fail(`metadata crc32 is missing or malformed`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(0, true);
  const actualCrc = hex(crc32(bytes.subarray(8 + headerLength)));
  if (actualCrc !== expectedCrc) {
    fail(`the tensor data is corrupted: ${damagedTensors(tensors, metadata) ?? `the data section (after the header) has CRC-32 ${actualCrc}, the file says ${expectedCrc}`}`);
  }

  const modelInfo = parseJsonObject(fail, metadata, "model");
  const kind = modelInfo.kind;
  if (typeof kind !== "string" || !Object.prototype.hasOwnProperty.call(MODEL_KINDS, kind)) {
    fail(`model kind ${describe(kind)} is not one this tensorlane knows (${Object.keys(MODEL_KINDS).join(", ")})`);
  }
  const config = modelInfo.config;
  if (config === null || typeof config !== "object" || Array.isArray(config)) fail(`model config must be an object (got ${describe(config)})`);
  const modelRng = modelInfo.rngState;
  if (!isCount(modelRng)) fail(`model rngState must be a non-negative integer (got ${describe(modelRng)})`);
  const frozen = modelInfo.frozen;
  if (frozen !== undefined && (!Array.isArray(frozen) || frozen.some((n) => typeof n !== "string"))) fail(`model frozen must be an array of parameter names (got ${describe(frozen)})`);
  const meta = metadata.meta === undefined ? {} : parseJsonObject(fail, metadata, "meta");
  const solverState = metadata.solver === undefined ? null : checkSolverState(fail, parseJsonObject(fail, metadata, "solver"));

  let model: CheckpointableModel;
  try {
    model = new MODEL_KINDS[kind as string](config as never);
  } catch (error) {
    return fail(`${kind} rejected the stored model config (${error instanceof Error ? error.message : String(error)})`);
  }
  try {
    const used = new Set<string>();
    const take = (name: string, target: Tensor, role: string): Float32Array | Float64Array => {
      const t = Object.prototype.hasOwnProperty.call(tensors, name) ? tensors[name] : undefined;
      if (t === undefined) fail(`tensor "${name}" (${role}) is missing`);
      if (t!.shape.length !== target.shape.length || t!.shape.some((d, i) => d !== target.shape[i])) {
        fail(`tensor "${name}" has shape [${t!.shape.join(", ")}] but the model config gives ${role} the shape [${target.shape.join(", ")}]`);
      }
      // float64 models are stored as F64, float32 ones as F32: a mismatch is a damaged or edited file.
      const fileDtype = t!.data instanceof Float64Array ? "F64" : "F32";
      const wanted = target.dtype === "float64" ? "F64" : "F32";
      if (fileDtype !== wanted) fail(`tensor "${name}" is ${fileDtype} but the model config (dtype ${target.dtype}) gives ${role} the dtype ${wanted}`);
      used.add(name);
      return t!.data;
    };
    const buffers = model.buffers ?? {};
    for (const [name, t] of Object.entries(model.params)) t.set(take(name, t, `parameter ${name}`));
    for (const [name, t] of Object.entries(buffers)) t.set(take(`buffers.${name}`, t, `buffer ${name}`));

    // The resume state is checked now, so a bad file fails at load, not halfway into training.
    const resumeParams: Record<string, Float32Array | Float64Array> = {};
    const resumeBuffers: Record<string, Float32Array | Float64Array> = {};
    const optimTensors: Record<string, Record<string, SafetensorsTensor>> = {};
    if (solverState) {
      for (const [name, t] of Object.entries(model.params)) resumeParams[name] = take(`resume.params.${name}`, t, `parameter ${name}`);
      for (const [name, t] of Object.entries(buffers)) resumeBuffers[name] = take(`resume.buffers.${name}`, t, `buffer ${name}`);
      const store = model.paramStore;
      const expectKeys = !solverState.customUpdateRule && store ? ["all"] : Object.keys(model.params);
      const keys = Object.keys(solverState.optimConfigs);
      if (keys.length !== expectKeys.length || keys.some((k) => !expectKeys.includes(k))) {
        fail(`solver optimConfigs has keys [${keys.join(", ")}] but this model trains with [${expectKeys.join(", ")}]`);
      }
      for (const key of keys) {
        const target = key === "all" && store ? store.flat : model.params[key];
        optimTensors[key] = {};
        for (const field of OPTIM_STATES) {
          const name = `resume.optim.${key}.${field}`;
          if (Object.prototype.hasOwnProperty.call(tensors, name)) {
            optimTensors[key][field] = { shape: target.shape, data: take(name, target, `the ${field} state of ${key === "all" ? "all parameters" : key}`) };
          }
        }
      }
    }
    const extra = Object.keys(tensors).filter((name) => !used.has(name));
    if (extra.length > 0) {
      fail(`unexpected tensor${extra.length > 1 ? "s" : ""} ${extra.slice(0, 5).map((n) => `"${n.slice(0, 60)}"`).join(", ")}${extra.length > 5 ? ", ..." : ""} that a ${kind} with this config does not have`);
    }
    if (typeof model.rngState === "number") model.rngState = modelRng as number;
    if (frozen !== undefined) {
      const names = frozen as string[];
      const unknown = names.filter((n) => !Object.prototype.hasOwnProperty.call(model.params, n));
      if (unknown.length > 0 || typeof model.freeze !== "function") fail(`model frozen names ${unknown.length > 0 ? `"${unknown[0]}", not a parameter of the model` : "parameters, but a " + kind + " cannot freeze"}`);
      model.freeze!(names);
    }

    const loaded: LoadedCheckpoint = {
      kind: kind as string,
      model,
      meta,
      version: typeof metadata.tensorlane_version === "string" ? metadata.tensorlane_version : "unknown",
      solver: solverState,
      resume(solver: Solver): void {
        resumeSolver(what, loaded, solver, resumeParams, resumeBuffers, optimTensors);
      },
    };
    return loaded;
  } catch (error) {
    model.dispose();
    throw error;
  }
}

function resumeSolver(
  what: string,
  ck: LoadedCheckpoint,
  solver: Solver,
  params: Record<string, Float32Array | Float64Array>,
  buffers: Record<string, Float32Array | Float64Array>,
  optimTensors: Record<string, Record<string, SafetensorsTensor>>,
): void {
  const fn = "LoadedCheckpoint.resume";
  const saved = ck.solver;
  if (saved === null) throw new RangeError(`${fn}: ${what} was saved without a Solver: it holds a model to evaluate, not a training run to resume`);
  if (solver === null || typeof solver !== "object" || solver.model !== ck.model) {
    throw new TypeError(`${fn}: solver must be a Solver over this checkpoint's model (new Solver(checkpoint.model, data, { ...checkpoint.solver.options, numEpochs }))`);
  }
  const model = ck.model;
  // The model holds the stored (best) parameters until now: they become the Solver's best snapshot.
  let best: Record<string, Float32Array | Float64Array> | null = null;
  if (saved.hasBest) {
    best = {};
    for (const [name, t] of Object.entries(model.params)) best[name] = t.toArray();
    for (const [name, t] of Object.entries(model.buffers ?? {})) best[`buffer:${name}`] = t.toArray();
  }
  const optimConfigs: SolverState["optimConfigs"] = {};
  for (const [key, numbers] of Object.entries(saved.optimConfigs)) {
    optimConfigs[key] = { numbers, tensors: Object.fromEntries(Object.entries(optimTensors[key] ?? {}).map(([field, t]) => [field, { shape: t.shape, data: t.data }])) };
  }
  const o = saved.options;
  const state: SolverState = {
    options: {
      updateRule: saved.customUpdateRule ? null : (o.updateRule ?? null),
      lrDecay: o.lrDecay,
      lrSchedule: saved.customLrSchedule ? "custom" : (o.lrSchedule ?? null),
      batchSize: o.batchSize,
      numEpochs: o.numEpochs,
      numTrainSamples: o.numTrainSamples,
      numValSamples: o.numValSamples,
      seed: o.seed,
      ...(o.augment === undefined ? {} : { augment: o.augment }),
      ...(o.weightDecayParams === undefined ? {} : { weightDecayParams: o.weightDecayParams }),
    },
    iterationsPerEpoch: saved.iterationsPerEpoch,
    epoch: saved.epoch,
    iteration: saved.iteration,
    rngState: saved.rngState,
    baseLearningRate: saved.baseLearningRate,
    bestValAcc: saved.bestValAcc,
    lossHistory: saved.lossHistory,
    trainAccHistory: saved.trainAccHistory,
    valAccHistory: saved.valAccHistory,
    accuracyIterations: saved.accuracyIterations,
    optimConfigs,
    best,
  };
  try {
    solver.restoreState(state); // checks the solver continues this run before changing anything
  } catch (error) {
    if (error instanceof RangeError && /would not continue the saved run/.test(error.message)) {
      throw new RangeError(`${fn}: ${error.message.replace(/^Solver\.restoreState: /, "")} (Make it with { ...checkpoint.solver.options, numEpochs } and the same data)`);
    }
    throw error;
  }
  for (const [name, t] of Object.entries(model.params)) t.set(params[name]);
  for (const [name, t] of Object.entries(model.buffers ?? {})) t.set(buffers[name]);
}

function parseJsonObject(fail: (m: string) => never, metadata: Record<string, string>, key: string): Record<string, unknown> {
  const text = metadata[key];
  if (typeof text !== "string") fail(`metadata "${key}" is missing`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    fail(`metadata "${key}" is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail(`metadata "${key}" must be a JSON object (got ${describe(value)})`);
  return value as Record<string, unknown>;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

// Numbers that went through nonFiniteReplacer.
function historyNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (value === "NaN") return NaN;
  if (value === "Infinity") return Infinity;
  if (value === "-Infinity") return -Infinity;
  return undefined;
}

function checkSolverState(fail: (m: string) => never, s: Record<string, unknown>): SolverCheckpoint {
  const bad = (field: string, expected: string, value: unknown): never => fail(`solver ${field} must be ${expected} (got ${describe(value)})`);
  const o = s.options as Record<string, unknown> | null;
  if (o === null || typeof o !== "object" || Array.isArray(o)) return bad("options", "an object", o);
  if (o.updateRule !== null && (typeof o.updateRule !== "string" || !Object.prototype.hasOwnProperty.call(updateRules, o.updateRule))) {
    bad("options.updateRule", `one of ${Object.keys(updateRules).join(", ")} or null`, o.updateRule);
  }
  const num = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
  if (!num(o.lrDecay) || o.lrDecay < 0) bad("options.lrDecay", "a number >= 0", o.lrDecay);
  for (const key of ["batchSize", "numEpochs"] as const) if (!isCount(o[key])) bad(`options.${key}`, "a non-negative integer", o[key]);
  if (!isCount(o.seed) || (o.seed as number) >= 2 ** 32) bad("options.seed", "an integer in [0, 2^32)", o.seed);
  for (const key of ["numTrainSamples", "numValSamples"] as const) if (o[key] !== null && !isCount(o[key])) bad(`options.${key}`, "a positive integer or null", o[key]);
  // Checkpoints from before schedules have no lrSchedule: per-epoch lrDecay.
  const schedule = o.lrSchedule ?? null;
  if (schedule !== null && schedule !== "custom") {
    const c = schedule as Record<string, unknown>;
    if (typeof c !== "object" || Array.isArray(c) || c.type !== "cosine" || !num(c.warmupEpochs) || c.warmupEpochs < 0 || !num(c.minLearningRate) || c.minLearningRate < 0 || Object.keys(c).length !== 3) {
      bad("options.lrSchedule", `null, "custom" or { type: "cosine", warmupEpochs, minLearningRate }`, schedule);
    }
  }
  if (o.weightDecayParams !== undefined && o.weightDecayParams !== "weights") bad("options.weightDecayParams", `"weights" or absent`, o.weightDecayParams);
  // Only runs with augmentation store a list (files without one read as before).
  if (o.augment !== undefined) {
    try {
      o.augment = checkAugmentations("checkpoint", "solver options.augment", o.augment);
    } catch (error) {
      fail(error instanceof Error ? error.message.replace(/^checkpoint: /, "") : String(error));
    }
  }
  for (const key of ["epoch", "iteration", "iterationsPerEpoch", "rngState"] as const) if (!isCount(s[key])) bad(key, "a non-negative integer", s[key]);
  if (!num(s.bestValAcc) || s.bestValAcc < 0 || s.bestValAcc > 1) bad("bestValAcc", "a number in [0, 1]", s.bestValAcc);
  const histories: Record<string, number[]> = {};
  for (const key of ["lossHistory", "trainAccHistory", "valAccHistory"]) {
    const list = s[key];
    if (!Array.isArray(list)) return bad(key, "an array of numbers", list);
    const values = list.map(historyNumber);
    if (values.some((v) => v === undefined)) bad(key, "an array of numbers", list);
    histories[key] = values as number[];
  }
  if (histories.lossHistory.length !== s.iteration) fail(`solver lossHistory has ${histories.lossHistory.length} entries but iteration is ${s.iteration}`);
  if (histories.trainAccHistory.length !== histories.valAccHistory.length) fail(`solver trainAccHistory and valAccHistory differ in length`);
  // Checkpoints from before accuracyIterations: the Solver checked at iteration 1, then at every epoch end.
  let accuracyIterations: number[];
  if (s.accuracyIterations === undefined) {
    accuracyIterations = legacyCheckIterations(s.iterationsPerEpoch as number, histories.valAccHistory.length);
  } else {
    const list = s.accuracyIterations;
    if (!Array.isArray(list) || list.some((v) => !isCount(v))) return bad("accuracyIterations", "an array of iteration counts", list);
    if (list.length !== histories.valAccHistory.length) fail(`solver accuracyIterations has ${list.length} entries but valAccHistory has ${histories.valAccHistory.length}`);
    accuracyIterations = list as number[];
  }
  const base = s.baseLearningRate ?? null;
  if (base !== null && (!num(base) || base < 0)) bad("baseLearningRate", "a number >= 0 or null", base);
  const configs = s.optimConfigs as Record<string, unknown> | null;
  if (configs === null || typeof configs !== "object" || Array.isArray(configs)) return bad("optimConfigs", "an object", configs);
  for (const [key, config] of Object.entries(configs)) {
    if (config === null || typeof config !== "object" || Array.isArray(config)) bad(`optimConfigs.${key}`, "an object", config);
    for (const [field, value] of Object.entries(config as Record<string, unknown>)) {
      if (!(OPTIM_NUMBERS as readonly string[]).includes(field)) fail(`solver optimConfigs.${key} has unknown field "${field.slice(0, 40)}"`);
      if (!num(value) || value < 0) bad(`optimConfigs.${key}.${field}`, "a finite number >= 0", value);
      if (field === "t" && !Number.isInteger(value)) bad(`optimConfigs.${key}.t`, "an integer", value);
    }
  }
  const { updateRule, lrSchedule, ...rest } = o;
  void lrSchedule;
  return {
    options: {
      ...(rest as unknown as SolverCheckpoint["options"]),
      ...(updateRule === null ? {} : { updateRule: updateRule as UpdateRuleName }),
      ...(schedule === null || schedule === "custom" ? {} : { lrSchedule: schedule as Required<CosineSchedule> }),
    },
    customUpdateRule: updateRule === null,
    customLrSchedule: schedule === "custom",
    accuracyIterations,
    baseLearningRate: base as number | null,
    epoch: s.epoch as number,
    iteration: s.iteration as number,
    iterationsPerEpoch: s.iterationsPerEpoch as number,
    rngState: s.rngState as number,
    bestValAcc: s.bestValAcc as number,
    lossHistory: histories.lossHistory,
    trainAccHistory: histories.trainAccHistory,
    valAccHistory: histories.valAccHistory,
    optimConfigs: configs as Record<string, Record<string, number>>,
    hasBest: s.hasBest === true,
  };
}

/** The Solver's accuracy checks before it recorded them: iteration 1, then every epoch end. */
function legacyCheckIterations(perEpoch: number, count: number): number[] {
  const out = count > 0 ? [1] : [];
  for (let k = 1; out.length < count; k++) if (k * perEpoch !== 1) out.push(k * perEpoch);
  return out;
}

/** Whether this machine stores numbers little-endian (asked when needed: no work at module load). */
const littleEndian = () => new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;


function littleEndianBytes(data: Float32Array | Float64Array): Uint8Array {
  if (littleEndian()) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float64Array) view.setFloat64(8 * i, data[i], true);
    else view.setFloat32(4 * i, data[i], true);
  }
  return out;
}
