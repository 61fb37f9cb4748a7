// Model-level checkpoints as safetensors bytes (platform-neutral: Node writes them to disk with
// src/node/checkpoint-file.ts, a browser can keep them in IndexedDB or offer a download).
//
// Tensors (F32, or F64 for a float64 model; PyTorch's `safetensors` reads both):
//   <param>                          the parameters to use (with a Solver: the best seen by
//                                    validation accuracy, or the last under keep: "last"; with
//                                    emaDecay, of the moving average), e.g. W1, b1, ...
//   buffers.<name>                   non-parameter state such as batch-norm running statistics
//   resume.params.<param>            with a Solver: the LAST parameters, which training continues from
//   resume.buffers.<name>            with a Solver: the last buffers
//   resume.optim.<key>.<state>       with a Solver: update-rule state (m, v, velocity, cache) per
//                                    config key ("all" for the flat region, else a param name)
//   resume.average.params.<param>    with a Solver keeping a moving average (emaDecay), after its
//   resume.average.buffers.<name>    first step: the average itself, which a resumed run updates on
// Metadata (strings):
//   format "tensorlane-checkpoint", format_version "1", tensorlane_version,
//   model   JSON { kind, config, rngState, frozen? } (frozen: the frozen parameters' names, when any)
//   solver  JSON (with a Solver): Solver.state() without its tensors, in the stored form of
//           src/training/run-state.ts (options, counters, sampling position, histories,
//           accuracy-check iterations, best accuracy, optimizer numbers)
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
import { MODEL_KINDS, modelKindOf, type CheckpointableModel } from "../models/kinds.js";
import type { Tensor } from "../core/tensor.js";
import {
  bufferKey,
  decodeSolverState,
  encodeSolverState,
  optimStateMismatch,
  resumeOptions,
  updateTargets,
  type ResumeOptions,
  type SolverState,
  type Values,
} from "./run-state.js";
import { describe } from "../core/validate.js";
import { VERSION } from "../core/version.js";
import { crc32 } from "../io/crc32.js";
import { FileFormatError } from "../io/format-error.js";
import { decodeSafetensors, encodeSafetensorsParts, type SafetensorsTensor } from "../io/safetensors.js";

/** The `format` metadata value that marks a safetensors file as a tensorlane checkpoint. */
export const CHECKPOINT_FORMAT = "tensorlane-checkpoint";
/** The checkpoint layout version in the `format_version` metadata; loadCheckpoint refuses other versions. */
export const CHECKPOINT_FORMAT_VERSION = "1";

/**
 * What saving needs of the Solver training a model (a Solver is one).
 *
 * @inline
 */
export interface CheckpointSolver {
  /** The model being trained: it must be the checkpoint's model. */
  readonly model: object;
  /** Whether the model holds the best parameters (after train()) rather than the last ones. */
  readonly holdsBest: boolean;
  /** While holdsBest: the last parameters and buffers, named as in SolverState.best. */
  lastState(): Record<string, Values>;
  /** The run's state as plain data (options, counters, histories, optimizer state). */
  state(): SolverState;
}

/**
 * What resuming needs of a Solver (a Solver is one).
 *
 * @inline
 */
export interface ResumableSolver {
  /** The model being trained: it must be the loaded checkpoint's model. */
  readonly model: object;
  /** Puts the run where the state says (see Solver.restoreState). */
  restoreState(state: SolverState): void;
}

/** What saveCheckpoint stores: a model, optionally its Solver (to resume training) and metadata. */
export interface SaveCheckpointOptions {
  /** The model whose config, parameters and buffers are saved (FullyConnectedNet, DeepConvNet, Sequential). */
  model: CheckpointableModel;
  /** The Solver training the model: adds what resuming needs (optimizer state, histories, ...). */
  solver?: CheckpointSolver;
  /** The caller's metadata, JSON-serialisable (data normalization, seed, ...). */
  meta?: Record<string, unknown>;
}

