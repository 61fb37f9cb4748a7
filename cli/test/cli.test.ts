// The `tensorlane` executable as a user runs it (cli/dist/cli.js, built by `npm run build`): help,
// a short training run on the built-in data, eval, bit-identical --resume, and errors.
import { execFile, execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tl from "tensorlane";
import { importOnnx } from "tensorlane/onnx";
import * as tlData from "../../src/data/index.js";

const root = resolve(import.meta.dirname, "..");
const cli = join(root, "dist", "cli.js");
const dir = mkdtempSync(join(tmpdir(), "tensorlane-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => tl.init());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], nodeArgs: string[] = [], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [...nodeArgs, cli, ...args],
      { cwd: dir, encoding: "utf8", timeout: 120_000, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

// Small and quick: 600 training images (100 held out), a 32-unit hidden layer, 25 steps an epoch.
const QUICK = ["--hidden", "32", "--train-samples", "600", "--val", "100", "--batch-size", "20", "--seed", "7"];

describe("tensorlane CLI", () => {
  beforeAll(() => {
    expect(existsSync(cli), "run `npm run build` first").toBe(true);
  });

  it("--help lists the commands and examples; train --help every option", async () => {
    const main = await run(["--help"]);
    expect(main.code).toBe(0);
    expect(main.stdout).toMatch(/train \[options\]/);
    expect(main.stdout).toMatch(/eval \[options\]/);
    expect(main.stdout).toMatch(/Examples:/);
    const train = await run(["train", "--help"]);
    expect(train.code).toBe(0);
    for (const flag of [
      "--model",
      "--hidden",
      "--filters",
      "--batchnorm",
      "--dropout",
      "--reg",
      "--update",
      "--lr",
      "--lr-decay",
      "--epochs",
      "--batch-size",
      "--seed",
      "--data",
      "--val",
      "--keep",
      "--out",
      "--resume",
    ]) {
      expect(train.stdout).toContain(flag);
    }
    expect(train.stdout).toMatch(/apt-get install\s+dataset-fashion-mnist/);
  });

  it("train: one short epoch on the built-in data writes a valid checkpoint, SVG and summary; eval reads it", async () => {
    const out = join(dir, "smoke");
    const r = await run(["train", ...QUICK, "--epochs", "1", "--out", out]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/FullyConnectedNet 784-32-10/);
    expect(r.stdout).toMatch(/epoch 1\/1 +loss \d\.\d{4} +train acc 0\.\d{4} +val acc 0\.\d{4}/);
    expect(r.stdout).toMatch(/validation accuracy 0\.\d{4}/);
    expect(r.stdout).toMatch(/test accuracy +0\.\d{4} \(2000 images\)/);
    expect(r.stdout).toMatch(/wall time/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape character is what is looked for
    expect(r.stdout, "no terminal escape codes when stdout is not a TTY").not.toMatch(/\x1b/);

    const bytes = new Uint8Array(readFileSync(join(out, "checkpoint.safetensors")));
    const { tensors, metadata } = tl.decodeSafetensors(bytes);
    expect(tensors.W1.shape).toEqual([784, 32]);
    expect(tensors.W2.shape).toEqual([32, 10]);
    expect(JSON.parse(metadata.meta).data.normalization.mean).toHaveLength(1);
    const ck = tl.loadCheckpoint(bytes);
    expect(ck.solver?.epoch).toBe(1);
    ck.model.dispose();

    const svg = readFileSync(join(out, "training.svg"), "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toMatch(/<path/);
    expect(svg).toMatch(/<\/svg>\s*$/);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(summary.testAccuracy).toBeGreaterThan(0.5); // 25 steps on 500 images: far above chance (0.1)
    const printed = Number(/test accuracy +(0\.\d+)/.exec(r.stdout)![1]);
    expect(summary.testAccuracy.toFixed(4)).toBe(printed.toFixed(4));

    const e = await run(["eval", "--checkpoint", join(out, "checkpoint.safetensors")]);
    expect(e.stderr).toBe("");
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/Ankle boot +0\.\d{4}/);
    expect(e.stdout).toMatch(new RegExp(`test accuracy ${printed.toFixed(4)} \\(\\d+/2000\\)`)); // the same number train printed
  });

  it("--resume: 2 epochs straight and 1 epoch + resume to 2 write the same checkpoint bytes (adamw, weight decay on weights only)", async () => {
    const straight = join(dir, "straight");
    const split = join(dir, "split");
    const common = [...QUICK, "--dropout", "0.1", "--lr-decay", "0.8", "--update", "adamw", "--weight-decay", "0.05", "--decay", "weights"];
    const [a, b] = await Promise.all([
      run(["train", ...common, "--epochs", "2", "--out", straight]),
      run(["train", ...common, "--epochs", "1", "--out", split]),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.stdout).toMatch(/training: adamw lr 0\.001 decay 0\.8\/epoch, weight decay 0\.05 \(weights only\), 2 epochs/);
    const c = await run(["train", "--resume", join(split, "checkpoint.safetensors"), "--epochs", "2"]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/resuming after epoch 1/);
    const x = new Uint8Array(readFileSync(join(straight, "checkpoint.safetensors")));
    const y = new Uint8Array(readFileSync(join(split, "checkpoint.safetensors")));
    const sx = JSON.parse(tl.decodeSafetensors(x).metadata.solver);
    const sy = JSON.parse(tl.decodeSafetensors(y).metadata.solver);
    expect(sy.lossHistory).toEqual(sx.lossHistory);
    expect(sy.lossHistory).toHaveLength(2 * 25);
    expect(Buffer.from(y).equals(Buffer.from(x)), "checkpoint files differ").toBe(true);
    expect(/test accuracy +(\S+)/.exec(c.stdout)![1]).toBe(/test accuracy +(\S+)/.exec(a.stdout)![1]);
  });

  it("--lr-schedule cosine --warmup-epochs: an interrupted run resumed to its total writes the bytes of the uninterrupted run", async () => {
    // The uninterrupted run also keeps a copy of the checkpoint its first epoch wrote (a preload
    // wraps fs.renameSync): that copy is what an interrupted run would have left behind.
    const hook = join(dir, "keep-first-checkpoint.mjs");
    writeFileSync(
      hook,
      [
        `import fs from "node:fs";`,
        `import { syncBuiltinESMExports } from "node:module";`,
        `const rename = fs.renameSync;`,
        `let kept = false;`,
        `fs.renameSync = (from, to) => {`,
        `  rename(from, to);`,
        `  if (!kept && String(to).endsWith("checkpoint.safetensors")) { kept = true; fs.copyFileSync(to, process.env.KEEP_FIRST_CHECKPOINT); }`,
        `};`,
        `syncBuiltinESMExports();`,
      ].join("\n"),
    );
    const straight = join(dir, "cosine-straight");
    const interrupted = join(dir, "cosine-interrupted");
    mkdirSync(interrupted);
    const first = join(interrupted, "checkpoint.safetensors");
    const a = await run(
      ["train", ...QUICK, "--lr-schedule", "cosine", "--warmup-epochs", "0.5", "--epochs", "2", "--out", straight],
      ["--import", pathToFileURL(hook).href],
      { KEEP_FIRST_CHECKPOINT: first },
    );
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/training: adam lr 0\.001 cosine, 0\.5 warm-up epochs, 2 epochs x 25 batches of 20/);
    const saved = JSON.parse(tl.decodeSafetensors(new Uint8Array(readFileSync(first))).metadata.solver);
    expect(saved.epoch).toBe(1);
    expect(saved.options.lrSchedule).toEqual({ type: "cosine", warmupEpochs: 0.5, minLearningRate: 0 });
    const c = await run(["train", "--resume", first]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/resuming after epoch 1/);
    const x = readFileSync(join(straight, "checkpoint.safetensors"));
    const y = readFileSync(first);
    expect(JSON.parse(tl.decodeSafetensors(new Uint8Array(y)).metadata.solver).lossHistory).toHaveLength(50);
    expect(y.equals(x), "checkpoint files differ").toBe(true);
    const wrong = await run(["train", ...QUICK, "--warmup-epochs", "1"]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/--warmup-epochs applies to --lr-schedule cosine/);
    const both = await run(["train", ...QUICK, "--lr-schedule", "cosine", "--lr-decay", "0.5"]);
    expect(both.stderr).toMatch(/--lr-decay applies to --lr-schedule decay/);
    const clash = await run(["train", "--resume", first, "--lr-schedule", "decay"]);
    expect(clash.stderr).toMatch(/--lr-schedule cannot be changed when resuming/);
  });

  it("--augment: stored in the checkpoint, and --resume continues the augmented run bit for bit", async () => {
    const straight = join(dir, "aug-straight");
    const split = join(dir, "aug-split");
    const common = [
      "--model",
      "conv",
      "--filters",
      "4",
      "--train-samples",
      "300",
      "--val",
      "60",
      "--batch-size",
      "20",
      "--seed",
      "3",
      "--augment",
      "flip,crop:2,cutout:4,mixup:0.2",
    ];
    const [a, b] = await Promise.all([
      run(["train", ...common, "--epochs", "2", "--out", straight]),
      run(["train", ...common, "--epochs", "1", "--out", split]),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.stdout).toMatch(/augment flip,crop:2,cutout:4,mixup:0.2/);
    const c = await run(["train", "--resume", join(split, "checkpoint.safetensors"), "--epochs", "2"]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/augment flip,crop:2,cutout:4,mixup:0.2, resuming after epoch 1/);
    const x = readFileSync(join(straight, "checkpoint.safetensors"));
    const y = readFileSync(join(split, "checkpoint.safetensors"));
    expect(JSON.parse(tl.decodeSafetensors(new Uint8Array(x)).metadata.solver).options.augment).toEqual([
      { type: "randomFlip" },
      { type: "randomCrop", padding: 2 },
      { type: "cutout", size: 4 },
      { type: "mixup", alpha: 0.2 },
    ]);
    expect(y.equals(x), "checkpoint files differ").toBe(true);
    const clash = await run(["train", "--resume", join(split, "checkpoint.safetensors"), "--augment", "flip"]);
    expect(clash.stderr).toMatch(/--augment cannot be changed when resuming/);
  });

  it("--augment errors name the item and show the syntax", async () => {
    for (const [list, message] of [
      ["flip,rotate:10", /unknown augmentation "rotate:10": expected flip\[:p\], crop:padding, cutout:size, mixup:alpha or none/],
      ["crop", /crop needs a padding \(crop:2\), e\.g\. flip,crop:2,cutout:8,mixup:0\.2/],
      ["cutout:2.5", /cutout:2\.5: expected a square side in pixels, an integer in \[1, 1024\]/],
      ["mixup:0", /mixup:0: expected a Beta\(alpha, alpha\) parameter > 0/],
      ["flip:1.5", /flip:1\.5: expected a flip probability in \[0, 1\]/],
      ["crop:1:2", /"crop:1:2" has more than one value/],
    ] as const) {
      const r = await run(["train", "--augment", list]);
      expect(r.code, list).not.toBe(0);
      expect(r.stderr, list).toMatch(/'--augment <list>' argument/);
      expect(r.stderr, list).toMatch(message);
    }
  });

  it("train --model conv --batchnorm: the checkpoint holds the running statistics; eval agrees with train", async () => {
    const out = join(dir, "conv");
    const r = await run([
      "train",
      "--model",
      "conv",
      "--filters",
      "4",
      "--batchnorm",
      "--train-samples",
      "300",
      "--val",
      "60",
      "--batch-size",
      "20",
      "--epochs",
      "1",
      "--out",
      out,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/DeepConvNet filters 4 \+ batchnorm/);
    const { tensors } = tl.decodeSafetensors(new Uint8Array(readFileSync(join(out, "checkpoint.safetensors"))));
    expect(tensors["buffers.runningMean1"].shape).toEqual([4]);
    expect(tensors["resume.buffers.runningVar1"].shape).toEqual([4]);
    const e = await run(["eval", "--checkpoint", join(out, "checkpoint.safetensors")]);
    expect(e.code, e.stderr).toBe(0);
    expect(/test accuracy +(\S+)/.exec(e.stdout)![1]).toBe(/test accuracy +(\S+)/.exec(r.stdout)![1]);
    // --tta flip: train reports it beside the plain figure and in summary.json; eval agrees.
    const t = await run([
      "train",
      "--model",
      "conv",
      "--filters",
      "4",
      "--batchnorm",
      "--train-samples",
      "300",
      "--val",
      "60",
      "--batch-size",
      "20",
      "--epochs",
      "1",
      "--out",
      `${out}-tta`,
      "--tta",
      "flip",
    ]);
    expect(t.code, t.stderr).toBe(0);
    const flipAcc = /test accuracy, tta +(\S+) \(each image's scores added to its mirror's\)/.exec(t.stdout)![1];
    const summary = JSON.parse(readFileSync(join(`${out}-tta`, "summary.json"), "utf8"));
    expect(summary.testAccuracyFlipTta.toFixed(4)).toBe(flipAcc);
    const ef = await run(["eval", "--checkpoint", join(`${out}-tta`, "checkpoint.safetensors"), "--tta", "flip"]);
    expect(ef.code, ef.stderr).toBe(0);
    expect(/test accuracy (\S+) \(\d+\/\d+\), each image's scores added to its mirror's/.exec(ef.stdout)![1]).toBe(flipAcc);
    const bad = await run(["eval", "--checkpoint", join(out, "checkpoint.safetensors"), "--tta", "crop"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--tta.*crop.*(none|flip)/);
  });

  it("train --model resnet: widths, blocks and label smoothing shape the run; eval and --resume read the Sequential back; option clashes are named", async () => {
    const out = join(dir, "resnet");
    const args = [
      "train",
      "--model",
      "resnet",
      "--widths",
      "4,8",
      "--blocks",
      "1",
      "--label-smoothing",
      "0.1",
      "--update",
      "nesterov",
      "--weight-decay",
      "5e-4",
      "--train-samples",
      "200",
      "--val",
      "40",
      "--batch-size",
      "20",
      "--out",
      out,
    ];
    const r = await run([...args, "--epochs", "1"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Sequential of 10 modules \(2 residual blocks\), label smoothing 0\.1 \([\d,]+ params\)/);
    expect(r.stdout).toMatch(/training: nesterov lr 0\.01 decay 0\.9\/epoch, weight decay 0\.0005, 1 epoch/);
    const e = await run(["eval", "--checkpoint", join(out, "checkpoint.safetensors")]);
    expect(e.code, e.stderr).toBe(0);
    expect(/test accuracy +(\S+)/.exec(e.stdout)![1]).toBe(/test accuracy +(\S+)/.exec(r.stdout)![1]);
    const resumed = await run(["train", "--resume", join(out, "checkpoint.safetensors"), "--epochs", "2", "--widths", "4,8"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/resuming after epoch 1/);
    const changed = await run(["train", "--resume", join(out, "checkpoint.safetensors"), "--epochs", "3", "--label-smoothing", "0.2"]);
    expect(changed.stderr).toMatch(/--label-smoothing cannot be changed when resuming: --label-smoothing 0\.2 \(the run has 0\.1\)/);
    const blocks = await run(["train", "--model", "resnet", "--widths", "4,8,16", "--blocks", "1,2"]);
    expect(blocks.stderr).toMatch(/--blocks needs one count for every stage or one per stage \(--widths has 3\), got 2/);
    const smoothing = await run(["train", "--label-smoothing", "0.1"]);
    expect(smoothing.stderr).toMatch(/--label-smoothing applies to --model resnet/);
    const zeroInit = await run(["train", "--model", "conv", "--zero-init-residual"]);
    expect(zeroInit.stderr).toMatch(/--zero-init-residual applies to --model resnet/);
    const zeroInitLater = await run(["train", "--resume", join(out, "checkpoint.safetensors"), "--epochs", "3", "--zero-init-residual"]);
    expect(zeroInitLater.stderr).toMatch(/--zero-init-residual cannot be changed when resuming/);
    const badEps = await run(["train", "--model", "resnet", "--label-smoothing", "1"]);
    expect(badEps.stderr).toMatch(/Expected a number in \[0, 1\)/);
  });

  it("--classes: trains and tests on those classes only, relabelled in order; eval tests the same classes; bad lists are refused", async () => {
    const out = join(dir, "classes");
    const r = await run(["train", "--classes", "7,5,9", "--hidden", "16", "--epochs", "1", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 classes \(7,5,9 of the data: Sneaker, Sandal, Ankle boot\), 600 test/);
    const e = await run(["eval", "--checkpoint", join(out, "checkpoint.safetensors")]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/^ +Sneaker +0\.\d{4} +\(\d+\/200\)\n +Sandal/m);
    expect(/test accuracy +(\S+)/.exec(e.stdout)![1]).toBe(/test accuracy +(\S+)/.exec(r.stdout)![1]);
    expect((await run(["train", "--classes", "3"])).stderr).toMatch(/Expected at least two classes/);
    expect((await run(["train", "--classes", "1,1"])).stderr).toMatch(/Expected each class once/);
    expect((await run(["train", "--classes", "8-12"])).stderr).toMatch(/--classes 8,9,10,11,12: the data has classes 0 to 9 \(no class 10\)/);
  });

  it("--from an ONNX file with --freeze fine-tunes the head (frozen weights keep their bits, the file's input scaling is kept); eval, export and --resume work on the run", async () => {
    const onnx = join(root, "..", "demo", "assets", "pretrained-0to4.onnx"); // 5 classes: a new head for the 10 of the data
    const out = join(dir, "from-onnx");
    const r = await run([
      "train",
      "--from",
      onnx,
      "--freeze",
      "^(?!W4|b4)",
      "--train-samples",
      "400",
      "--val",
      "100",
      "--batch-size",
      "50",
      "--epochs",
      "1",
      "--out",
      out,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Sequential of 14 modules \([\d,]+ params\) from pretrained-0to4\.onnx, 2 of 14 parameter tensors trained/);
    const saved = tl.decodeSafetensors(new Uint8Array(readFileSync(join(out, "checkpoint.safetensors"))));
    const imported = importOnnx(readFileSync(onnx));
    for (const name of ["W1", "gamma2", "W3"]) {
      expect(Array.from(saved.tensors[`resume.params.${name}`].data), name).toEqual(Array.from(imported.params[name].toArray()));
    }
    imported.dispose();
    const meta = JSON.parse(saved.metadata.meta);
    expect(meta.data.normalization.mean[0]).toBeCloseTo(0.3136, 4); // the pretrained net's, not the new data's
    const e = await run(["eval", "--checkpoint", join(out, "checkpoint.safetensors")]);
    expect(e.code, e.stderr).toBe(0);
    expect(/test accuracy +(\S+)/.exec(e.stdout)![1]).toBe(/test accuracy +(\S+)/.exec(r.stdout)![1]);
    const x = await run(["export", "--onnx", join(out, "tuned.onnx"), "--checkpoint", join(out, "checkpoint.safetensors")]);
    expect(x.stdout).toMatch(/Sequential, input x \(N, 1, 28, 28\), output scores \(N, 10\)/);
    const resumed = await run(["train", "--resume", join(out, "checkpoint.safetensors"), "--epochs", "2"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/2 of 14 parameter tensors trained/);
    // A checkpoint as the start of a new run, with other options.
    const again = await run([
      "train",
      "--from",
      join(out, "checkpoint.safetensors"),
      "--lr",
      "1e-4",
      "--train-samples",
      "300",
      "--val",
      "100",
      "--epochs",
      "1",
      "--out",
      join(dir, "from-ck"),
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/from checkpoint\.safetensors/);
  });

  it("--from and --freeze errors name the option and what to do", async () => {
    const onnx = join(root, "..", "demo", "assets", "pretrained-0to4.onnx");
    expect((await run(["train", "--from", onnx, "--hidden", "64"])).stderr).toMatch(
      /--hidden shapes a new model; with --from the model comes from .*pretrained-0to4\.onnx: drop it/,
    );
    expect((await run(["train", "--from", onnx, "--freeze", "nothing"])).stderr).toMatch(
      /--freeze nothing matches no parameter; the parameters are W1, b1, gamma1/,
    );
    expect((await run(["train", "--from", onnx, "--freeze", "."])).stderr).toMatch(/matches every parameter \(nothing would train\)/);
    expect((await run(["train", "--from", onnx, "--freeze", "("])).stderr).toMatch(/--freeze \(: not a regular expression/);
    expect((await run(["train", "--freeze", "W1"])).stderr).toMatch(/--freeze needs a model made of modules/);
    expect((await run(["train", "--from", join(dir, "nope.onnx")])).stderr).toMatch(/not found/);
    const ck5 = join(dir, "five");
    expect((await run(["train", "--classes", "0-4", "--hidden", "8", "--epochs", "1", "--train-samples", "200", "--val", "50", "--out", ck5])).code).toBe(0);
    expect((await run(["train", "--from", join(ck5, "checkpoint.safetensors"), "--train-samples", "200", "--val", "50"])).stderr).toMatch(
      /the model scores 5 classes but the data has 10 \(a checkpoint keeps its head; export it with tensorlane export --onnx/,
    );
  });

  it("init-experiment prints the per-layer table and writes its picture", async () => {
    const out = join(dir, "init");
    const r = await run(["init-experiment", "--width", "64", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Kaiming, ReLU/);
    expect(readFileSync(join(out, "init-experiment.svg"), "utf8").startsWith("<svg")).toBe(true);
  });

  it("errors say what to do and exit non-zero", async () => {
    const unknown = await run(["train", "--hiden", "10"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown option '--hiden'[\s\S]*Did you mean --hidden\?/);
    const bad = await run(["train", "--hidden", "100,abc"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/'--hidden <list>' argument '100,abc' is invalid\. Expected comma-separated positive integers, e\.g\. 100,100/);
    const rule = await run(["train", "--update", "lion"]);
    expect(rule.stderr).toMatch(/Allowed choices are sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw/);
    const missing = await run(["train", "--data", join(dir, "no-such-folder")]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/data folder not found/);
    expect(missing.stderr).toMatch(/apt-get install dataset-fashion-mnist/);
    const diverged = await run(["train", ...QUICK, "--update", "sgd", "--lr", "1e30", "--epochs", "1", "--out", join(dir, "diverged")]);
    expect(diverged.code).not.toBe(0);
    expect(diverged.stderr).toMatch(/the loss became (NaN|Infinity)[\s\S]*From the command line: a smaller --lr \(this run's is 1e\+30\)/);
    const clash = await run(["train", "--resume", join(dir, "smoke", "checkpoint.safetensors"), "--hidden", "64"]);
    expect(clash.code).not.toBe(0);
    expect(clash.stderr).toMatch(/--hidden cannot be changed when resuming/);
  });

  it("a run folder that holds a run is not overwritten: the message names the folder, --resume, --force and a new name", async () => {
    const out = join(dir, "smoke");
    const before = readFileSync(join(out, "checkpoint.safetensors"));
    const again = await run(["train", ...QUICK, "--epochs", "1", "--out", out]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/smoke already holds a run \(checkpoint\.safetensors, summary\.json, training\.svg\)/);
    expect(again.stderr).toMatch(/--resume smoke\/checkpoint\.safetensors/);
    expect(again.stderr).toMatch(/--force/);
    expect(again.stderr).toMatch(/a new --out/);
    expect(readFileSync(join(out, "checkpoint.safetensors")).equals(before), "checkpoint untouched").toBe(true);
    const named = await run(["train", ...QUICK, "--epochs", "1", "--name", "twice"]);
    expect(named.code, named.stderr).toBe(0);
    const twice = await run(["train", ...QUICK, "--epochs", "1", "--name", "twice"]);
    expect(twice.stderr).toMatch(/runs\/twice already holds a run[\s\S]*or choose a new --name/);
    const forced = await run(["train", ...QUICK, "--epochs", "1", "--name", "twice", "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
  });

  it("--resume accepts the run's own options again and refuses only changes, naming old and new values", async () => {
    const out = join(dir, "same");
    const first = await run(["train", ...QUICK, "--epochs", "1", "--out", out]);
    expect(first.code, first.stderr).toBe(0);
    // The same command with --resume added (and a new total): every option agrees with the checkpoint.
    const same = await run(["train", ...QUICK, "--epochs", "2", "--out", out, "--resume", join(out, "checkpoint.safetensors")]);
    expect(same.stderr).toBe("");
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/resuming after epoch 1/);
    expect(same.stdout).toMatch(/adam lr 0\.0009 decay 0\.9\/epoch, 2 epochs x 25 batches of 20/); // the rate after one decay, as a person writes it
    const changed = await run(["train", ...QUICK, "--lr", "0.002", "--batch-size", "25", "--epochs", "3", "--resume", join(out, "checkpoint.safetensors")]);
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toMatch(
      /--lr, --batch-size cannot be changed when resuming: --lr 0\.002 \(the run has 0\.001\); --batch-size 25 \(the run has 20\)/,
    );
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(typeof summary.bestEpoch).toBe("number");
  });

  it("--keep last: the same run as --keep best, tested, saved and plotted with the last epoch's parameters; --resume keeps the choice", async () => {
    const lastOut = join(dir, "keep-last");
    const bestOut = join(dir, "keep-best");
    const common = [...QUICK, "--epochs", "3", "--lr", "0.01"];
    const [last, best] = await Promise.all([run(["train", ...common, "--keep", "last", "--out", lastOut]), run(["train", ...common, "--out", bestOut])]);
    expect(last.code, last.stderr).toBe(0);
    expect(best.code, best.stderr).toBe(0);
    expect(last.stdout).toMatch(/validation accuracy 0\.\d{4} \(last epoch; the best was 0\.\d{4}, (epoch \d|before epoch 1)\)/);
    expect(best.stdout).toMatch(/validation accuracy 0\.\d{4} \(best, (epoch \d|before epoch 1)\)/);
    const read = (out: string) => tl.decodeSafetensors(new Uint8Array(readFileSync(join(out, "checkpoint.safetensors"))));
    const l = read(lastOut);
    const b = read(bestOut);
    // One trajectory: the keep-best run's last parameters are the keep-last run's parameters to use.
    expect(JSON.parse(l.metadata.solver).lossHistory).toEqual(JSON.parse(b.metadata.solver).lossHistory);
    for (const name of ["W1", "b1", "W2", "b2"]) {
      expect(Array.from(l.tensors[name].data), name).toEqual(Array.from(l.tensors[`resume.params.${name}`].data));
      expect(Array.from(l.tensors[name].data), name).toEqual(Array.from(b.tensors[`resume.params.${name}`].data));
    }
    const summary = JSON.parse(readFileSync(join(lastOut, "summary.json"), "utf8"));
    expect(summary.keep).toBe("last");
    expect(summary.lastValAccuracy.toFixed(4)).toBe(/validation accuracy (0\.\d{4})/.exec(last.stdout)![1]);
    expect(JSON.parse(readFileSync(join(bestOut, "summary.json"), "utf8")).keep).toBe("best");
    expect(readFileSync(join(lastOut, "training.svg"), "utf8")).toMatch(/last validation 0\.\d{4} \(epoch 3\)/);
    expect(readFileSync(join(bestOut, "training.svg"), "utf8")).toMatch(/best validation 0\.\d{4}/);
    const printed = /test accuracy +(0\.\d{4})/.exec(last.stdout)![1];
    const e = await run(["eval", "--checkpoint", join(lastOut, "checkpoint.safetensors")]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(new RegExp(`test accuracy ${printed} `));
    const changed = await run(["train", "--resume", join(lastOut, "checkpoint.safetensors"), "--keep", "best", "--epochs", "4"]);
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toMatch(/--keep cannot be changed when resuming: --keep best \(the run has last\)/);
    const more = await run(["train", "--resume", join(lastOut, "checkpoint.safetensors"), "--epochs", "4"]);
    expect(more.code, more.stderr).toBe(0);
    expect(more.stdout).toMatch(/resuming after epoch 3/);
    expect(more.stdout).toMatch(/\(last epoch; the best was/);
  });

  it("--ema: the same steps as without it; the average is checked, tested, saved and evaluated, the raw parameters tested beside it", async () => {
    const emaOut = join(dir, "ema");
    const plainOut = join(dir, "ema-plain");
    const common = [...QUICK, "--epochs", "3", "--lr", "0.01", "--keep", "last"];
    const [ema, plain] = await Promise.all([run(["train", ...common, "--ema", "0.9", "--out", emaOut]), run(["train", ...common, "--out", plainOut])]);
    expect(ema.code, ema.stderr).toBe(0);
    expect(plain.code, plain.stderr).toBe(0);
    expect(ema.stdout).toMatch(/, moving average 0\.9\n/);
    const raw = /test accuracy, raw +(0\.\d{4}) \(the last step's own parameters, not averaged\)/.exec(ema.stdout)?.[1];
    expect(raw, ema.stdout).toBeDefined();
    expect(plain.stdout).not.toMatch(/test accuracy, raw/);
    // The raw parameters are the plain run's: the same test accuracy.
    expect(raw).toBe(/test accuracy +(0\.\d{4})/.exec(plain.stdout)![1]);
    const read = (out: string) => tl.decodeSafetensors(new Uint8Array(readFileSync(join(out, "checkpoint.safetensors"))));
    const e = read(emaOut);
    const p = read(plainOut);
    expect(JSON.parse(e.metadata.solver).lossHistory).toEqual(JSON.parse(p.metadata.solver).lossHistory);
    for (const name of ["W1", "b1", "W2", "b2"]) {
      expect(Array.from(e.tensors[`resume.params.${name}`].data), name).toEqual(Array.from(p.tensors[name].data));
      expect(Array.from(e.tensors[name].data), name).toEqual(Array.from(e.tensors[`resume.average.params.${name}`].data));
      expect(Array.from(e.tensors[name].data), name).not.toEqual(Array.from(p.tensors[name].data));
    }
    const summary = JSON.parse(readFileSync(join(emaOut, "summary.json"), "utf8"));
    expect(summary.emaDecay).toBe(0.9);
    expect(summary.testAccuracyRaw.toFixed(4)).toBe(raw);
    expect(JSON.parse(readFileSync(join(plainOut, "summary.json"), "utf8")).emaDecay).toBeUndefined();
    expect(readFileSync(join(emaOut, "training.svg"), "utf8")).toMatch(/test accuracy 0\.\d{4} \(EMA 0\.9\)/);
    const printed = /test accuracy +(0\.\d{4})/.exec(ema.stdout)![1];
    const evaluated = await run(["eval", "--checkpoint", join(emaOut, "checkpoint.safetensors")]);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.stdout).toMatch(new RegExp(`test accuracy ${printed} `));
    const changed = await run(["train", "--resume", join(emaOut, "checkpoint.safetensors"), "--ema", "0.99", "--epochs", "4"]);
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toMatch(/--ema cannot be changed when resuming: --ema 0\.99 \(the run has 0\.9\)/);
    const added = await run(["train", "--resume", join(plainOut, "checkpoint.safetensors"), "--ema", "0.9", "--epochs", "4"]);
    expect(added.stderr).toMatch(/--ema cannot be changed when resuming: --ema 0\.9 \(the run has \(default\)\)/);
    const more = await run(["train", "--resume", join(emaOut, "checkpoint.safetensors"), "--epochs", "4"]);
    expect(more.code, more.stderr).toBe(0);
    expect(more.stdout).toMatch(/moving average 0\.9, resuming after epoch 3/);
    const bad = await run(["train", ...QUICK, "--ema", "1"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--ema.*Expected a number in \(0, 1\), e\.g\. 0\.999/);
  });

  it("--resume of a checkpoint written before --keep and --ema existed takes them at their defaults, as the run had them", async () => {
    const out = join(dir, "before-keep");
    const first = await run(["train", ...QUICK, "--epochs", "1", "--out", out]);
    expect(first.code, first.stderr).toBe(0);
    const path = join(out, "checkpoint.safetensors");
    const file = tl.decodeSafetensors(new Uint8Array(readFileSync(path)));
    const meta = JSON.parse(file.metadata.meta);
    delete meta.cli.options.keep;
    delete meta.cli.options.ema;
    const metadata = { ...file.metadata, meta: JSON.stringify(meta) };
    writeFileSync(path, tl.encodeSafetensors(file.tensors, tl.internal.sealCheckpoint(file.tensors, metadata)));
    const same = await run(["train", "--resume", path, "--keep", "best", "--epochs", "2"]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toMatch(/resuming after epoch 1/);
    const changed = await run(["train", "--resume", path, "--keep", "last", "--epochs", "3"]);
    expect(changed.stderr).toMatch(/--keep cannot be changed when resuming: --keep last \(the run has best\)/);
  });

  it("SIGINT stops a run cleanly: the last epoch's checkpoint is intact and the printed command resumes it", async () => {
    const out = join(dir, "interrupted");
    const child = spawn(process.execPath, [cli, "train", ...QUICK, "--train-samples", "2000", "--epochs", "500", "--out", out], { cwd: dir });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    await new Promise<void>((ready) => {
      const poll = setInterval(() => {
        if (/epoch 2\/500/.test(stdout)) {
          clearInterval(poll);
          ready();
        }
      }, 20);
    });
    // One writer per run folder: a second command on the same folder is refused, naming the first.
    const lock = JSON.parse(readFileSync(join(out, ".lock"), "utf8"));
    expect(lock).toMatchObject({ pid: expect.any(Number), commandPid: child.pid, host: hostname() });
    expect(lock.command).toMatch(/^tensorlane train --hidden 32 .* --out \S+interrupted$/);
    const second = await run(["train", "--resume", join(out, "checkpoint.safetensors"), "--epochs", "600"]);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(
      new RegExp(
        `interrupted is in use by another tensorlane run \\(pid ${child.pid} on this host, started [^)]*: \`tensorlane train --hidden 32[^\`]*\`\\)\\. Wait for it to finish or stop it \\(kill ${child.pid}`,
      ),
    );
    child.kill("SIGINT");
    const code = await new Promise<number | null>((done) => child.on("exit", (c) => done(c)));
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted \(SIGINT\); the step in progress was abandoned/);
    const epoch = Number(/The checkpoint of epoch (\d+)\/500 is intact: interrupted\/checkpoint\.safetensors/.exec(stderr)?.[1]);
    expect(epoch, stderr).toBeGreaterThanOrEqual(2);
    const command = /Resume with:\n {2}tensorlane (train --resume \S+)\n/.exec(stderr)?.[1];
    expect(command, stderr).toBe("train --resume interrupted/checkpoint.safetensors");
    // Nothing half-written, no lock; the summary and the plot cover the epochs that finished.
    expect(readdirSync(out).sort()).toEqual(["checkpoint.safetensors", "summary.json", "training.svg"]);
    const ck = tl.loadCheckpoint(new Uint8Array(readFileSync(join(out, "checkpoint.safetensors"))));
    expect(ck.solver?.epoch).toBe(epoch);
    ck.model.dispose();
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(summary).toMatchObject({ finished: false, epochs: epoch, numEpochs: 500, testAccuracy: null });
    expect(readFileSync(join(out, "training.svg"), "utf8")).toMatch(new RegExp(`epoch ${epoch}/500, best validation accuracy 0\\.\\d{4}`));
    const resumed = await run([...command!.split(" "), "--epochs", String(epoch + 1)]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`resuming after epoch ${epoch}`));
  });

  it("a full disk during a checkpoint write: the previous checkpoint stays, training stops saying what happened and how to resume, and --resume then finishes the run bit for bit", async () => {
    // Fault injection in the file writer: a preload wraps fs.openSync/fs.writeSync so that the
    // third checkpoint's temporary file gets ENOSPC after its first chunk (bytes already on disk).
    const hook = join(dir, "full-disk.mjs");
    writeFileSync(
      hook,
      [
        `import fs from "node:fs";`,
        `import { syncBuiltinESMExports } from "node:module";`,
        `const open = fs.openSync, write = fs.writeSync;`,
        `let opened = 0, chunks = 0, doomed = -1;`,
        `fs.openSync = (path, ...rest) => {`,
        `  const fd = open(path, ...rest);`,
        `  if (/\\.checkpoint\\.safetensors\\.\\d+\\.\\d+\\.tmp$/.test(String(path)) && ++opened === 3) doomed = fd;`,
        `  return fd;`,
        `};`,
        `fs.writeSync = (fd, ...rest) => {`,
        `  if (fd === doomed && chunks++ > 0) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", errno: -28, syscall: "write" });`,
        `  return write(fd, ...rest);`,
        `};`,
        `syncBuiltinESMExports();`,
      ].join("\n"),
    );
    const full = join(dir, "full");
    const straight = join(dir, "full-straight");
    const [f, s] = await Promise.all([
      run(["train", ...QUICK, "--epochs", "4", "--out", full], ["--import", pathToFileURL(hook).href]),
      run(["train", ...QUICK, "--epochs", "4", "--out", straight]),
    ]);
    expect(s.code, s.stderr).toBe(0);
    expect(f.code).toBe(1);
    expect(f.stderr).toBe(
      "tensorlane: error: could not write full/checkpoint.safetensors after epoch 3/4: the disk is full (ENOSPC). Training stopped; the failed write left nothing behind.\n" +
        "The checkpoint of epoch 2/4 is intact: full/checkpoint.safetensors\n" +
        "Free some space, then resume with:\n" +
        "  tensorlane train --resume full/checkpoint.safetensors\n",
    );
    expect(readdirSync(full).sort(), "no temporary file, no lock").toEqual(["checkpoint.safetensors", "summary.json", "training.svg"]);
    const ck = tl.loadCheckpoint(new Uint8Array(readFileSync(join(full, "checkpoint.safetensors"))), "full/checkpoint.safetensors");
    expect(ck.solver?.epoch).toBe(2);
    ck.model.dispose();
    expect(JSON.parse(readFileSync(join(full, "summary.json"), "utf8"))).toMatchObject({ finished: false, epochs: 2 });
    // There is space again: the printed command finishes the run, as if nothing had happened.
    const resumed = await run(["train", "--resume", "full/checkpoint.safetensors"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/resuming after epoch 2/);
    expect(readFileSync(join(full, "checkpoint.safetensors")).equals(readFileSync(join(straight, "checkpoint.safetensors"))), "checkpoint files differ").toBe(
      true,
    );
    expect(JSON.parse(readFileSync(join(full, "summary.json"), "utf8"))).toMatchObject({ finished: true, epochs: 4 });
  });

  it("a lock left by a run that is gone, and its half-written temporary file, are taken over and removed with a note; a lock from another host is refused", async () => {
    const out = join(dir, "stale");
    const first = await run(["train", ...QUICK, "--epochs", "1", "--out", out]);
    expect(first.code, first.stderr).toBe(0);
    // Pids of processes that ran and ended (an invented pid may belong to a live process).
    const deadPid = () => Number(execFileSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" }));
    const dead = deadPid();
    const deadCommand = deadPid();
    const lock = { pid: dead, commandPid: deadCommand, host: hostname(), startedAt: "2026-01-01T00:00:00.000Z", command: "tensorlane train --out stale" };
    writeFileSync(join(out, ".lock"), JSON.stringify(lock));
    writeFileSync(join(out, `.checkpoint.safetensors.${dead}.7.tmp`), "half a checkpoint");
    const r = await run(["train", "--resume", join(out, "checkpoint.safetensors"), "--epochs", "2"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(
        `note: stale/\\.lock was left by a run that is gone \\(pid ${dead}, command pid ${deadCommand}, started 2026-01-01T00:00:00\\.000Z\\): taking it over`,
      ),
    );
    expect(r.stderr).toMatch(
      new RegExp(`note: removed \\.checkpoint\\.safetensors\\.${dead}\\.7\\.tmp from stale, left by a run that was killed while writing`),
    );
    expect(readdirSync(out).sort()).toEqual(["checkpoint.safetensors", "summary.json", "training.svg"]);

    writeFileSync(join(out, ".lock"), JSON.stringify({ ...lock, host: "build-server-2" }));
    const far = await run(["train", "--resume", join(out, "checkpoint.safetensors"), "--epochs", "3"]);
    expect(far.code).not.toBe(0);
    expect(far.stderr).toMatch(
      /stale is locked by a tensorlane run on another host \(build-server-2: pid \d+, .*\)\. This machine cannot tell whether it still runs: if it does not, delete stale\/\.lock and run the command again/,
    );
    rmSync(join(out, ".lock"));
  });

  it("a damaged checkpoint: eval, --resume and --from name the file and the part that is wrong", async () => {
    const good = readFileSync(join(dir, "smoke", "checkpoint.safetensors"));
    const headerLength = good.readUInt32LE(0);
    const data = Buffer.from(good);
    data[8 + headerLength + 100] ^= 0x04; // in W1's bytes
    writeFileSync(join(dir, "data-flip.safetensors"), data);
    const header = Buffer.from(good);
    const at = header.indexOf('batchSize\\":20');
    expect(at).toBeGreaterThan(0);
    header[at + 'batchSize\\":2'.length] ^= 0x01; // 20 -> 21 in the run's options (meta): still valid JSON
    writeFileSync(join(dir, "header-flip.safetensors"), header);
    const brace = Buffer.from(good);
    brace[8] ^= 0x01; // the header's "{"
    writeFileSync(join(dir, "brace-flip.safetensors"), brace);
    writeFileSync(join(dir, "cut-short.safetensors"), good.subarray(0, good.length - 10));
    for (const command of [
      ["eval", "--checkpoint"],
      ["train", "--resume"],
      ["train", "--from"],
    ]) {
      const d = await run([...command, "data-flip.safetensors"]);
      expect(d.code).not.toBe(0);
      expect(d.stderr).toMatch(
        /^tensorlane: error: loadCheckpoint: data-flip\.safetensors: the tensor data is corrupted: the bytes of tensor "W1" \(data bytes 0\.\.100352\) are damaged/,
      );
      const h = await run([...command, "header-flip.safetensors"]);
      expect(h.code).not.toBe(0);
      expect(h.stderr).toMatch(
        /^tensorlane: error: loadCheckpoint: header-flip\.safetensors: the header is damaged: metadata "meta" has CRC-32 [0-9a-f]{8}, the file says [0-9a-f]{8}/,
      );
      const b = await run([...command, "brace-flip.safetensors"]);
      expect(b.code).not.toBe(0);
      expect(b.stderr).toMatch(/^tensorlane: error: decodeSafetensors: brace-flip\.safetensors: the header must be a JSON object starting with "\{"/);
      const c = await run([...command, "cut-short.safetensors"]);
      expect(c.code).not.toBe(0);
      expect(c.stderr).toMatch(
        /^tensorlane: error: decodeSafetensors: cut-short\.safetensors: tensor "[^"]+" has data_offsets \[\d+, \d+\] past the end of the data .*truncated/,
      );
      for (const r of [d, h, b, c]) expect(r.stderr, command.join(" ")).not.toMatch(/\n\s+at /);
    }
    expect(readdirSync(dir).filter((f) => f.startsWith("."))).toEqual([]); // --resume released its lock
  });

  it("a run that fails before writing anything leaves no folder behind", async () => {
    const r = await run(["train", "--data", join(dir, "no-such-folder"), "--name", "never"]);
    expect(r.code).not.toBe(0);
    expect(existsSync(join(dir, "runs", "never"))).toBe(false);
  });

  it("eval names Fashion-MNIST's classes for an IDX folder (IDX files carry no names) and the checkpoint stores them", async () => {
    // The subset's IDX files in a folder whose name says nothing: recognised by what the images are.
    const data = join(dir, "idx-folder");
    cpSync(join(root, "data", "fashion-mnist-subset"), data, { recursive: true });
    const out = join(dir, "named");
    const r = await run(["train", ...QUICK, "--epochs", "1", "--data", data, "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    const meta = JSON.parse(tl.decodeSafetensors(new Uint8Array(readFileSync(join(out, "checkpoint.safetensors")))).metadata.meta);
    expect(meta.data.classes).toEqual([...tlData.FASHION_MNIST_CLASSES]);
    const e = await run(["eval", "--checkpoint", join(out, "checkpoint.safetensors")]);
    expect(e.code, e.stderr).toBe(0);
    for (const name of ["T-shirt/top", "Trouser", "Ankle boot"]) expect(e.stdout).toMatch(new RegExp(`\\n  ${name.replace("/", "\\/")} +0\\.\\d{4}`));
    expect(e.stdout).not.toMatch(/\n {2}0 +0\.\d{4}/);
  });

  it("eval of a corrupted or truncated checkpoint: a clear error, no stack trace", async () => {
    const good = readFileSync(join(dir, "smoke", "checkpoint.safetensors"));
    const flipped = Buffer.from(good);
    flipped[flipped.length - 3] ^= 1;
    writeFileSync(join(dir, "flipped.safetensors"), flipped);
    writeFileSync(join(dir, "cut.safetensors"), good.subarray(0, good.length >> 1));
    const f = await run(["eval", "--checkpoint", "flipped.safetensors"]);
    expect(f.code).not.toBe(0);
    expect(f.stderr).toMatch(/^tensorlane: error: loadCheckpoint: flipped\.safetensors: the tensor data is corrupted/);
    expect(f.stderr).not.toMatch(/\n\s+at /);
    const t = await run(["eval", "--checkpoint", "cut.safetensors"]);
    expect(t.stderr).toMatch(/cut\.safetensors: .*truncated/);
    const none = await run(["eval", "--checkpoint", "nothing.safetensors"]);
    expect(none.stderr).toMatch(/checkpoint not found: nothing\.safetensors/);
  });
});
