// Rebuilds demo/assets/pretrained-0to4.onnx, the network the fine-tuning panel starts from: the
// CLI trains a DeepConvNet (8-16-32 filters, batch norm, 2x2 pools) on Fashion-MNIST classes 0-4
// only (Debian's dataset-fashion-mnist), then exports it to ONNX (about 32 KB).
//   node demo/make-pretrained.mjs        (about 1.5 minutes on one core)
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../cli/dist/cli.js", import.meta.url));
const asset = fileURLToPath(new URL("./assets/pretrained-0to4.onnx", import.meta.url));
const run = mkdtempSync(join(tmpdir(), "tensorlane-pretrained-"));
try {
  const train = [
    "train",
    "--model",
    "conv",
    "--filters",
    "8,16,32",
    "--batchnorm",
    "--classes",
    "0-4",
    "--data",
    "/usr/share/datasets/fashion-mnist",
    "--epochs",
    "8",
    "--augment",
    "flip",
    "--lr-schedule",
    "cosine",
    "--seed",
    "1",
    "--out",
    run,
    "--force",
  ];
  execFileSync(process.execPath, [cli, ...train], { stdio: "inherit" });
  execFileSync(process.execPath, [cli, "export", "--onnx", asset, "--checkpoint", join(run, "checkpoint.safetensors")], { stdio: "inherit" });
} finally {
  rmSync(run, { recursive: true, force: true });
}
