// summary.json and training.svg for a run: rewritten after every epoch (so a run that ends early,
// by Ctrl-C, a kill or an error, still has them for the epochs it finished) and once more at the
// end with the test accuracy.
import type { CheckpointableModel, Solver } from "tensorlane";
import { VERSION } from "tensorlane";
import type { RunData } from "./data.js";
import { trainingCurvesSvg } from "./plots.js";

export interface RunReport {
  model: CheckpointableModel;
  kind: string;
  /** describeModel()'s line. */
  description: string;
  solver: Solver;
  data: RunData;
  numEpochs: number;
  trainSeconds: number;
  wallSeconds: number;
  /** Null until training is done (the test set is scored once, at the end). */
  testAccuracy: number | null;
  testAccuracyFlipTta: number | null;
  /** With --ema: the test accuracy of the last step's own parameters (the average is the run's). */
  testAccuracyRaw?: number | null;
}

/** The epochs done when the best validation accuracy was seen (0: before the first epoch ended). */
export function bestEpochOf(solver: Solver): number | null {
  const checks = solver.accuracyIterations;
  const perEpoch = solver.iterationsPerEpoch;
  const bestIndex = solver.valAccHistory.indexOf(solver.bestValAcc);
  if (bestIndex < 0) return null;
  return checks[bestIndex] === 1 && perEpoch !== 1 ? 0 : Math.round(checks[bestIndex] / perEpoch);
}

export function summaryJson(r: RunReport): string {
  const summary = {
    tensorlane: VERSION,
    model: r.kind,
    config: r.model.config,
    finished: r.testAccuracy !== null,
    epochs: r.solver.epoch,
    numEpochs: r.numEpochs,
    iterations: r.solver.lossHistory.length,
    valAccuracy: r.solver.bestValAcc,
    bestEpoch: bestEpochOf(r.solver),
    keep: r.solver.keep,
    lastValAccuracy: r.solver.valAccHistory.at(-1) ?? null,
    testAccuracy: r.testAccuracy,
    testAccuracyFlipTta: r.testAccuracyFlipTta,
    ...(r.solver.emaDecay === null ? {} : { emaDecay: r.solver.emaDecay, testAccuracyRaw: r.testAccuracyRaw ?? null }),
    testImages: r.data.test.labels.length,
    trainSeconds: r.trainSeconds,
    wallSeconds: r.wallSeconds,
    data: { ...r.data.record, normalization: undefined },
    augment: r.solver.augment,
  };
  return `${JSON.stringify(summary, null, 2)}\n`;
}

export function trainingSvg(r: RunReport): string {
  const s = r.solver;
  const status =
    r.testAccuracy !== null
      ? `test accuracy ${r.testAccuracy.toFixed(4)}`
      : `epoch ${s.epoch}/${r.numEpochs}, best validation accuracy ${s.bestValAcc.toFixed(4)}`;
  // With --ema every accuracy is of the moving average: the title says so (briefly: it is one line of 880 px).
  const averaged = s.emaDecay === null ? "" : ` (EMA ${s.emaDecay})`;
  return trainingCurvesSvg({
    title: `${r.description}: ${status}${averaged}`,
    lossHistory: s.lossHistory,
    trainAccHistory: s.trainAccHistory,
    valAccHistory: s.valAccHistory,
    checkIterations: [...s.accuracyIterations],
    iterationsPerEpoch: s.iterationsPerEpoch,
    kept: s.keep,
  });
}
