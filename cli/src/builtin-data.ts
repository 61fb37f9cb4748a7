// The built-in Fashion-MNIST subset (cli/data/fashion-mnist-subset): it ships with the command
// line package, not the library, so that `npm i tensorlane` stays small.
import { stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FASHION_MNIST_CLASSES } from "tensorlane/data";
import { loadIdxFolder, type DataSplits } from "tensorlane/node";

const BUILTIN = join("data", "fashion-mnist-subset");

/**
 * The folder of the built-in Fashion-MNIST subset: data/fashion-mnist-subset in the tensorlane-cli package,
 * found by walking up from this module (works from cli/src/ and from the bundle in cli/dist/).
 */
export async function builtinDataDir(): Promise<string> {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++) {
    const candidate = join(dir, BUILTIN);
    try {
      if ((await stat(join(candidate, "train-images-idx3-ubyte.gz"))).isFile()) return candidate;
    } catch {
      // not here: go up
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(
    `builtinDataDir: the built-in data set (${BUILTIN}) is missing from the package installed at ${dirname(fileURLToPath(import.meta.url))}; reinstall tensorlane-cli, or pass --data DIR`,
  );
}

/** The built-in data set: 10,000 training and 2,000 test images of Fashion-MNIST, with class names. */
export async function loadBuiltinData(): Promise<DataSplits> {
  return loadIdxFolder(await builtinDataDir(), { classes: FASHION_MNIST_CLASSES });
}
