// The data a CLI run trains and tests on: a folder (or the built-in subset), optionally a seeded
// subset of its training images, a seeded train/validation split, per-channel normalization
// computed on the training split. Everything is recorded in the checkpoint so that `--resume`
// and `eval` rebuild exactly the same tensors.
import { internal, type ImageDataset, type Normalization, type Tensor } from "tensorlane";
import { computeNormalization, datasetSize, makeDataset, FASHION_MNIST_CLASSES, shuffledIndices, splitTrainVal, subset, toTensor } from "tensorlane/data";
import { loadDataFolder, type DataSplits } from "tensorlane/node";
import { loadBuiltinData } from "./builtin-data.js";
import { CliError } from "./errors.js";

// Destructured (not internal.x at each use): the bundle then imports the namespace, an export of dist/tensorlane.js.
const { deriveSeed, crc32 } = internal;

/** What a checkpoint records about its data (JSON). */
export interface DataRecord {
  /** "builtin", or the absolute folder. */
  source: string;
  format: "idx" | "cifar10";
  /** Training images used before the split (null: all). */
  trainSamples: number | null;
  /** The source's classes kept (--classes), in the order of the run's labels 0, 1, ...; absent: all. */
  keepClasses?: number[];
  valCount: number;
  seed: number;
  shape: [number, number, number];
  numClasses: number;
  classes: string[] | null;
  normalization: Normalization;
  numTrain: number;
  numVal: number;
  /** CRC-32 of the training and validation images and labels: resume checks it is the same data. */
  fingerprint: string;
}

export interface RunData {
  record: DataRecord;
  /** Byte sets: the Solver keeps them as bytes in wasm memory and normalizes each batch (same bits as float tensors). */
  solverData: { train: ImageDataset; val: ImageDataset; normalization: Normalization };
  test: ImageDataset;
  dispose(): void;
}

export const DATA_HINT =
  "For the full Fashion-MNIST: apt-get install dataset-fashion-mnist, then --data /usr/share/datasets/fashion-mnist. " +
  "Without --data, tensorlane trains on its built-in subset.";

/** Loads the folder (or the built-in subset), turning "not found" into advice. */
export async function loadSplits(source: string): Promise<DataSplits> {
  try {
    return withKnownClasses(source, source === "builtin" ? await loadBuiltinData() : await loadDataFolder(source));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/not found|is a file/.test(message)) throw new CliError(`${message}\n${DATA_HINT}`);
    throw error;
  }
}

/**
 * IDX files carry no class names. Fashion-MNIST is recognisable: 28x28 grey images in 10 classes,
 * from a folder named after it or with its mean brightness (0.286; MNIST's digits are 0.131).
 * CIFAR-10 folders get their names from the reader (batches.meta.txt or the known list).
 */
export function withKnownClasses(source: string, splits: DataSplits): DataSplits {
  const { train, test } = splits;
  if (train.classes || splits.format !== "idx" || train.numClasses !== 10 || train.shape.join() !== "1,28,28") return splits;
  let sum = 0;
  const n = Math.min(train.images.length, 28 * 28 * 2000);
  for (let i = 0; i < n; i++) sum += train.images[i];
  const mean = sum / Math.max(1, n) / 255;
  if (!/fashion/i.test(source) && !(mean > 0.26 && mean < 0.31)) return splits;
  const classes = FASHION_MNIST_CLASSES;
  return { ...splits, train: { ...train, classes }, test: { ...test, classes } };
}

/**
 * The images of the classes in `keep` only, relabelled 0, 1, ... in the order of `keep` (their
 * names follow). Throws a CliError naming a class the data does not have.
 */
export function selectClasses(ds: ImageDataset, keep: readonly number[]): ImageDataset {
  const bad = keep.find((c) => c >= ds.numClasses);
  if (bad !== undefined) throw new CliError(`--classes ${keep.join(",")}: the data has classes 0 to ${ds.numClasses - 1} (no class ${bad})`);
  const newLabel = new Map(keep.map((c, i) => [c, i]));
  const indices: number[] = [];
  for (let i = 0; i < ds.labels.length; i++) if (newLabel.has(ds.labels[i])) indices.push(i);
  const picked = subset(ds, indices);
  const labels = Int32Array.from(picked.labels, (l) => newLabel.get(l)!);
  return makeDataset(picked.images, labels, picked.shape, { numClasses: keep.length, classes: ds.classes ? keep.map((c) => ds.classes![c]) : undefined });
}

