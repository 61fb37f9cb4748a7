// `tensorlane export --onnx FILE --checkpoint FILE`: a checkpoint's model as an ONNX file, with
// the data normalization and class names (when the checkpoint has them) in its metadata, since a
// deployed model needs its inputs scaled the way training scaled them.
import { basename, resolve } from "node:path";
import { init, loadCheckpoint, type DeepConvNet, type FullyConnectedNet, type Sequential } from "tensorlane";
import { readFileBytes, writeFileAtomic } from "tensorlane/node";
import { exportOnnx } from "tensorlane/onnx";
import type { DataRecord } from "./data.js";
import type { Output } from "./progress.js";

export interface ExportOptions {
  onnx: string;
  checkpoint: string;
}

export async function runExport(o: ExportOptions, out: Output): Promise<void> {
  await init({ float64: true }); // float64 too: a float64 checkpoint then gets exportOnnx's own explanation
  const ck = loadCheckpoint(await readFileBytes(o.checkpoint, { what: "checkpoint" }), o.checkpoint);
  try {
    const data = (ck.meta as { data?: Partial<DataRecord> }).data;
    const metadata: Record<string, string> = { source_checkpoint: basename(o.checkpoint) }; // no local paths in a shipped file
    if (data?.normalization) metadata.normalization = JSON.stringify(data.normalization);
    if (data?.classes) metadata.classes = JSON.stringify(data.classes);
    const bytes = exportOnnx(ck.model as FullyConnectedNet | DeepConvNet | Sequential, { metadata });
    await writeFileAtomic(resolve(o.onnx), bytes);
    const config = ck.model.config as { inputDim?: number; inputDims?: number[]; inputShape?: number[]; numClasses: number };
    const dims = config.inputDims ?? config.inputShape;
    const input = dims ? `(N, ${dims.join(", ")})` : `(N, ${config.inputDim})`;
    out.write(`wrote ${o.onnx} (${bytes.length} bytes, ONNX opset 13): ${ck.kind}, input x ${input}, output scores (N, ${config.numClasses})\n`);
    if (data?.normalization) {
      const { mean, std } = data.normalization;
      out.write(`inputs are pixel values scaled as (pixel / 255 - mean) / std per channel, mean [${mean.join(", ")}], std [${std.join(", ")}]\n`);
    }
  } finally {
    ck.model.dispose();
  }
}
