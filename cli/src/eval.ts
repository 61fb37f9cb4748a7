// `tensorlane eval`: a checkpoint's model on a test split, with accuracy per class.
import { resolve } from "node:path";
import { init, loadCheckpoint, type Normalization } from "tensorlane";
import { decodeNormalization, encodeNormalization } from "tensorlane/data";
import { readFileBytes } from "tensorlane/node";
import { loadSplits, predictTest, selectClasses, type DataRecord } from "./data.js";
import { plural } from "./format.js";
import { CliError } from "./errors.js";
import type { Output } from "./progress.js";

export interface EvalOptions {
  checkpoint: string;
  data?: string;
  batchSize: number;
  threads?: number | "auto";
  /** Test-time augmentation: "flip" adds each image's scores to its mirror's. */
  tta?: "none" | "flip";
}

export async function runEval(o: EvalOptions, out: Output): Promise<void> {
  await init({ threads: o.threads ?? 1, float64: true }); // float64 too: a checkpoint the library saved may be float64
  const ck = loadCheckpoint(await readFileBytes(o.checkpoint, { what: "checkpoint" }), o.checkpoint);
  try {
    const record = (ck.meta as { data?: DataRecord }).data;
    if (o.data === undefined && record === undefined) {
      throw new CliError(`${o.checkpoint} does not say which data it was trained on: pass --data DIR`);
    }
    const source = o.data === undefined ? record!.source : resolve(o.data);
    const splits = await loadSplits(source);
    // A run on some classes (--classes) is tested on those, labelled as it was trained.
    const test = record?.keepClasses ? selectClasses(splits.test, record.keepClasses) : splits.test;
    const config = ck.model.config as { inputDim?: number; inputDims?: number[]; inputShape?: number[]; numClasses?: number };
    const [C, H, W] = test.shape;
    const dims = config.inputDims ?? config.inputShape; // DeepConvNet's, a Sequential's
    const fits = dims ? dims.join() === [C, H, W].join() : config.inputDim === C * H * W;
    if (!fits) {
      const expected = dims ? dims.join("x") : `${config.inputDim} values`;
      throw new CliError(`the model takes images of ${expected} but ${source} has ${C}x${H}x${W}: pass --data with the kind of data it was trained on`);
    }
    if (config.numClasses !== undefined && test.numClasses > config.numClasses) {
      throw new CliError(`${source} has ${test.numClasses} classes but the model scores ${config.numClasses}`);
    }
    let normalization: Normalization | undefined;
    if (record?.normalization) normalization = decodeNormalization(encodeNormalization(record.normalization)); // validated
    if (normalization === undefined) throw new CliError(`${o.checkpoint} has no data normalization: it was not written by tensorlane train`);
    if (typeof ck.model.predict !== "function") throw new CliError(`${ck.kind} has no predict()`);
    const n = test.labels.length;
    const pred = predictTest(ck.model as Parameters<typeof predictTest>[0], test, normalization, o.batchSize, o.tta ?? "none");
    const classes = test.numClasses;
    const right = new Array<number>(classes).fill(0);
    const total = new Array<number>(classes).fill(0);
    let correct = 0;
    for (let i = 0; i < n; i++) {
      total[test.labels[i]]++;
      if (pred[i] === test.labels[i]) {
        right[test.labels[i]]++;
        correct++;
      }
    }
    const names = test.classes ?? record?.classes ?? null;
    out.write(`${ck.kind} from ${o.checkpoint} (tensorlane ${ck.version}${ck.solver ? `, ${plural(ck.solver.epoch, "epoch")}` : ""})\n`);
    out.write(`data: ${source === "builtin" ? "built-in Fashion-MNIST subset" : source}, ${n} test images\n`);
    const width = Math.max(5, ...Array.from({ length: classes }, (_, c) => (names?.[c] ?? String(c)).length));
    for (let c = 0; c < classes; c++) {
      const name = (names?.[c] ?? String(c)).padEnd(width);
      out.write(`  ${name}  ${total[c] ? (right[c] / total[c]).toFixed(4) : "  -   "}  (${right[c]}/${total[c]})\n`);
    }
    out.write(
      `test accuracy ${(n ? correct / n : 0).toFixed(4)} (${correct}/${n})${o.tta === "flip" ? ", each image's scores added to its mirror's (--tta flip)" : ""}\n`,
    );
  } finally {
    ck.model.dispose();
  }
}