/** What a checkpoint says about the Solver that wrote it. */
export interface SolverCheckpoint {
  /**
   * Options for `new Solver(model, data, { ...options, numEpochs })`: the same rule, sampling,
   * batches and schedule. `updateRule` is absent when the run used a custom rule function
   * (`customUpdateRule`), `lrSchedule` when it used a schedule function (`customLrSchedule`):
   * pass the same function.
   */
  options: ResumeOptions;
  /** True when the run used an update-rule function rather than a built-in name: pass the same function to resume. */
  customUpdateRule: boolean;
  /** True when the run used a learning-rate schedule function: pass the same function to resume. */
  customLrSchedule: boolean;
  /** Epochs completed. */
  epoch: number;
  /** Iterations done (= lossHistory.length). */
  iteration: number;
  /** Iterations per epoch: max(floor(numTrain / batchSize), 1). */
  iterationsPerEpoch: number;
  /** Position in the Solver's sampling stream (counters used so far). */
  rngState: number;
  /** Best validation accuracy seen, a fraction in [0, 1]. */
  bestValAcc: number;
  /** False when no accuracy check had happened yet, or under keep: "last" (the stored params are then the last ones). */
  hasBest: boolean;
  /** Training loss of every iteration so far. */
  lossHistory: number[];
  /** Training accuracy (fraction in [0, 1]) at each accuracy check. */
  trainAccHistory: number[];
  /** Validation accuracy (fraction in [0, 1]) at each accuracy check. */
  valAccHistory: number[];
  /** The iteration of each accuracy check (derived for checkpoints that predate it). */
  accuracyIterations: number[];
  /** The learning rate schedules start from (null when the checkpoint predates it). */
  baseLearningRate: number | null;
  /** Update-rule hyperparameters per config key as they were (learning rate after decay, Adam's t). */
  optimConfigs: Record<string, Record<string, number>>;
}

