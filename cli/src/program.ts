// The `tensorlane` command line: argument parsing and help with commander, errors as one clear
// message and a non-zero exit code.
import { Command, Option } from "commander";
import { resolve } from "node:path";
import { FileFormatError, init, VERSION } from "tensorlane";
import { CliError } from "./errors.js";
import { runEval } from "./eval.js";
import { runExport } from "./export.js";
import type { Output } from "./progress.js";
import { runTrain, UPDATE_RULES, type TrainOptions } from "./train.js";
import * as v from "./values.js";

const TRAIN_EXAMPLES = `
Examples:
  $ tensorlane train                                   # default FC net on the built-in Fashion-MNIST subset
  $ tensorlane train --hidden 512,256 --dropout 0.2 --epochs 20
  $ tensorlane train --data /usr/share/datasets/fashion-mnist --epochs 15 --out runs/fmnist
  $ tensorlane train --model conv --filters 32,64,64 --batchnorm --reg 1e-3 --data /usr/share/datasets/fashion-mnist
  $ tensorlane train --model conv --filters 32,64 --batchnorm --augment flip,crop:2 --data /usr/share/datasets/fashion-mnist
  $ tensorlane train --model resnet --widths 32,64,128 --downsample-first --update nesterov --lr 0.1 --weight-decay 5e-4 --lr-schedule cosine \\
      --label-smoothing 0.1 --augment flip,crop:2 --data /usr/share/datasets/fashion-mnist --threads auto
  $ tensorlane train --data ~/cifar-10-batches-bin --update momentum --lr 1e-2
  $ tensorlane train --lr-schedule cosine --warmup-epochs 1 --epochs 10
  $ tensorlane train --update adamw --weight-decay 0.05 --decay weights
  $ tensorlane train --resume runs/fmnist/checkpoint.safetensors --epochs 20
  $ tensorlane train --from model.onnx --freeze '^(?!13\\.)' --data /usr/share/datasets/fashion-mnist   # fine-tune the head
  $ tensorlane train --from runs/fmnist/checkpoint.safetensors --lr 1e-4 --epochs 3                  # a new run from its weights

--data takes an IDX folder (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]; e.g. apt-get install
dataset-fashion-mnist, then /usr/share/datasets/fashion-mnist) or a CIFAR-10 binary folder
(data_batch_1.bin .. data_batch_5.bin, test_batch.bin).

The run folder gets checkpoint.safetensors (the best parameters by validation accuracy plus
everything --resume needs), training.svg (loss on a log scale and accuracy, by epoch) and
summary.json, all three rewritten after every epoch. --resume continues bit-identically to a run
that was never interrupted; --epochs is then the new total. One command at a time writes a run
folder (it holds <run>/.lock); if the command is killed, its training stops within a second.`;

const EVAL_EXAMPLES = `
Examples:
  $ tensorlane eval --checkpoint runs/fmnist/checkpoint.safetensors
  $ tensorlane eval --checkpoint model.safetensors --data /usr/share/datasets/fashion-mnist
  $ tensorlane eval --checkpoint runs/fmnist/checkpoint.safetensors --tta flip   # images and their mirrors`;

const MAIN_EXAMPLES = `
Examples:
  $ tensorlane train                 # a few seconds on 2 cores; prints test accuracy
  $ tensorlane train --help          # every training option
  $ tensorlane eval --checkpoint runs/<run>/checkpoint.safetensors
  $ tensorlane export --onnx model.onnx --checkpoint runs/<run>/checkpoint.safetensors`;

export interface Io {
  stdout: Output;
  stderr: Output;
}

function processIo(): Io {
  return {
    stdout: { write: (t) => void process.stdout.write(t), isTTY: process.stdout.isTTY === true, columns: process.stdout.columns },
    stderr: { write: (t) => void process.stderr.write(t), isTTY: process.stderr.isTTY === true },
  };
}

