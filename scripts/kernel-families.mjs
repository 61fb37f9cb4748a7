// Which wasm module each float32 kernel lives in. The float32 kernels are split by family so that an
// app carries only the families its code uses (src/core/kernel-families.ts): `core` owns the memory and
// the allocator and holds what every app needs; every other family imports the core's memory. The
// families are derived from the export lists (assembly/index.ts, assembly/kernels.ts) by source
// file, so a kernel added to an existing file lands in its file's family without an edit here.
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The family of each kernel source file. A new file must be placed here (the build says so). */
const FAMILY_OF_FILE = {
  memory: "core",
  elementwise: "core",
  gemm: "core",
  loss: "core",
  optim: "core",
  random: "core",
  reduce: "core",
  scalar: "core",
  activation: "activation",
  conv: "conv",
  depthwise: "conv",
  winograd: "conv",
  "winograd-dw": "conv",
  batchnorm: "norm",
  pool: "pool",
  avgpool: "pool",
  augment: "augment",
};

/** Kernels that leave their file's family. */
const FAMILY_OF_KERNEL = {
  leaky_relu: "activation",
  leaky_relu_backward: "activation",
  // What models and the Solver use beyond the layers' kernels: the L2/L1 penalties, dropout, the
  // SVM loss, predictions (argmax), gathering and sampling batches (an app of layers carries none).
  sum_squares_chunks: "train",
  sum_abs_chunks: "train",
  add_sign: "train",
  dropout_mask: "train",
  svm_loss_rows: "train",
  argmax_rows: "train",
  gather_rows: "train",
  i32_rand_below: "train",
  mul: "train", // dropout's only
  add: "train", // residual blocks' only
  f64_cos_pi: "train", // the cosine learning-rate schedule's
  ema_update: "train", // the Solver's moving average of the parameters
  copy_planes: "pool", // padded max pooling's frames
  // The update rules beyond Adam (the course's default, in the core): an app that calls adam carries none.
  sgd: "optim",
  sgd_momentum: "optim",
  sgd_nesterov: "optim",
  adagrad: "optim",
  rmsprop: "optim",
};

/** Every family, the core first (the order modules are instantiated in). */
export const FAMILIES = ["core", ...new Set([...Object.values(FAMILY_OF_FILE), ...Object.values(FAMILY_OF_KERNEL)].filter((f) => f !== "core"))];

/** `export { a, b } from "./file"` lines of an AssemblyScript entry, and its `export * from "./x"`. */
function exportLines(text) {
  const named = [...text.matchAll(/export\s*\{([^}]*)\}\s*from\s*"\.\/([\w-]+)"/g)].map(([, names, file]) => ({
    file,
    names: names
      .split(",")
      .map((n) => n.trim())
      .filter(Boolean),
  }));
  const star = [...text.matchAll(/export\s*\*\s*from\s*"\.\/([\w-]+)"/g)].map(([, file]) => file);
  return { named, star };
}

/**
 * family -> [{ file, names }]: the float32 kernels of the full module (assembly/index.ts) grouped by
 * family. Throws for a source file no family claims.
 */
export function kernelFamilies(root) {
  const read = (file) => readFileSync(join(root, "assembly", `${file}.ts`), "utf8");
  const lines = [];
  const visit = (file) => {
    const { named, star } = exportLines(read(file));
    lines.push(...named);
    star.forEach(visit);
  };
  visit("index");
  const families = new Map(FAMILIES.map((f) => [f, []]));
  for (const { file, names } of lines) {
    for (const name of names) {
      const family = FAMILY_OF_KERNEL[name] ?? FAMILY_OF_FILE[file];
      if (family === undefined) {
        throw new Error(`kernel-families: assembly/${file}.ts (kernel ${name}) belongs to no family: add it to FAMILY_OF_FILE in scripts/kernel-families.mjs`);
      }
      const group = families.get(family);
      const entry = group.find((g) => g.file === file) ?? (group.push({ file, names: [] }), group.at(-1));
      entry.names.push(name);
    }
  }
  return families;
}

/** The AssemblyScript entry of one family's module, importing from `assemblyDir` (a relative path). */
export function familyEntry(groups, assemblyDir) {
  return groups.map(({ file, names }) => `export { ${names.join(", ")} } from "${assemblyDir}/${file}";\n`).join("");
}
