// Data sets from folders on disk (Node only): IDX folders (MNIST, Fashion-MNIST, raw or .gz),
// CIFAR-10 binary folders. (The built-in Fashion-MNIST subset ships with the CLI package.)
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { cifar10Dataset, decodeIdx, idxDataset, parseCifar10Meta, type IdxArray, type ImageDataset } from "../data/index.js";
import { describe } from "./describe.js";
import { readFileBytes } from "./checkpoint-file.js";

/** A data folder's two splits as loadDataFolder, loadIdxFolder and loadCifar10Folder return them. */
export interface DataSplits {
  /** The training split (train-*-ubyte, or data_batch_1..5.bin). */
  train: ImageDataset;
  /** The test split (t10k-*-ubyte, or test_batch.bin). */
  test: ImageDataset;
  /** Which layout the folder had: MNIST-style IDX files or CIFAR-10 binary batches. */
  format: "idx" | "cifar10";
  /** The folder the files came from (absolute). */
  dir: string;
  /** The files read, absolute paths. */
  files: string[];
}

const IDX_FILES = {
  trainImages: { prefixes: ["train"], kind: "images", rank: 3 },
  trainLabels: { prefixes: ["train"], kind: "labels", rank: 1 },
  testImages: { prefixes: ["t10k", "test"], kind: "images", rank: 3 },
  testLabels: { prefixes: ["t10k", "test"], kind: "labels", rank: 1 },
} as const;

// train-images-idx3-ubyte, also the train-images.idx3-ubyte spelling some mirrors use; raw first.
function idxCandidates(prefixes: readonly string[], kind: string, rank: number): string[] {
  const names: string[] = [];
  for (const ext of ["", ".gz"]) {
    for (const p of prefixes) for (const sep of ["-", "."]) names.push(`${p}-${kind}${sep}idx${rank}-ubyte${ext}`);
  }
  return names;
}

async function listFolder(fn: string, dir: unknown): Promise<{ dir: string; names: Set<string> }> {
  if (typeof dir !== "string" || dir.length === 0) throw new TypeError(`${fn}: dir must be a folder path (got ${describe(dir)})`);
  const abs = resolve(dir);
  try {
    const info = await stat(abs);
    if (!info.isDirectory()) throw new Error(`${fn}: ${abs} is a file; give the folder that holds the data files`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`${fn}: data folder not found: ${abs}`, { cause: error });
    throw error;
  }
  return { dir: abs, names: new Set(await readdir(abs)) };
}

function listing(names: Set<string>): string {
  const all = [...names].sort();
  if (all.length === 0) return "the folder is empty";
  return `the folder holds: ${all.slice(0, 12).join(", ")}${all.length > 12 ? `, ... (${all.length} entries)` : ""}`;
}

/** True when the folder has IDX training images (any accepted spelling). */
function hasIdx(names: Set<string>): boolean {
  const f = IDX_FILES.trainImages;
  return idxCandidates(f.prefixes, f.kind, f.rank).some((n) => names.has(n));
}

/**
 * Loads an IDX folder with train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each raw or .gz (such as Debian's
 * /usr/share/datasets/fashion-mnist). numClasses is the largest label + 1 over both splits.
 */