/** What loadCheckpoint returns: the rebuilt model, the caller's metadata and the Solver's state if saved. */
export interface LoadedCheckpoint {
  /** The model class name ("FullyConnectedNet", "DeepConvNet"). */
  kind: string;
  /** A new model built from the stored config, holding the stored parameters and buffers (the best, or the last under keep: "last"). */
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
  resume(solver: ResumableSolver): void;
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
    const state = solver.state();
    const current = namedValues(model);
    const best = last === null || state.best === null ? state.best : current;
    // The best parameters; else the average (keep "last" with emaDecay); else the last ones.
    const toUse = best ?? state.average ?? current;
    const toResume = last ?? current;
    for (const [name, t] of Object.entries(model.params)) put(name, t.shape, toUse[name]);
    for (const [name, t] of Object.entries(buffers)) put(`buffers.${name}`, t.shape, toUse[bufferKey(name)]);
    for (const [name, t] of Object.entries(model.params)) put(`resume.params.${name}`, t.shape, toResume[name]);
    for (const [name, t] of Object.entries(buffers)) put(`resume.buffers.${name}`, t.shape, toResume[bufferKey(name)]);
    if (state.average !== null) {
      for (const [name, t] of Object.entries(model.params)) put(`resume.average.params.${name}`, t.shape, state.average[name]);
      for (const [name, t] of Object.entries(buffers)) put(`resume.average.buffers.${name}`, t.shape, state.average[bufferKey(name)]);
    }
    const stored = encodeSolverState({ ...state, best });
    for (const [name, t] of stored.tensors) put(`resume.optim.${name}`, t.shape, t.data);
    solverJson = stored.json;
  } else {
    for (const [name, t] of Object.entries(model.params)) put(name, t.shape, t.toArray());
    for (const [name, t] of Object.entries(buffers)) put(`buffers.${name}`, t.shape, t.toArray());
  }

  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_FORMAT_VERSION,
    tensorlane_version: VERSION,
    model: JSON.stringify({
      kind,
      config: model.config,
      rngState: typeof model.rngState === "number" ? model.rngState : 0,
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
    if (key !== "crc32_metadata")
      Object.defineProperty(out, key, { value: hex(crc32(utf8.encode(value))), enumerable: true, configurable: true, writable: true });
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
    if (!Object.hasOwn(want, key)) fail(`the header is damaged: metadata ${clip(key)} is not among the keys its checksums list (a damaged key name?)`);
  }
  for (const [key, crc] of Object.entries(want)) {
    if (!Object.hasOwn(got, key)) fail(`the header is damaged: metadata ${clip(key)} is missing (its checksum is listed)`);
    if (got[key] !== crc)
      fail(`the header is damaged: metadata ${clip(key)} has CRC-32 ${got[key]}, the file says ${typeof crc === "string" ? crc.slice(0, 8) : describe(crc)}`);
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
  const missing = names.filter((n) => !Object.hasOwn(tensors, n));
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
    fail(
      `not a tensorlane checkpoint (its metadata has no format "${CHECKPOINT_FORMAT}"${metadata.format === undefined ? "" : `, it says ${JSON.stringify(metadata.format.slice(0, 40))}`})`,
    );
  }
  if (metadata.format_version !== CHECKPOINT_FORMAT_VERSION) {
    fail(
      `checkpoint format version ${JSON.stringify(metadata.format_version ?? null)} is not one this tensorlane (${VERSION}) reads (${CHECKPOINT_FORMAT_VERSION})`,
    );
  }
  const expectedCrc = metadata.crc32;
  if (typeof expectedCrc !== "string" || !/^[0-9a-f]{8}$/.test(expectedCrc)) fail(`metadata crc32 is missing or malformed`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(0, true);
  const actualCrc = hex(crc32(bytes.subarray(8 + headerLength)));
  if (actualCrc !== expectedCrc) {
    fail(
      `the tensor data is corrupted: ${damagedTensors(tensors, metadata) ?? `the data section (after the header) has CRC-32 ${actualCrc}, the file says ${expectedCrc}`}`,
    );
  }

  const modelInfo = parseJsonObject(fail, metadata, "model");
  const kind = modelInfo.kind;
  if (typeof kind !== "string" || !Object.hasOwn(MODEL_KINDS, kind)) {
    fail(`model kind ${describe(kind)} is not one this tensorlane knows (${Object.keys(MODEL_KINDS).join(", ")})`);
  }
  const config = modelInfo.config;
  if (config === null || typeof config !== "object" || Array.isArray(config)) fail(`model config must be an object (got ${describe(config)})`);
  const modelRng = modelInfo.rngState;
  if (!isCount(modelRng)) fail(`model rngState must be a non-negative integer (got ${describe(modelRng)})`);
  const frozen = modelInfo.frozen;
  if (frozen !== undefined && (!Array.isArray(frozen) || frozen.some((n) => typeof n !== "string")))
    fail(`model frozen must be an array of parameter names (got ${describe(frozen)})`);
  const meta = metadata.meta === undefined ? {} : parseJsonObject(fail, metadata, "meta");
  const rawTensor = (name: string) => (Object.hasOwn(tensors, name) ? tensors[name] : undefined);
  const saved =
    metadata.solver === undefined
      ? null
      : decodeSolverState(
          parseJsonObject(fail, metadata, "solver"),
          (key, field) => rawTensor(`resume.optim.${key}.${field}`),
          (m) => fail(`solver ${m}`),
        );

  let model: CheckpointableModel;
  try {
    model = new MODEL_KINDS[kind as string](config as never);
  } catch (error) {
    return fail(`${kind} rejected the stored model config (${error instanceof Error ? error.message : String(error)})`);
  }
  try {
    const used = new Set<string>();
    const take = (name: string, target: Tensor, role: string): Values => {
      const t = rawTensor(name);
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
    const resumeParams: Record<string, Values> = {};
    const resumeBuffers: Record<string, Values> = {};
    if (saved) {
      for (const [name, t] of Object.entries(model.params)) resumeParams[name] = take(`resume.params.${name}`, t, `parameter ${name}`);
      for (const [name, t] of Object.entries(buffers)) resumeBuffers[name] = take(`resume.buffers.${name}`, t, `buffer ${name}`);
      if (saved.state.averageUpdates > 0) {
        const average: Record<string, Values> = {};
        for (const [name, t] of Object.entries(model.params)) average[name] = take(`resume.average.params.${name}`, t, `the average of parameter ${name}`);
        for (const [name, t] of Object.entries(buffers)) average[bufferKey(name)] = take(`resume.average.buffers.${name}`, t, `the average of buffer ${name}`);
        saved.state.average = average;
      }
      const configs = saved.state.optimConfigs;
      const targets = updateTargets(model, saved.state.options.updateRule !== null);
      for (const [key, target] of targets) {
        if (!Object.hasOwn(configs, key)) continue;
        for (const field of Object.keys(configs[key].tensors))
          take(`resume.optim.${key}.${field}`, target, `the ${field} state of ${key === "all" ? "all parameters" : key}`);
      }
      const problem = optimStateMismatch(configs, targets, "optimConfigs");
      if (problem !== null) fail(`solver ${problem}`);
    }
    const extra = Object.keys(tensors).filter((name) => !used.has(name));
    if (extra.length > 0) {
      fail(
        `unexpected tensor${extra.length > 1 ? "s" : ""} ${extra
          .slice(0, 5)
          .map((n) => `"${n.slice(0, 60)}"`)
          .join(", ")}${extra.length > 5 ? ", ..." : ""} that a ${kind} with this config does not have`,
      );
    }
    if (typeof model.rngState === "number") model.rngState = modelRng as number;
    if (frozen !== undefined) {
      const names = frozen as string[];
      const unknown = names.filter((n) => !Object.hasOwn(model.params, n));
      if (unknown.length > 0 || typeof model.freeze !== "function")
        fail(`model frozen names ${unknown.length > 0 ? `"${unknown[0]}", not a parameter of the model` : `parameters, but a ${kind} cannot freeze`}`);
      model.freeze!(names);
    }

    const loaded: LoadedCheckpoint = {
      kind: kind as string,
      model,
      meta,
      version: typeof metadata.tensorlane_version === "string" ? metadata.tensorlane_version : "unknown",
      solver: saved && solverCheckpoint(saved.state, saved.hasBest),
      resume(solver: ResumableSolver): void {
        if (saved === null)
          throw new RangeError(`LoadedCheckpoint.resume: ${what} was saved without a Solver: it holds a model to evaluate, not a training run to resume`);
        resumeSolver(model, saved, solver, resumeParams, resumeBuffers);
      },
    };
    return loaded;
  } catch (error) {
    model.dispose();
    throw error;
  }
}

function resumeSolver(
  model: CheckpointableModel,
  saved: { state: SolverState; hasBest: boolean },
  solver: ResumableSolver,
  params: Record<string, Values>,
  buffers: Record<string, Values>,
): void {
  const fn = "LoadedCheckpoint.resume";
  if (solver === null || typeof solver !== "object" || solver.model !== model) {
    throw new TypeError(
      `${fn}: solver must be a Solver over this checkpoint's model (new Solver(checkpoint.model, data, { ...checkpoint.solver.options, numEpochs }))`,
    );
  }
  // The model holds the stored (best) parameters until now: they become the Solver's best snapshot.
  const state = { ...saved.state, best: saved.hasBest ? namedValues(model) : null };
  try {
    solver.restoreState(state); // checks the solver continues this run before changing anything
  } catch (error) {
    if (error instanceof RangeError && /would not continue the saved run/.test(error.message)) {
      throw new RangeError(
        `${fn}: ${error.message.replace(/^Solver\.restoreState: /, "")} (Make it with { ...checkpoint.solver.options, numEpochs } and the same data)`,
      );
    }
    throw error;
  }
  for (const [name, t] of Object.entries(model.params)) t.set(params[name]);
  for (const [name, t] of Object.entries(model.buffers ?? {})) t.set(buffers[name]);
}

/** The model's parameters and buffers by name, as SolverState.best names them. */
function namedValues(model: CheckpointableModel): Record<string, Values> {
  return Object.fromEntries([
    ...Object.entries(model.params).map(([name, t]) => [name, t.toArray()]),
    ...Object.entries(model.buffers ?? {}).map(([name, t]) => [bufferKey(name), t.toArray()]),
  ]);
}

/** What LoadedCheckpoint.solver says of a stored run. */
function solverCheckpoint(state: SolverState, hasBest: boolean): SolverCheckpoint {
  return {
    options: resumeOptions(state.options),
    customUpdateRule: state.options.updateRule === null,
    customLrSchedule: state.options.lrSchedule === "custom",
    accuracyIterations: state.accuracyIterations,
    baseLearningRate: state.baseLearningRate,
    epoch: state.epoch,
    iteration: state.iteration,
    iterationsPerEpoch: state.iterationsPerEpoch,
    rngState: state.rngState,
    bestValAcc: state.bestValAcc,
    lossHistory: state.lossHistory,
    trainAccHistory: state.trainAccHistory,
    valAccHistory: state.valAccHistory,
    optimConfigs: Object.fromEntries(Object.entries(state.optimConfigs).map(([key, c]) => [key, c.numbers])),
    hasBest,
  };
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
