// Wasm memory when the Solver trains from a CIFAR-10-sized byte set: 50,000 images of 3x32x32
// (synthetic bytes: only the size matters here), split 45,000 / 5,000 as the CLI does, the
// README's DeepConvNet (32,64,64 filters, batch norm), batches of 100 through
// flip, crop:4, cutout:8, mixup:0.2, and the first accuracy check (1,000 training samples, all
// 5,000 validation images). Prints wasm memory after each stage; the float32 path would hold
// 45,000 x 3,072 x 4 = 553 MB of training images alone. Measured on the augment branch (loaded
// 2-core machine): 176.7 MB peak, of which 99 MB are live tensors (the model's workspace for batch
// 100, the Solver's 1,000-image accuracy sample, parameters and Adam state); the rest is the
// allocator's growth by doubling. No image bytes: they stay in host memory.
// Run: npx esbuild bench/cifar-bytes-memory.ts --bundle --platform=node --format=esm --outfile=build/bench-cifar-memory.mjs && node build/bench-cifar-memory.mjs [steps]
import * as tl from "../src/index.js";
import * as tlData from "../src/data/index.js";
import { wasmMemoryBytes } from "../src/core/runtime.js";

await tl.init();
const steps = Number(process.argv[2] ?? 5);
const MB = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const log = (what: string) => console.log(`${what.padEnd(58)} wasm memory ${MB(wasmMemoryBytes())}`);

log("after init");
const N = 50_000;
const images = new Uint8Array(N * 3 * 32 * 32);
for (let i = 0, s = 12345; i < images.length; i++) {
  s = (Math.imul(s, 1103515245) + 12345) >>> 0; // any bytes will do: the figure is about size
  images[i] = s >>> 24;
}
const labels = Int32Array.from({ length: N }, (_, i) => i % 10);
const all = tlData.makeDataset(images, labels, [3, 32, 32], { numClasses: 10 });
const { train, val } = tlData.splitTrainVal(all, { valCount: 5000, seed: 1 });
const normalization = tlData.computeNormalization(train);
log(`byte set ready on the host (${MB(images.length)} of bytes)`);

const model = new tl.DeepConvNet({
  inputDims: [3, 32, 32],
  numFilters: [32, 64, 64],
  maxPools: [0, 1, 2],
  batchnorm: true,
  numClasses: 10,
  weightScale: "kaiming",
  reg: 1e-3,
  seed: 1,
});
const solver = new tl.Solver(
  model,
  { train, val, normalization },
  {
    updateRule: "adam",
    batchSize: 100,
    numEpochs: 1,
    numTrainSamples: 1000,
    numValSamples: null,
    verbose: false,
    seed: 2,
    augment: [{ type: "randomFlip" }, { type: "randomCrop", padding: 4 }, { type: "cutout", size: 8 }, { type: "mixup", alpha: 0.2 }],
  },
);
log("Solver made (the bytes stay on the host)");
let peak = wasmMemoryBytes();
const start = performance.now();
solver.onProgress = (e) => {
  peak = Math.max(peak, wasmMemoryBytes());
  log(`iteration ${e.iteration}${e.valAcc === undefined ? "" : " (with the accuracy checks)"}, ${((performance.now() - start) / 1000).toFixed(1)} s`);
  if (e.iteration >= steps) throw new Error("enough");
};
try {
  solver.train();
} catch (error) {
  if ((error as Error).message !== "enough") throw error;
}
console.log(`peak wasm memory: ${MB(peak)} (target: below 250 MB); live tensors now ${MB(tl.memory().bytes)} (params, optimizer state, workspaces)`);
solver.dispose();
model.dispose();