/** The training images to use: all, or a seeded subset of `count` (kept in file order). */
function takeTrain(train: ImageDataset, count: number | null, seed: number): ImageDataset {
  if (count === null) return train;
  const n = datasetSize(train);
  if (count > n) throw new CliError(`--train-samples ${count} is more than the ${n} training images in the data`);
  return subset(train, shuffledIndices(n, deriveSeed(seed, 104)).slice(0, count).sort());
}

function fingerprint(train: ImageDataset, val: ImageDataset): string {
  let c = 0;
  for (const ds of [train, val]) {
    c = crc32(ds.images, c);
    c = crc32(new Uint8Array(ds.labels.buffer, ds.labels.byteOffset, ds.labels.byteLength), c);
  }
  return c.toString(16).padStart(8, "0");
}

/**
 * Prepares a run's tensors. `valCount` null: 10% of the training images. With `expect` (resume),
 * the result must match the recorded data exactly.
 */
export async function prepareData(options: {
  source: string;
  /** Classes to keep (null: all). */
  keepClasses: number[] | null;
  trainSamples: number | null;
  valCount: number | null;
  seed: number;
  /** The inputs' scaling to use instead of the training split's (a model trained elsewhere). */
  normalization?: Normalization;
  expect?: DataRecord;
}): Promise<RunData> {
  const loaded = await loadSplits(options.source);
  const keep = options.keepClasses;
  const splits = keep === null ? loaded : { ...loaded, train: selectClasses(loaded.train, keep), test: selectClasses(loaded.test, keep) };
  const train = takeTrain(splits.train, options.trainSamples, options.seed);
  const n = datasetSize(train);
  const valCount = options.valCount ?? Math.max(1, Math.round(n / 10));
  if (valCount >= n) throw new CliError(`--val ${valCount} leaves no training images (the data has ${n}); use a smaller --val`);
  const split = splitTrainVal(train, { valCount, seed: deriveSeed(options.seed, 101) });
  const normalization = options.expect?.normalization ?? options.normalization ?? computeNormalization(split.train);
  const record: DataRecord = {
    source: options.source,
    format: splits.format,
    trainSamples: options.trainSamples,
    ...(keep === null ? {} : { keepClasses: [...keep] }),
    valCount,
    seed: options.seed,
    shape: [...splits.train.shape] as [number, number, number],
    numClasses: splits.train.numClasses,
    classes: splits.train.classes ? [...splits.train.classes] : null,
    normalization: { mean: [...normalization.mean], std: [...normalization.std] },
    numTrain: datasetSize(split.train),
    numVal: datasetSize(split.val),
    fingerprint: fingerprint(split.train, split.val),
  };
  if (options.expect && record.fingerprint !== options.expect.fingerprint) {
    throw new CliError(
      `the training data differs from the run's (fingerprint ${record.fingerprint}, the checkpoint says ${options.expect.fingerprint}), so the run cannot continue bit-identically; ` +
        `pass --data with the folder the run used${options.expect.source === "builtin" ? " (it used the built-in subset: omit --data)" : `: ${options.expect.source}`}`,
    );
  }
  return {
    record,
    solverData: { train: split.train, val: split.val, normalization },
    test: splits.test,
    dispose() {}, // the Solver frees its byte copies
  };
}

/**
 * The model's class for every test image: converted and scored `chunk` images at a time (whole
 * batches of batchSize, the same batches one tensor would give), so the test set never sits in
 * wasm memory as float32 (CIFAR-10's would take 123 MB).
 */
export function predictTest(
  model: { predict(X: Tensor, options: { batchSize: number; tta?: "none" | "flip" }): Int32Array },
  test: ImageDataset,
  normalization: Normalization,
  batchSize = 100,
  tta: "none" | "flip" = "none",
): Int32Array {
  const n = test.labels.length;
  const chunk = batchSize * Math.max(1, Math.floor(2000 / batchSize));
  const pred = new Int32Array(n);
  for (let start = 0; start < n; start += chunk) {
    const X = testTensor(
      test,
      normalization,
      Int32Array.from({ length: Math.min(chunk, n - start) }, (_, i) => start + i),
    );
    try {
      pred.set(model.predict(X, { batchSize, tta }), start);
    } finally {
      X.dispose();
    }
  }
  return pred;
}

/** The test images (or those at `indices`) as a normalized tensor (the caller disposes it). */
export function testTensor(test: ImageDataset, normalization: Normalization, indices?: ArrayLike<number>): Tensor {
  return toTensor(test, { normalization, indices });
}