export async function loadIdxFolder(dir: string, options: { classes?: readonly string[] } = {}): Promise<DataSplits> {
  const fn = "loadIdxFolder";
  const folder = await listFolder(fn, dir);
  const paths = {} as Record<keyof typeof IDX_FILES, string>;
  for (const [key, f] of Object.entries(IDX_FILES) as [keyof typeof IDX_FILES, (typeof IDX_FILES)[keyof typeof IDX_FILES]][]) {
    const candidates = idxCandidates(f.prefixes, f.kind, f.rank);
    const name = candidates.find((n) => folder.names.has(n));
    if (name === undefined) {
      throw new Error(
        `${fn}: ${folder.dir} has no ${key.startsWith("train") ? "training" : "test"} ${f.kind}: looked for ${f.prefixes[0]}-${f.kind}-idx${f.rank}-ubyte or ${f.prefixes[0]}-${f.kind}-idx${f.rank}-ubyte.gz; ${listing(folder.names)}`,
      );
    }
    paths[key] = join(folder.dir, name);
  }
  const read = async (path: string): Promise<IdxArray> => decodeIdx(await readFileBytes(path, { what: "data file" }), path);
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    read(paths.trainImages),
    read(paths.trainLabels),
    read(paths.testImages),
    read(paths.testLabels),
  ]);
  let maxLabel = 0;
  for (const labels of [trainLabels, testLabels]) for (const l of labels.data) if (l > maxLabel) maxLabel = l;
  const numClasses = options.classes?.length ?? maxLabel + 1;
  const train = idxDataset(trainImages, trainLabels, { imagesName: paths.trainImages, labelsName: paths.trainLabels, numClasses, classes: options.classes });
  const test = idxDataset(testImages, testLabels, { imagesName: paths.testImages, labelsName: paths.testLabels, numClasses, classes: options.classes });
  if (train.shape.join() !== test.shape.join()) {
    throw new RangeError(`${fn}: training images are ${train.shape.slice(1).join("x")} but test images are ${test.shape.slice(1).join("x")} (${folder.dir})`);
  }
  return { train, test, format: "idx", dir: folder.dir, files: Object.values(paths) };
}

/**
 * Loads a CIFAR-10 binary folder (cifar-10-batches-bin, or the folder that contains it):
 * data_batch_1.bin .. data_batch_5.bin (those present, at least one), test_batch.bin, and the
 * class names from batches.meta.txt when it is there.
 */
export async function loadCifar10Folder(dir: string): Promise<DataSplits> {
  const fn = "loadCifar10Folder";
  let folder = await listFolder(fn, dir);
  if (!folder.names.has("test_batch.bin") && folder.names.has("cifar-10-batches-bin")) {
    folder = await listFolder(fn, join(folder.dir, "cifar-10-batches-bin"));
  }
  const trainNames = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`).filter((n) => folder.names.has(n));
  if (trainNames.length === 0 || !folder.names.has("test_batch.bin")) {
    throw new Error(
      `${fn}: ${folder.dir} is not a CIFAR-10 binary folder: expected data_batch_1.bin .. data_batch_5.bin and test_batch.bin; ${listing(folder.names)}`,
    );
  }
  let classes: string[] | undefined;
  if (folder.names.has("batches.meta.txt")) {
    const metaPath = join(folder.dir, "batches.meta.txt");
    classes = parseCifar10Meta(new TextDecoder().decode(await readFileBytes(metaPath, { what: "data file", maxBytes: 1 << 20 })), metaPath);
  }
  const trainPaths = trainNames.map((n) => join(folder.dir, n));
  const testPath = join(folder.dir, "test_batch.bin");
  const trainBytes = await Promise.all(trainPaths.map((p) => readFileBytes(p, { what: "data file" })));
  const train = cifar10Dataset(trainBytes, { names: trainPaths, classes });
  const test = cifar10Dataset([await readFileBytes(testPath, { what: "data file" })], { names: [testPath], classes });
  return { train, test, format: "cifar10", dir: folder.dir, files: [...trainPaths, testPath] };
}

/** Loads an IDX folder or a CIFAR-10 binary folder, whichever `dir` is. */
export async function loadDataFolder(dir: string, options: { classes?: readonly string[] } = {}): Promise<DataSplits> {
  const fn = "loadDataFolder";
  const folder = await listFolder(fn, dir);
  if (hasIdx(folder.names)) return loadIdxFolder(folder.dir, options);
  if (folder.names.has("test_batch.bin") || folder.names.has("cifar-10-batches-bin") || folder.names.has("data_batch_1.bin")) {
    return loadCifar10Folder(folder.dir);
  }
  throw new Error(
    `${fn}: ${folder.dir} holds no data set tensorlane can read. Expected IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]; e.g. apt-get install dataset-fashion-mnist, then /usr/share/datasets/fashion-mnist) or CIFAR-10 binary batches (data_batch_1.bin .. data_batch_5.bin, test_batch.bin); ${listing(folder.names)}`,
  );
}