export function buildProgram(io: Io = processIo()): Command {
  const program = new Command("tensorlane")
    .description("Train and evaluate small neural networks (WebAssembly SIMD) from the terminal.")
    .version(VERSION, "-V, --version")
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText("after", MAIN_EXAMPLES);

  program
    .command("train")
    .description("Train a model, print validation and test accuracy, write a checkpoint and a picture of the curves.")
    .addOption(
      new Option("--model <kind>", "fc: fully connected net; conv: DeepConvNet (3x3 conv layers); resnet: a small ResNet (tl.models.resnet)")
        .choices(["fc", "conv", "resnet"])
        .default("fc"),
    )
    .addOption(new Option("--hidden <list>", "fc: hidden layer widths").argParser(v.intList).default([256, 128], "256,128"))
    .addOption(new Option("--filters <list>", "conv: filters per conv layer").argParser(v.intList).default([16, 32], "16,32"))
    .addOption(
      new Option("--widths <list>", "resnet: channels of each stage (each stage after the first halves the image)")
        .argParser(v.intList)
        .default([16, 32, 64], "16,32,64"),
    )
    .option("--downsample-first", "resnet: the first stage halves the image too (4x less work in it; for 28x28 and larger)", false)
    .option("--zero-init-residual", "resnet: each block's last batch norm starts with gamma 0 (every block starts as its shortcut)", false)
    .addOption(new Option("--blocks <list>", "resnet: basic blocks per stage, one count for all or one per stage").argParser(v.intList).default([1], "1"))
    .option("--label-smoothing <eps>", "resnet: train against (1 - eps)·one-hot + eps/classes", v.labelSmoothing, 0)
    .option("--pools <list>", "conv: conv layers followed by a 2x2 max pool, from 0 (default: all)", v.indexList)
    .option("--batchnorm", "batch normalization after each hidden/conv layer", false)
    .option("--dropout <p>", "fc: probability of dropping a hidden unit", v.probability, 0)
    .option("--reg <r>", "L2 regularization strength", v.nonNegativeNumber, 0)
    .option("--weight-scale <s>", 'initialization: "kaiming", "xavier" or a standard deviation', v.weightScale, "kaiming")
    .addOption(new Option("--update <rule>", "update rule").choices(Object.keys(UPDATE_RULES)).default("adam"))
    .option("--lr <rate>", "learning rate (default: the rule's, 1e-3 for adam and adamw, 1e-2 for the others)", v.positiveNumber)
    .option(
      "--weight-decay <wd>",
      "decoupled weight decay: every step first shrinks the weights by lr·wd (default: 0.01 for adamw, else 0)",
      v.nonNegativeNumber,
    )
    .addOption(
      new Option("--decay <params>", "what --weight-decay shrinks: all parameters, or weights only (no biases, no batch-norm scales and shifts)")
        .choices(["all", "weights"])
        .default("all"),
    )
    .option("--lr-decay <d>", "learning rate multiplier after every epoch", v.decay, 0.9)
    .addOption(
      new Option("--lr-schedule <kind>", "decay: --lr-decay after every epoch; cosine: cosine annealing every iteration, to 0 at the end")
        .choices(["decay", "cosine"])
        .default("decay"),
    )
    .option("--warmup-epochs <n>", "cosine: epochs of linear warm-up before annealing (may be fractional)", v.nonNegativeNumber)
    .option("--epochs <n>", "epochs to train (with --resume: the new total) (default: 10; with --resume: the run's)", v.positiveInt)
    .option("--batch-size <n>", "images per gradient step", v.positiveInt, 100)
    .option(
      "--augment <list>",
      "augment every training batch, in order: flip[:p], crop:padding, cutout:size, mixup:alpha (e.g. flip,crop:2,cutout:8,mixup:0.2)",
      v.augmentList,
    )
    .option("--seed <n>", "seed for initialization, split, sampling and dropout", v.seed, 0)
    .option("--data <dir>", "IDX or CIFAR-10 binary folder (default: the built-in Fashion-MNIST subset)")
    .option("--val <n>", "training images held out for validation (default: 10%)", v.positiveInt)
    .addOption(
      new Option("--keep <which>", "the parameters the run ends with (tested and saved for eval): best by validation accuracy, or the last epoch's")
        .choices(["best", "last"])
        .default("best"),
    )
    .option(
      "--ema <decay>",
      "keep a moving average of the parameters with this decay per step (e.g. 0.999): checked, tested and saved instead of the raw ones",
      v.emaDecay,
    )
    .option("--classes <list>", "train and test on these classes only (e.g. 0,1,2,3,4), relabelled 0, 1, ... in this order", v.classList)
    .option("--train-samples <n>", "train on a seeded subset of n training images (quick tries)", v.positiveInt)
    .option("--out <dir>", "run folder (default: runs/<name or timestamp>; with --resume: the checkpoint's folder)")
    .option("--name <name>", "run name, for the default --out runs/<name>")
    .option("--resume <file>", "continue the run saved in this checkpoint")
    .option("--from <file>", "a new run that starts from this model: an .onnx file (a new last layer when the data has other classes) or a checkpoint")
    .option(
      "--freeze <regex>",
      "freeze the parameters whose names match (e.g. '^(?!13\\.)' trains only module 13); see the names with --from and a wrong regex",
    )
    .option("--force", "overwrite the run already in the run folder", false)
    .option("--threads <n>", 'threads that run the kernels, or "auto" for every core (same results for any count)', v.threads, 1)
    .addOption(
      new Option("--tta <kind>", "test-time augmentation: flip also reports the test accuracy with each image's scores added to its mirror's")
        .choices(["none", "flip"])
        .default("none"),
    )
    .addHelpText("after", TRAIN_EXAMPLES)
    .action(async (opts: TrainOptions & { epochs?: number }, cmd: Command) => {
      const given = new Set(Object.keys(opts).filter((k) => cmd.getOptionValueSource(k) === "cli"));
      const o = { ...opts, epochs: opts.epochs ?? (opts.resume === undefined ? 10 : undefined) };
      await runTrain(o, given, io.stdout, io.stderr);
    });

  program
    .command("eval")
    .description("Evaluate a checkpoint on the test split of its data (or of --data).")
    .requiredOption("--checkpoint <file>", "checkpoint.safetensors written by tensorlane train")
    .option("--data <dir>", "IDX or CIFAR-10 binary folder (default: the data the model was trained on)")
    .option("--batch-size <n>", "images scored at a time", v.positiveInt, 500)
    .option("--threads <n>", 'threads that run the kernels, or "auto" for every core', v.threads, 1)
    .addOption(
      new Option("--tta <kind>", "test-time augmentation: flip adds each image's class scores to its mirror's before choosing")
        .choices(["none", "flip"])
        .default("none"),
    )
    .addHelpText("after", EVAL_EXAMPLES)
    .action(async (opts: { checkpoint: string; data?: string; batchSize: number; threads: number | "auto"; tta: "none" | "flip" }) => {
      await runEval(opts, io.stdout);
    });

  program
    .command("export")
    .description("Write a checkpoint's model as an ONNX file (opset 13, dynamic batch) for ONNX Runtime and other ONNX tools.")
    .requiredOption("--onnx <file>", "the .onnx file to write")
    .requiredOption("--checkpoint <file>", "checkpoint.safetensors written by tensorlane train")
    .addHelpText("after", "\nExample:\n  $ tensorlane export --onnx model.onnx --checkpoint runs/fmnist/checkpoint.safetensors")
    .action(async (opts: { onnx: string; checkpoint: string }) => {
      await runExport(opts, io.stdout);
    });

  program
    .command("init-experiment")
    .description("The notes' weight-initialization experiment: activation statistics per layer for std 0.01/0.05, Xavier and Kaiming.")
    .option("--out <dir>", "folder for init-experiment.svg", "runs/init-experiment")
    .option("--width <n>", "layer width", v.positiveInt, 4096)
    .option("--seed <n>", "seed of the random input and weights", v.seed, 0)
    .addHelpText("after", "\nExample:\n  $ tensorlane init-experiment --width 1024 --out runs/init")
    .action(async (opts: { out: string; width: number; seed: number }) => {
      await init();
      const { initExperimentToFiles } = await import("./init-experiment.js");
      const path = await initExperimentToFiles(resolve(opts.out), { width: opts.width, seed: opts.seed }, (s) => io.stdout.write(`${s}\n`));
      io.stdout.write(`wrote ${path}\n`);
    });

  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const program = buildProgram(io);
  program.exitOverride();
  for (const cmd of program.commands) cmd.exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    const e = error as { code?: string; exitCode?: number };
    if (typeof e.code === "string" && e.code.startsWith("commander.")) return e.exitCode ?? 1; // commander printed it
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`tensorlane: error: ${message}\n`);
    // Bad input (ours or a library check) is the whole story; anything else may be a bug.
    const expected =
      error instanceof CliError ||
      error instanceof FileFormatError ||
      error instanceof RangeError ||
      error instanceof TypeError ||
      /not found|cannot be read|is a folder/.test(message);
    if (process.env.TENSORLANE_DEBUG && error instanceof Error) io.stderr.write(`${error.stack}\n`);
    else if (!expected) io.stderr.write("(set TENSORLANE_DEBUG=1 to see where it happened)\n");
    return 1;
  }
}
