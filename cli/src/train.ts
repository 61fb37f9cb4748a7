// `tensorlane train`: data -> model -> Solver with a progress display, a checkpoint written
// atomically at every epoch end (so an interrupted run resumes from its last epoch), and at the
// end validation/test accuracy, wall time and a picture of the curves.
import { existsSync, mkdirSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import {
  DeepConvNet,
  FileFormatError,
  FullyConnectedNet,
  models,
  init,
  runtimeInfo,
  loadCheckpoint,
  Solver,
  VERSION,
  type CheckpointableModel,
  type LoadedCheckpoint,
  type ProgressEvent,
  type SolverOptions,
  type UpdateRuleName,
  type WeightScale,
  type Augmentation,
  type Normalization,
  internal,
} from "tensorlane";
import { decodeNormalization, encodeNormalization } from "tensorlane/data";
import { readFileBytes } from "tensorlane/node";
import { importOnnx, onnxMetadata } from "tensorlane/onnx";
import { predictTest, prepareData, type DataRecord, type RunData } from "./data.js";
import { CliError } from "./errors.js";
import { formatNumber, plural, shellArg } from "./format.js";
import { checkParent, guardWrite, setFarewell, watchRun, whenParentGone } from "./parent-watch.js";
import { createProgress, formatDuration, type Output } from "./progress.js";
import {
  describeWriteFailure,
  removeEmptyFolders,
  removeStaleTemporaryFiles,
  removeTemporaryFilesOf,
  RUN_FILES,
  RunFolderWriter,
  RunWriteError,
} from "./run-files.js";
import { lockRunFolder, type RunLock } from "./run-lock.js";
import { bestEpochOf, summaryJson, trainingSvg, type RunReport } from "./run-report.js";
import { CHILD_ENV, type ChildMessage } from "./supervise.js";

// Destructured (not internal.x at each use): the bundle then imports the namespace, an export of dist/tensorlane.js.
const { deriveSeed, checkpointParts, DEFAULT_LEARNING_RATES } = internal;

export const UPDATE_RULES: Record<string, UpdateRuleName> = {
  sgd: "sgd",
  momentum: "sgdMomentum",
  nesterov: "sgdNesterov",
  adagrad: "adagrad",
  rmsprop: "rmsprop",
  adam: "adam",
  adamw: "adamw",
};

export interface TrainOptions {
  model: "fc" | "conv" | "resnet";
  hidden: number[];
  filters: number[];
  /** resnet: channels of each stage. */
  widths: number[];
  /** resnet: basic blocks per stage (one number for all, or one per stage). */
  blocks: number[];
  /** resnet: whether the first stage halves the image too. */
  downsampleFirst: boolean;
  /** resnet: whether each block's last batch norm starts with gamma 0. */
  zeroInitResidual: boolean;
  /** resnet: label smoothing of the training loss. */
  labelSmoothing: number;
  pools?: number[];
  batchnorm: boolean;
  dropout: number;
  reg: number;
  weightScale: WeightScale;
  update: keyof typeof UPDATE_RULES;
  lr?: number;
  /** Decoupled weight decay (default: the rule's, 0.01 for adamw, else 0). */
  weightDecay?: number;
  /** Which parameters weightDecay shrinks: "all" or "weights" (rank 2+: no biases, no norms). */
  decay: "all" | "weights";
  lrDecay: number;
  /** "decay": lrDecay after every epoch; "cosine": cosine annealing per iteration after warmupEpochs of linear warm-up. */
  lrSchedule: "decay" | "cosine";
  warmupEpochs?: number;
  epochs?: number;
  batchSize: number;
  seed: number;
  augment?: Augmentation[];
  data?: string;
  val?: number;
  /** The parameters the run ends with: the best by validation accuracy, or the last epoch's. */
  keep: "best" | "last";
  /** The decay of a moving average of the parameters, which the run checks, tests and saves. */
  ema?: number;
  trainSamples?: number;
  /** Train and test on these classes only, relabelled 0, 1, ... in this order. */
  classes?: number[];
  out?: string;
  name?: string;
  resume?: string;
  force?: boolean;
  /** Start from this file's weights: an ONNX model or a checkpoint (a new run, any options). */
  from?: string;
  /** Parameters to freeze (a regular expression over their names); needs a Sequential. */
  freeze?: string;
  /** Threads for the kernels (does not change the results, so not part of the run). */
  threads?: number | "auto";
  /** "flip": also report the test accuracy with test-time flips (not part of the run either). */
  tta?: "none" | "flip";
}

/** Options that define the run: with --resume they come from the checkpoint. */
export const RUN_DEFINING = [
  "model",
  "hidden",
  "filters",
  "widths",
  "blocks",
  "downsampleFirst",
  "zeroInitResidual",
  "labelSmoothing",
  "pools",
  "batchnorm",
  "dropout",
  "reg",
  "weightScale",
  "update",
  "lr",
  "weightDecay",
  "decay",
  "lrDecay",
  "lrSchedule",
  "warmupEpochs",
  "batchSize",
  "seed",
  "val",
  "keep",
  "ema",
  "trainSamples",
  "classes",
  "augment",
  "from",
  "freeze",
] as const;

/** What a run-defining option's value was in checkpoints written before the option existed. */
const BEFORE_THE_OPTION: Partial<Record<(typeof RUN_DEFINING)[number], unknown>> = { keep: "best", ema: null, zeroInitResidual: false };

/** What a CLI checkpoint's meta holds. */
interface RunMeta {
  data: DataRecord;
  seed: number;
  /** `options`: the run-defining options' values as the run used them (absent in older files). */
  cli: { model: string; update: string; options?: Record<string, unknown> };
}

/** The run-defining options' values as a run uses them (defaults filled in). */
function runDefiningValues(o: TrainOptions, data: DataRecord): Record<string, unknown> {
  return {
    model: o.model,
    hidden: o.hidden,
    filters: o.filters,
    widths: o.widths,
    blocks: o.blocks,
    downsampleFirst: o.downsampleFirst,
    zeroInitResidual: o.zeroInitResidual,
    labelSmoothing: o.labelSmoothing,
    pools: o.pools ?? o.filters.map((_, i) => i),
    batchnorm: o.batchnorm,
    dropout: o.dropout,
    reg: o.reg,
    weightScale: o.weightScale,
    update: o.update,
    lr: o.lr ?? DEFAULT_LEARNING_RATES[UPDATE_RULES[o.update]],
    weightDecay: o.weightDecay ?? (o.update === "adamw" ? 0.01 : 0),
    decay: o.decay,
    lrDecay: o.lrDecay,
    lrSchedule: o.lrSchedule,
    warmupEpochs: o.warmupEpochs ?? null,
    batchSize: o.batchSize,
    seed: o.seed,
    val: data.valCount,
    keep: o.keep,
    ema: o.ema ?? null,
    trainSamples: o.trainSamples ?? null,
    classes: o.classes ?? null,
    from: o.from === undefined ? null : resolve(o.from),
    freeze: o.freeze ?? null,
  };
}

function showValue(v: unknown): string {
  if (Array.isArray(v)) return v.join(",");
  if (typeof v === "number") return formatNumber(v);
  return v === null || v === undefined ? "(default)" : String(v);
}

/** --lr-schedule / --warmup-epochs / --lr-decay as Solver options (an explicit --lr-decay does not combine with cosine). */
function scheduleOptions(o: TrainOptions, given: ReadonlySet<string>): Pick<SolverOptions, "lrDecay" | "lrSchedule"> {
  if (o.lrSchedule === "cosine") {
    if (given.has("lrDecay")) throw new CliError("--lr-decay applies to --lr-schedule decay; --lr-schedule cosine sets the rate of every iteration");
    return { lrSchedule: { type: "cosine", warmupEpochs: o.warmupEpochs ?? 0 } };
  }
  if (o.warmupEpochs !== undefined) throw new CliError("--warmup-epochs applies to --lr-schedule cosine");
  return { lrDecay: o.lrDecay };
}

/** "lr 0.001 decay 0.9/epoch" or "lr 0.001 cosine, 2 warm-up epochs", from the Solver's own state. */
function describeSchedule(solver: Solver): string {
  const s = solver.lrSchedule;
  if (s === null)
    return `lr ${solver.learningRate === null ? "(default)" : formatNumber(solver.learningRate)}${solver.lrDecay !== 1 ? ` decay ${formatNumber(solver.lrDecay)}/epoch` : ""}`;
  if (typeof s === "function") return `lr from a custom schedule`;
  return `lr ${solver.baseLearningRate === null ? "(default)" : formatNumber(solver.baseLearningRate)} cosine${s.minLearningRate ? ` to ${formatNumber(s.minLearningRate)}` : ""}${s.warmupEpochs ? `, ${plural(s.warmupEpochs, "warm-up epoch")}` : ""}`;
}

/** ", weight decay 0.05 (weights only)" when the run decays, from the Solver's own config. */
function describeWeightDecay(solver: Solver): string {
  const wd = Object.values(solver.optimConfigs)[0]?.weightDecay ?? (solver.updateRuleName === "adamw" ? 0.01 : 0);
  return wd === 0 ? "" : `, weight decay ${formatNumber(wd)}${solver.weightDecayParams === "weights" ? " (weights only)" : ""}`;
}

function optionFlag(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function describeModel(model: CheckpointableModel, kind: string): string {
  const count = Object.values(model.params)
    .reduce((n, t) => n + t.size, 0)
    .toLocaleString("en-US");
  const c = model.config as Record<string, unknown>;
  if (kind === "FullyConnectedNet") {
    const dims = [c.inputDim, ...(c.hiddenDims as number[]), c.numClasses].join("-");
    return `FullyConnectedNet ${dims}${c.normalization ? " + batchnorm" : ""}${c.dropout ? ` + dropout ${c.dropout}` : ""} (${count} params)`;
  }
  // c.batchnorm: checkpoints written before both models took `normalization`.
  if (kind === "DeepConvNet")
    return `DeepConvNet filters ${(c.numFilters as number[]).join(",")}${c.normalization || c.batchnorm ? " + batchnorm" : ""} (${count} params)`;
  if (kind === "Sequential") {
    const specs = c.modules as { type: string }[];
    const blocks = specs.filter((m) => m.type === "Residual").length;
    const smoothing = c.labelSmoothing ? `, label smoothing ${c.labelSmoothing}` : "";
    return `Sequential of ${specs.length} modules${blocks > 0 ? ` (${blocks} residual blocks)` : ""}${smoothing} (${count} params)`;
  }
  return `${kind} (${count} params)`;
}

/** " from model.onnx, 2 of 16 parameter tensors trained" for a run --from a file and/or with frozen parameters. */
function describeStart(model: CheckpointableModel, meta: RunMeta): string {
  const from = meta.cli.options?.from;
  const frozen = (model as { frozen?: readonly string[] }).frozen ?? [];
  const total = Object.keys(model.params).length;
  return `${typeof from === "string" ? ` from ${basename(from)}` : ""}${frozen.length > 0 ? `, ${total - frozen.length} of ${total} parameter tensors trained` : ""}`;
}

/** Test accuracy of the model's predictions (see predictTest: the test set is scored in chunks). */
function testAccuracy(model: CheckpointableModel, data: RunData, tta: "none" | "flip" = "none"): number {
  const pred = predictTest(model as Parameters<typeof predictTest>[0], data.test, data.record.normalization, 100, tta);
  let correct = 0;
  pred.forEach((p, i) => (correct += p === data.test.labels[i] ? 1 : 0));
  return pred.length === 0 ? 0 : correct / pred.length;
}

/** Runs `fn` with the model holding the last step's parameters and buffers (when the Solver keeps others there), then puts those back. */
function withLastParameters<T>(model: CheckpointableModel, solver: Solver, fn: () => T): T {
  const last = solver.lastState();
  if (Object.keys(last).length === 0) return fn();
  const tensors = [...Object.entries(model.params), ...Object.entries(model.buffers ?? {}).map(([name, t]) => [`buffer:${name}`, t] as const)];
  const kept = tensors.map(([, t]) => t.toArray());
  tensors.forEach(([name, t]) => t.set(last[name]));
  try {
    return fn();
  } finally {
    tensors.forEach(([, t], i) => t.set(kept[i]));
  }
}

/** The --augment syntax back from the list (what the run used, also when resumed). */
function describeAugment(list: readonly Augmentation[]): string {
  return list
    .map((a) =>
      a.type === "randomFlip"
        ? a.p === undefined
          ? "flip"
          : `flip:${a.p}`
        : a.type === "randomCrop"
          ? `crop:${a.padding}`
          : a.type === "cutout"
            ? `cutout:${a.size}`
            : `mixup:${a.alpha}`,
    )
    .join(",");
}

function describeData(r: DataRecord): string {
  const name = r.source === "builtin" ? "built-in Fashion-MNIST subset" : r.source;
  const classes = r.keepClasses
    ? `${r.numClasses} classes (${r.keepClasses.join(",")} of the data${r.classes ? `: ${r.classes.join(", ")}` : ""})`
    : `${r.numClasses} classes`;
  return `${name}: ${r.numTrain} train / ${r.numVal} val, ${r.shape[1]}x${r.shape[2]}x${r.shape[0]}, ${classes}`;
}

/** Options that shape a new model: they do not combine with --from (the file has the model). */
const MODEL_SHAPING = [
  "model",
  "hidden",
  "filters",
  "widths",
  "blocks",
  "downsampleFirst",
  "zeroInitResidual",
  "labelSmoothing",
  "pools",
  "batchnorm",
  "dropout",
  "reg",
  "weightScale",
] as const;

/**
 * The model of a new run: built from the options, or read from --from (an ONNX file, given a new
 * head when the data has other classes, or a checkpoint's model), then frozen by --freeze.
 */
async function newModel(
  o: TrainOptions,
  given: ReadonlySet<string>,
  data: DataRecord,
  start: StartFile | null,
): Promise<{ model: CheckpointableModel; kind: string }> {
  let made: { model: CheckpointableModel; kind: string };
  if (start === null) made = buildModel(o, data);
  else {
    const clash = MODEL_SHAPING.filter((k) => given.has(k));
    if (clash.length > 0)
      throw new CliError(
        `${clash.map(optionFlag).join(", ")} shape${clash.length === 1 ? "s" : ""} a new model; with --from the model comes from ${o.from}: drop ${clash.length === 1 ? "it" : "them"}`,
      );
    made = modelFrom(start, data, deriveSeed(o.seed, 102));
  }
  if (o.freeze !== undefined) freezeMatching(made.model, o.freeze);
  return made;
}

/** The file --from names: its bytes, what it is, and the input scaling it records (if any). */
interface StartFile {
  file: string;
  bytes: Uint8Array;
  isCheckpoint: boolean;
  normalization?: Normalization;
}

async function readStart(file: string): Promise<StartFile> {
  const bytes = await readFileBytes(file, { what: "model" });
  checkParent();
  // ONNX files are protobuf (no magic); checkpoints are safetensors, whose first 8 bytes are a
  // header length followed by "{" (a damaged "{" still says which by the file's name).
  const isCheckpoint = (bytes.length > 8 && bytes[8] === 0x7b) || /\.safetensors$/i.test(file);
  let recorded: unknown;
  if (isCheckpoint) {
    const ck = loadCheckpoint(bytes, file); // read again (and kept) when the model is built
    recorded = (ck.meta as { data?: { normalization?: unknown } }).data?.normalization;
    ck.model.dispose();
  } else {
    let text: string | undefined;
    try {
      text = onnxMetadata(bytes).normalization;
    } catch (error) {
      // The reader's message does not know the file: name it, and what it was read as.
      if (!(error instanceof FileFormatError)) throw error;
      throw new CliError(`--from ${file}: not a checkpoint (safetensors), and not a readable ONNX model: ${error.message}`);
    }
    try {
      recorded = text === undefined ? undefined : JSON.parse(text);
    } catch {
      throw new CliError(`--from ${file}: its metadata "normalization" is not JSON (${text})`);
    }
  }
  if (recorded === undefined) return { file, bytes, isCheckpoint };
  try {
    return { file, bytes, isCheckpoint, normalization: decodeNormalization(encodeNormalization(recorded as Normalization)) };
  } catch (error) {
    throw new CliError(`--from ${file}: its input normalization is unusable (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** --from: an .onnx file (importOnnx) or a checkpoint (loadCheckpoint), checked against the data. */
function modelFrom(start: StartFile, data: DataRecord, seed: number): { model: CheckpointableModel; kind: string } {
  const { file, bytes, isCheckpoint } = start;
  let model: CheckpointableModel;
  let kind: string;
  if (isCheckpoint) {
    ({ model, kind } = loadCheckpoint(bytes, file));
  } else {
    model = importOnnx(bytes);
    kind = "Sequential";
    const classes = (model.config as { numClasses: number }).numClasses;
    if (classes !== data.numClasses) {
      model.dispose();
      model = importOnnx(bytes, { numClasses: data.numClasses, seed }); // the last Linear replaced, initialized from the seed
    }
  }
  const config = model.config as { inputDim?: number; inputDims?: number[]; inputShape?: number[]; numClasses?: number };
  const dims = config.inputDims ?? config.inputShape;
  const fits = dims ? dims.join() === data.shape.join() : config.inputDim === data.shape[0] * data.shape[1] * data.shape[2];
  const problem = !fits
    ? `takes inputs of ${dims ? dims.join("x") : `${config.inputDim} values`} but the data's images are ${data.shape.join("x")}`
    : config.numClasses !== data.numClasses
      ? `scores ${config.numClasses} classes but the data has ${data.numClasses} (a checkpoint keeps its head; export it with tensorlane export --onnx and start --from the .onnx file, which gets a new head)`
      : null;
  if (problem !== null) {
    model.dispose();
    throw new CliError(`--from ${file}: the model ${problem}`);
  }
  return { model, kind };
}

/** --freeze: the parameters whose names match the expression stop training. */
function freezeMatching(model: CheckpointableModel, expression: string): void {
  const m = model as CheckpointableModel & { freeze?: (match: RegExp) => unknown; parameterNames?: readonly string[] };
  if (typeof m.freeze !== "function" || m.parameterNames === undefined) {
    model.dispose();
    throw new CliError("--freeze needs a model made of modules (--model resnet, or --from an ONNX file or such a checkpoint)");
  }
  let re: RegExp;
  try {
    re = new RegExp(expression);
  } catch (error) {
    model.dispose();
    throw new CliError(`--freeze ${expression}: not a regular expression (${error instanceof Error ? error.message : String(error)})`);
  }
  const names = m.parameterNames;
  const hit = names.filter((n) => re.test(n));
  if (hit.length === 0 || hit.length === names.length) {
    model.dispose();
    const what = hit.length === 0 ? "matches no parameter" : "matches every parameter (nothing would train)";
    throw new CliError(`--freeze ${expression} ${what}; the parameters are ${names.join(", ")}`);
  }
  m.freeze(re);
}

function buildModel(o: TrainOptions, data: DataRecord): { model: CheckpointableModel; kind: string } {
  const [C, H, W] = data.shape;
  const seed = deriveSeed(o.seed, 102);
  try {
    if (o.labelSmoothing > 0 && o.model !== "resnet") throw new CliError("--label-smoothing applies to --model resnet");
    if (o.downsampleFirst && o.model !== "resnet") throw new CliError("--downsample-first applies to --model resnet");
    if (o.zeroInitResidual && o.model !== "resnet") throw new CliError("--zero-init-residual applies to --model resnet");
    if (o.model === "fc") {
      const model = new FullyConnectedNet({
        hiddenDims: o.hidden,
        inputDim: C * H * W,
        numClasses: data.numClasses,
        dropout: o.dropout,
        normalization: o.batchnorm ? "batchnorm" : null,
        reg: o.reg,
        weightScale: o.weightScale,
        seed,
      });
      return { model, kind: "FullyConnectedNet" };
    }
    if (o.dropout > 0) throw new CliError("--dropout applies to --model fc only");
    if (o.model === "resnet") {
      if (o.batchnorm) throw new CliError("--batchnorm: --model resnet always has batch norm");
      if (o.reg > 0) throw new CliError("--reg applies to --model fc and conv; give --model resnet a --weight-decay (with --update adamw or any rule)");
      if (o.blocks.length !== 1 && o.blocks.length !== o.widths.length) {
        throw new CliError(`--blocks needs one count for every stage or one per stage (--widths has ${o.widths.length}), got ${o.blocks.length}`);
      }
      const model = models.resnet({
        inputShape: [C, H, W],
        numClasses: data.numClasses,
        widths: o.widths,
        blocks: o.blocks.length === 1 ? o.blocks[0] : o.blocks,
        downsampleFirst: o.downsampleFirst,
        zeroInitResidual: o.zeroInitResidual,
        labelSmoothing: o.labelSmoothing,
        seed,
      });
      return { model, kind: "Sequential" };
    }
    const model = new DeepConvNet({
      inputDims: [C, H, W],
      numFilters: o.filters,
      maxPools: o.pools ?? o.filters.map((_, i) => i),
      normalization: o.batchnorm ? "batchnorm" : null,
      numClasses: data.numClasses,
      weightScale: o.weightScale,
      reg: o.reg,
      seed,
    });
    return { model, kind: "DeepConvNet" };
  } catch (error) {
    if (error instanceof CliError) throw error;
    // The constructor's own message names the option; say which flag sets it.
    throw new CliError(`cannot build the model: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export async function runTrain(o: TrainOptions, given: ReadonlySet<string>, out: Output, err: Output = out): Promise<void> {
  const startTime = performance.now();
  await init({ threads: o.threads ?? 1 });
  checkParent();

  const outDir = resolve(
    o.out ?? (o.resume !== undefined ? dirname(resolve(o.resume)) : join("runs", o.name ?? new Date().toISOString().replace(/:/g, "-").replace(/\..*$/, ""))),
  );
  const show = (p: string) => (relative(process.cwd(), p).startsWith("..") ? p : relative(process.cwd(), p) || ".");
  // The run folder is made and locked before anything in it is read or written: one writer per run.
  let created: string | undefined;
  try {
    created = mkdirSync(outDir, { recursive: true });
  } catch (error) {
    throw new CliError(`cannot create the run folder ${show(outDir)} (${error instanceof Error ? error.message : String(error)})`);
  }
  let lock: RunLock | null = null;
  let wrote = false;
  const forget = whenParentGone(() => {
    removeTemporaryFilesOf(outDir, process.pid);
    lock?.release();
    if (!wrote && created !== undefined) removeEmptyFolders(outDir, created);
  });
  let unwatch: () => void = () => undefined;
  try {
    const commandPid = Number(process.env[CHILD_ENV]); // set by the supervising command (supervise.ts)
    lock = await lockRunFolder(outDir, {
      commandPid: Number.isSafeInteger(commandPid) && commandPid > 0 && typeof process.send === "function" ? commandPid : null,
      command: `tensorlane ${process.argv.slice(2).map(shellArg).join(" ")}`,
      note: (text) => err.write(`note: ${text}\n`),
      show,
    });
    created ??= lock.remade;
    tellParent({ type: "locked", dir: outDir, lock: lock.path, created: created ?? null });
    unwatch = watchRun({ dir: outDir, lock: lock.path, startedAt: lock.info.startedAt, created: created ?? null });
    const stale = removeStaleTemporaryFiles(outDir);
    if (stale.length > 0) err.write(`note: removed ${stale.join(", ")} from ${show(outDir)}, left by a run that was killed while writing\n`);
    wrote = await trainLocked(o, given, out, { outDir, show, startTime, onWrite: () => (wrote = true) });
  } finally {
    forget();
    unwatch();
    lock?.release();
    // A run that failed before writing anything leaves no empty folder behind.
    if (!wrote && created !== undefined) removeEmptyFolders(outDir, created);
  }
}

interface RunPlace {
  outDir: string;
  show: (path: string) => string;
  startTime: number;
  onWrite: () => void;
}

// runTrain once the run folder is locked; resolves to whether it wrote a run file.
async function trainLocked(o: TrainOptions, given: ReadonlySet<string>, out: Output, place: RunPlace): Promise<boolean> {
  const { outDir, show, startTime } = place;
  let resumed: LoadedCheckpoint | null = null;
  let runMeta: RunMeta;
  let data: RunData;
  let model: CheckpointableModel;
  let kind: string;
  const continuesHere = o.resume !== undefined && resolve(outDir) === dirname(resolve(o.resume));
  const existing = RUN_FILES.filter((f) => existsSync(join(outDir, f)));
  if (existing.length > 0 && !continuesHere && !o.force) {
    const how = o.out !== undefined ? "--out" : "--name";
    throw new CliError(
      `${show(outDir)} already holds a run (${existing.join(", ")}), which this would overwrite. ` +
        `Continue it with --resume ${show(join(outDir, "checkpoint.safetensors"))}, overwrite it with --force, or choose a new ${how}`,
    );
  }

  if (o.resume !== undefined) {
    const bytes = await readFileBytes(o.resume, { what: "checkpoint" });
    checkParent();
    resumed = loadCheckpoint(bytes, o.resume);
    if (resumed.solver === null)
      throw new CliError(`${o.resume} holds a model without its training state: it can be evaluated (tensorlane eval) but not resumed`);
    const meta = resumed.meta as unknown as RunMeta;
    if (meta?.data?.fingerprint === undefined)
      throw new CliError(`${o.resume} was not written by tensorlane train (no data record): it cannot be resumed from the CLI`);
    // Options given again with the run's own values are fine; only changes are refused.
    const recorded = meta.cli?.options;
    const saved: Record<string, unknown> = recorded === undefined ? {} : { ...BEFORE_THE_OPTION, ...recorded };
    const changed = RUN_DEFINING.filter((k) => given.has(k)).filter(
      (k) => !Object.hasOwn(saved, k) || JSON.stringify(runDefiningValues(o, meta.data)[k]) !== JSON.stringify(saved[k]),
    );
    if (changed.length > 0) {
      const values = runDefiningValues(o, meta.data);
      const what = changed.map((k) =>
        Object.hasOwn(saved, k)
          ? `${optionFlag(k)} ${showValue(values[k])} (the run has ${showValue(saved[k])})`
          : `${optionFlag(k)} ${showValue(values[k])} (this checkpoint does not record its value)`,
      );
      throw new CliError(
        `${changed.map(optionFlag).join(", ")} cannot be changed when resuming: ${what.join("; ")}. The checkpoint fixes the model, optimizer and data split: ` +
          `drop ${changed.length === 1 ? "that option" : "those options"} (or give the run's values), or start a new run without --resume`,
      );
    }
    runMeta = meta;
    data = await prepareData({
      source: o.data === undefined ? meta.data.source : resolve(o.data),
      keepClasses: meta.data.keepClasses ?? null,
      trainSamples: meta.data.trainSamples,
      valCount: meta.data.valCount,
      seed: meta.data.seed,
      expect: meta.data,
    });
    model = resumed.model;
    kind = resumed.kind;
  } else {
    // A model from a file keeps the input scaling it was trained with, when the file says it.
    const start = o.from === undefined ? null : await readStart(o.from);
    data = await prepareData({
      source: o.data === undefined ? "builtin" : resolve(o.data),
      normalization: start?.normalization,
      keepClasses: o.classes ?? null,
      trainSamples: o.trainSamples ?? null,
      valCount: o.val ?? null,
      seed: o.seed,
    });
    ({ model, kind } = await newModel(o, given, data.record, start));
    runMeta = {
      data: data.record,
      seed: o.seed,
      cli: { model: o.from === undefined ? o.model : "from", update: o.update, options: runDefiningValues(o, data.record) },
    };
  }
  checkParent();

  const checkpointPath = join(outDir, "checkpoint.safetensors");
  const svgPath = join(outDir, "training.svg");
  const summaryPath = join(outDir, "summary.json");
  const files = new RunFolderWriter(outDir, { check: checkParent, guard: guardWrite });

  const saved = resumed?.solver;
  const numEpochs = o.epochs ?? saved?.options.numEpochs ?? 10;
  const solver = new Solver(
    model,
    data.solverData,
    saved
      ? { ...saved.options, numEpochs, verbose: false } // the CLI only writes built-in rules and schedules
      : {
          updateRule: UPDATE_RULES[o.update],
          optimConfig: { ...(o.lr === undefined ? {} : { learningRate: o.lr }), ...(o.weightDecay === undefined ? {} : { weightDecay: o.weightDecay }) },
          ...(o.decay === "weights" ? { weightDecayParams: "weights" as const } : {}),
          ...(o.keep === "last" ? { keep: "last" as const } : {}),
          ...(o.ema === undefined ? {} : { emaDecay: o.ema }),
          ...scheduleOptions(o, given),
          batchSize: o.batchSize,
          numEpochs,
          numTrainSamples: 1000,
          numValSamples: null,
          seed: deriveSeed(o.seed, 103),
          verbose: false,
          augment: o.augment ?? [],
        },
  );
  resumed?.resume(solver);
  const perEpoch = solver.iterationsPerEpoch;
  const numIterations = numEpochs * perEpoch;
  const startIteration = solver.lossHistory.length;
  if (resumed && startIteration >= numIterations) {
    throw new CliError(
      `the run in ${o.resume} already did ${plural(solver.epoch, "epoch")}; pass --epochs with a larger total (e.g. --epochs ${solver.epoch + 5}) to train further`,
    );
  }
  // The checkpoint that is intact on disk now, and its epoch (a resumed run starts from one).
  let savedEpoch: number | null = resumed && continuesHere ? solver.epoch : null;
  const farewell = () =>
    setFarewell(
      savedEpoch === null
        ? "No epoch had finished: run the same command again to start over."
        : `The checkpoint of epoch ${savedEpoch}/${numEpochs} is intact: ${show(checkpointPath)}\nResume with:\n  tensorlane train --resume ${shellArg(show(checkpointPath))}`,
    );
  farewell();
  tellParent({ type: "run", checkpoint: show(checkpointPath), epoch: savedEpoch ?? 0, numEpochs });

  const rule = Object.entries(UPDATE_RULES).find(([, r]) => r === solver.updateRuleName)?.[0] ?? "custom";
  const description = describeModel(model, kind) + describeStart(model, runMeta);
  out.write(`tensorlane ${VERSION} · ${description}\n`);
  out.write(`data: ${describeData(data.record)}, ${data.test.labels.length} test\n`);
  if (o.threads !== undefined && o.threads !== 1) {
    const info = runtimeInfo();
    out.write(`threads: ${info.threads}${info.reason ? ` (${info.reason})` : ""}\n`);
  }
  out.write(
    `training: ${rule} ${describeSchedule(solver)}${describeWeightDecay(solver)}, ` +
      `${plural(numEpochs, "epoch")} x ${plural(perEpoch, "batch", "batches")} of ${solver.batchSize}` +
      (solver.augment.length > 0 ? `, augment ${describeAugment(solver.augment)}` : "") +
      (solver.emaDecay === null ? "" : `, moving average ${solver.emaDecay}`) +
      (resumed ? `, resuming after epoch ${solver.epoch} (iteration ${startIteration})` : "") +
      `\ncheckpoint after every epoch: ${show(checkpointPath)} (continue an interrupted run with --resume ${show(checkpointPath)})\n`,
  );

  if (saved?.options.lrSchedule && numEpochs !== saved.options.numEpochs) {
    out.write(
      `note: the cosine schedule anneals over the new total, ${numEpochs} epochs (the run started with ${saved.options.numEpochs}): the rest of its curve is stretched\n`,
    );
  }

  const progress = createProgress(out, { numEpochs, iterationsPerEpoch: perEpoch, batchSize: solver.batchSize, startIteration }, numIterations);
  const trainStart = performance.now();
  const report = (testAccuracy: number | null = null, testAccuracyFlipTta: number | null = null, testAccuracyRaw: number | null = null): RunReport => ({
    model,
    kind,
    description,
    solver,
    data,
    numEpochs,
    testAccuracy,
    testAccuracyFlipTta,
    testAccuracyRaw,
    trainSeconds: (performance.now() - trainStart) / 1000,
    wallSeconds: (performance.now() - startTime) / 1000,
  });
  const reportFiles = (r: RunReport) =>
    [
      ["summary.json", new TextEncoder().encode(summaryJson(r))],
      ["training.svg", new TextEncoder().encode(trainingSvg(r))],
    ] as const;
  const writeFailure = (error: RunWriteError): CliError => {
    const { what, fix } = describeWriteFailure(error.code, show(outDir));
    const done = solver.epoch;
    let text = `could not write ${show(error.path)}${done > 0 ? ` after epoch ${done}/${numEpochs}` : ""}: ${what}. Training stopped; the failed write left nothing behind.\n`;
    if (savedEpoch === null) text += `No epoch's checkpoint was saved. ${fix}, then run the same command again.`;
    else if (savedEpoch === numEpochs && done === numEpochs)
      text += `Training finished and its checkpoint is intact: ${show(checkpointPath)}. ${fix}; \`tensorlane eval --checkpoint ${shellArg(show(checkpointPath))}\` gives its test accuracy.`;
    else
      text += `The checkpoint of epoch ${savedEpoch}/${numEpochs} is intact: ${show(checkpointPath)}\n${fix}, then resume with:\n  tensorlane train --resume ${shellArg(show(checkpointPath))}`;
    return new CliError(text);
  };

  solver.onProgress = (event: ProgressEvent) => {
    checkParent(); // between steps: a trainer whose command died stops within a step
    progress.update(event);
    if (event.iteration % perEpoch !== 0) return;
    // Epoch end: the model holds the last params (train() restores the best only after the loop).
    const epoch = event.iteration / perEpoch;
    // The checkpoint, the summary and the plot of this epoch, renamed into place together.
    files.writeTogether([
      ["checkpoint.safetensors", checkpointParts({ model, solver, meta: runMeta as unknown as Record<string, unknown> })],
      ...reportFiles(report()),
    ]);
    place.onWrite();
    savedEpoch = epoch;
    farewell();
    // Under the supervisor (bin.ts): what to print if the run is interrupted from now on.
    tellParent({ type: "saved", checkpoint: show(checkpointPath), epoch, numEpochs });
    const loss = solver.lossHistory.slice(-perEpoch).filter(Number.isFinite);
    const mean = loss.reduce((a, b) => a + b, 0) / Math.max(1, loss.length);
    progress.log(
      `epoch ${epoch}/${numEpochs}  loss ${mean.toFixed(4)}  train acc ${event.trainAcc?.toFixed(4)}  val acc ${event.valAcc?.toFixed(4)}` +
        `  (${formatDuration((performance.now() - trainStart) / 1000)})`,
    );
  };
  try {
    solver.train();
  } catch (error) {
    progress.stop();
    if (error instanceof RunWriteError) throw writeFailure(error);
    const where = savedEpoch !== null ? ` The checkpoint of epoch ${savedEpoch}/${numEpochs} is intact: ${show(checkpointPath)}.` : "";
    throw new CliError(`${error instanceof Error ? error.message : String(error)}${where}${commandLineHint(error, solver)}`);
  }
  progress.stop();
  const trainSeconds = (performance.now() - trainStart) / 1000;

  // The model now holds the parameters the run keeps (best by validation accuracy, or the last), as saved in the checkpoint.
  const testAcc = testAccuracy(model, data);
  const testAccFlip = o.tta === "flip" ? testAccuracy(model, data, "flip") : null;
  const bestEpochs = bestEpochOf(solver);
  const bestEpoch = bestEpochs === null ? "?" : bestEpochs === 0 ? "before epoch 1" : `epoch ${bestEpochs}`;
  const testAccRaw = solver.emaDecay === null ? null : withLastParameters(model, solver, () => testAccuracy(model, data));
  const final = report(testAcc, testAccFlip, testAccRaw);
  try {
    files.writeTogether(reportFiles(final));
  } catch (error) {
    if (error instanceof RunWriteError) throw writeFailure(error);
    throw error;
  }

  if (solver.keep === "best") out.write(`validation accuracy ${solver.bestValAcc.toFixed(4)} (best, ${bestEpoch})\n`);
  else
    out.write(
      `validation accuracy ${(solver.valAccHistory.at(-1) ?? 0).toFixed(4)} (last epoch; the best was ${solver.bestValAcc.toFixed(4)}, ${bestEpoch})\n`,
    );
  out.write(`test accuracy       ${testAcc.toFixed(4)} (${data.test.labels.length} images)\n`);
  if (testAccFlip !== null) out.write(`test accuracy, tta  ${testAccFlip.toFixed(4)} (each image's scores added to its mirror's)\n`);
  if (testAccRaw !== null) out.write(`test accuracy, raw  ${testAccRaw.toFixed(4)} (the last step's own parameters, not averaged)\n`);
  out.write(`wall time           ${formatDuration(final.wallSeconds)} (training ${trainSeconds.toFixed(1)} s)\n`);
  out.write(`wrote ${show(checkpointPath)}, ${show(svgPath)}, ${show(summaryPath)}\n`);
  solver.dispose();
  model.dispose();
  data.dispose();
  return true;
}

/** Tells the supervising command (if any) where the run is; a parent that is gone is not an error. */
/** The Solver's advice names library options; a command-line user sets them with flags. */
function commandLineHint(error: unknown, solver: Solver): string {
  if (!(error instanceof RangeError) || !error.message.includes("the loss became")) return "";
  const lr = solver.learningRate;
  return ` From the command line: a smaller --lr${lr === null ? "" : ` (this run's is ${lr})`}; a non-finite loss cannot be skipped here.`;
}

function tellParent(message: ChildMessage): void {
  if (typeof process.send === "function" && process.connected) process.send(message, () => undefined);
}
