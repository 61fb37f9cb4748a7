// Augmentation ablation: the same `tensorlane train` run (same model, epochs, seed, data) with
// none / flip / flip + crop / + cutout / + mixup, run one after another through the CLI
// (cli/dist/cli.js: `npm run build` first). Prints a Markdown table of validation and test accuracy,
// the last epoch's training accuracy (on clean images) and the training time.
//
//   node scripts/augment-ablation.mjs [--steps name=list;...] -- <tensorlane train options>
//
// Default steps: none; flip; flip,crop:2; flip,crop:2,cutout:8; flip,crop:2,cutout:8,mixup:0.2.
// Example (the built-in subset, a few minutes):
//   node scripts/augment-ablation.mjs -- --model conv --filters 16,32 --batchnorm --epochs 4
// Full Fashion-MNIST (hours on 2 cores):
//   node scripts/augment-ablation.mjs -- --data /usr/share/datasets/fashion-mnist --model conv --filters 32,64,64 --batchnorm --reg 1e-3 --lr-decay 0.8 --epochs 10
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "cli", "dist", "cli.js");
const argv = process.argv.slice(2);
const split = argv.indexOf("--");
const own = split < 0 ? argv : argv.slice(0, split);
const trainArgs = split < 0 ? [] : argv.slice(split + 1);
if (trainArgs.includes("--augment") || trainArgs.includes("--out")) {
  console.error("augment-ablation: --augment and --out are set per step; leave them out of the train options");
  process.exit(2);
}

let steps = [
  ["none", "none"],
  ["flip", "flip"],
  ["flip + crop", "flip,crop:2"],
  ["+ cutout", "flip,crop:2,cutout:8"],
  ["+ mixup", "flip,crop:2,cutout:8,mixup:0.2"],
];
const stepsAt = own.indexOf("--steps");
if (stepsAt >= 0) steps = own[stepsAt + 1].split(";").map((s) => s.split("="));

function run(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { encoding: "utf8", maxBuffer: 1 << 26 }, (error, stdout, stderr) => resolve({ error, stdout, stderr }));
  });
}

const dir = mkdtempSync(join(tmpdir(), "tensorlane-ablation-"));
const rows = [];
try {
  for (const [name, list] of steps) {
    const out = join(dir, name.replace(/\W+/g, "-"));
    process.stderr.write(`${name} (--augment ${list}) ...`);
    const { error, stdout, stderr } = await run(["train", ...trainArgs, "--augment", list, "--out", out]);
    if (error) {
      console.error(`\n${stderr || error.message}`);
      process.exit(1);
    }
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    const epochs = [...stdout.matchAll(/train acc (\S+)/g)];
    const trainAcc = epochs.length > 0 ? Number(epochs.at(-1)[1]) : NaN;
    rows.push({ name, list, val: summary.valAccuracy, test: summary.testAccuracy, trainAcc, seconds: summary.trainSeconds });
    process.stderr.write(` val ${summary.valAccuracy.toFixed(4)}, test ${summary.testAccuracy.toFixed(4)}, ${summary.trainSeconds.toFixed(0)} s\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\ntensorlane train ${trainArgs.join(" ")} --augment <list>\n`);
console.log("| augmentation | --augment | train acc (last epoch) | val acc (best) | test acc | training time |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  console.log(`| ${r.name} | \`${r.list}\` | ${r.trainAcc.toFixed(4)} | ${r.val.toFixed(4)} | ${r.test.toFixed(4)} | ${r.seconds.toFixed(0)} s |`);
}
