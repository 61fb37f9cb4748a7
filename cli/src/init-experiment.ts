// `tensorlane init-experiment`: prints per-layer activation statistics for each initialization
// scheme and writes the histograms as one picture.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runInitExperiment, type InitExperimentOptions, type InitExperimentResult } from "tensorlane/experiments";
import { activationHistogramsSvg } from "./plots.js";

/** A fixed-width table: one row per scheme, mean/std per layer. */
export function formatInitExperiment(result: InitExperimentResult): string {
  const header = ["scheme".padEnd(16), ...result.schemes[0].layers.map((l) => `layer ${l.layer}`.padStart(15))].join("");
  const lines = [`${result.depth - 1} layers of width ${result.width}, ${result.batch} random inputs (seed ${result.seed}); mean / std per layer`, header];
  for (const { scheme, layers } of result.schemes) {
    lines.push([scheme.name.padEnd(16), ...layers.map((l) => `${l.mean.toFixed(3)}/${l.std.toFixed(3)}`.padStart(15))].join(""));
  }
  return lines.join("\n");
}

/** Runs the experiment, prints the table and writes `init-experiment.svg` into outDir; returns its path. */
export async function initExperimentToFiles(outDir: string, options: InitExperimentOptions = {}, log: (s: string) => void = console.log): Promise<string> {
  const result = runInitExperiment(options);
  log(formatInitExperiment(result));
  const rows = result.schemes.flatMap(({ scheme, layers }) => layers.map((l) => ({ scheme: scheme.name, ...l })));
  const svg = activationHistogramsSvg(rows, `Activations per layer: ${result.depth - 1} layers of width ${result.width}`);
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, "init-experiment.svg");
  writeFileSync(path, svg);
  return path;
}
