// What a user pays for the library: small apps bundled from the built package with esbuild
// --minify (does tree-shaking drop what an app does not use?), and the install footprint of the
// packed tarball (one package, no dependencies). Needs `npm run build` (npm test does it).
// Every figure is printed with issue 23's target beside it: what a page loads at start when a
// code-splitting bundler (Vite, webpack, esbuild --splitting) bundles the app. The float64
// kernels and the thread start-up are chunks loaded on demand (init({ float64 }), init({ threads })),
// so they count only in the one-file bundle, which inlines every dynamic import. The limits
// asserted are BUDGETS: the sizes measured now plus a little, so that growth fails here. Lower a
// budget whenever a change makes room. The float32 kernels come as a core module and kernel
// families (conv, norm, pool, activation, augment), each carried by the code that calls it
// (src/core/kernel-families.ts): every app carries the core, and only the families its code uses,
// which the tests below check by looking for each family's bytes in the bundles.
// Budgets sit at the sizes measured + 0.5 KB; every rise names its cause in the commit that made
// it (git log -p test/package-size.test.ts). The largest since issue 23's split: issue 22's GEMV
// path, packed weights and faster conv kernels (forward panels, fused epilogues, batch-1 blocks,
// the padded-image backward), which live in the core, the conv family and the float64 module.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "tensorlane-size-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KB = 1024;
// The npm that runs this Node (node_modules/.bin may hold an older npm that some devDependency
// brings along, without --pack-destination).
const npmCli = join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "bin", "npm-cli.js");
const npm = (args: string[], cwd: string) =>
  existsSync(npmCli)
    ? execFileSync(process.execPath, [npmCli, ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
    : execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const kb = (bytes: number) => `${(bytes / KB).toFixed(1)} KB`;

/** The float32 kernel modules, by family (src/generated/wasm-<family>-base64.ts), in name order. */
const FAMILIES = readdirSync(join(root, "src", "generated"))
  .map((file) => file.match(/^wasm-(\w+)-base64\.ts$/)?.[1])
  .filter((family): family is string => family !== undefined && family !== "f64")
  .sort();
/** A stretch of each kernel family's inlined bytes (base64): what finds it in a bundle. */
const FAMILY_MARKERS = Object.fromEntries(
  FAMILIES.map((family) => {
    const text = readFileSync(join(root, "src", "generated", `wasm-${family}-base64.ts`), "utf8").match(/"([A-Za-z0-9+/=]+)"/)![1];
    return [family, text.slice(200, 260)];
  }),
);
/** The families whose bytes a bundle (its files' text) carries. */
const familiesIn = (code: string) => FAMILIES.filter((family) => code.includes(FAMILY_MARKERS[family]));

// Each app does real work with what it imports (so nothing is dropped as unused by the app
// itself) and prints a line the test checks after running the bundle in Node.
const APPS = {
  // Everything the library exports, kept alive: the whole browser bundle as a bundler sees it.
  everything: {
    limit: 118 * KB, // the float64 module inlined, every float32 family, tl.nn, Sequential, checkpoint checksums; the Solver's emaDecay +0.4 KB; inference's Winograd convs (kernel in the conv family and the float64 module, its host path) and zeroInitResidual +2.6 KB; training's Winograd dw (its kernel in both modules) +4.1 KB (117.5 measured)
    splitLimit: 89.1 * KB, // every family: 3 KB more wasm than one module (code the families repeat, in modules deflated apart); emaDecay +0.4 KB; Winograd + zeroInitResidual +1.7 KB; Winograd dw +2 KB (88.6 measured)
    target: 55 * KB,
    families: ["activation", "augment", "conv", "core", "norm", "optim", "pool", "train"],
    code: `import * as tl from "tensorlane";
await tl.init();
// Object.keys keeps every export alive, as a page using the whole API would.
console.log(Object.keys(tl).length > 60 && typeof tl.loadCheckpoint === "function" && typeof tl.Conv.forward === "function" ? "ok" : "missing exports");`,
  },
  // The issue's second app: init, FullyConnectedNet and Solver only.
  "init + FullyConnectedNet + Solver": {
    // One-file bundles inline the float64 module. FullyConnectedNet carries batch norm (its
    // normalization option), the Solver the augmentations (its augment option) and the byte path.
    limit: 70.4 * KB, // 67.4 KB measured with the Solver's moving average (emaDecay: its option, state, checkpoint tensors, kernel; +0.3 KB); 68.6 KB with the Winograd kernel in the inlined float64 module; 69.9 KB with the Winograd dw kernel there too
    splitLimit: 42.1 * KB, // 40.9 KB: the optim and train families' own headers and descriptors (+0.6 KB) bought the Linear app's 20 KB; emaDecay +0.2 KB
    target: 30 * KB,
    families: ["augment", "core", "norm", "optim", "train"],
    code: `import { init, randn, FullyConnectedNet, Solver } from "tensorlane";
await init();
const X = randn([40, 6], { seed: 1 });
const y = Int32Array.from({ length: 40 }, (_, i) => i % 3);
const net = new FullyConnectedNet({ hiddenDims: [8], inputDim: 6, numClasses: 3, weightScale: "kaiming", seed: 2 });
const solver = new Solver(net, { XTrain: X, yTrain: y, XVal: X, yVal: y }, { updateRule: "adam", numEpochs: 2, batchSize: 20, verbose: false, seed: 3 });
solver.train();
console.log(solver.lossHistory.length === 4 ? "ok" : "wrong history");`,
  },
  // The course's layer-by-layer style: Linear, ReLU, softmaxLoss and adam (plus init and tensors).
  "Linear + ReLU + softmaxLoss + adam": {
    limit: 48.7 * KB, // as above: 47.0 KB with the Winograd kernel in the inlined float64 module, 48.2 KB with the Winograd dw kernel
    splitLimit: 20 * KB, // issue 23's target, met with bytes to spare: growth in the core or its host path fails here
    target: 20 * KB,
    families: ["core"],
    code: `import { init, randn, zeros, Linear, ReLU, softmaxLoss, adam } from "tensorlane";
await init();
const x = randn([4, 5], { seed: 1 });
const w = randn([5, 3], { seed: 2, std: 0.1 });
const b = zeros([3]);
const [h, fc] = Linear.forward(x, w, b);
const [a, relu] = ReLU.forward(h);
const [loss, dscores] = softmaxLoss(a, [0, 1, 2, 1]);
const [, dw] = Linear.backward(ReLU.backward(dscores, relu), fc);
adam(w, dw, { learningRate: 1e-3 });
console.log(Number.isFinite(loss) ? "ok" : "bad loss");`,
  },
} as const;

interface Measured {
  raw: number;
  gzip: number;
  file: string;
}

async function bundle(name: string, code: string): Promise<Measured> {
  const { build } = await import("esbuild");
  const slug = name.replace(/[^a-z]+/gi, "-");
  const entry = join(dir, `${slug}.js`);
  const file = join(dir, `${slug}.bundle.js`);
  writeFileSync(entry, code);
  // The same as `esbuild app.js --bundle --minify --format=esm --platform=browser`.
  const result = await build({ entryPoints: [entry], bundle: true, minify: true, format: "esm", platform: "browser", outfile: file, logLevel: "silent" });
  expect(result.errors).toEqual([]);
  const bytes = readFileSync(file);
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, file };
}

/**
 * The same app bundled as a code-splitting bundler does by default (Vite, webpack; esbuild with
 * --splitting): what a page loads at start, and the chunks loaded later on demand (the thread
 * start-up, by init({ threads })).
 */
async function bundleSplit(name: string, code: string): Promise<{ entry: string; initial: number; lazy: number; lazyChunks: number; initialCode: string }> {
  const { build } = await import("esbuild");
  const slug = `${name.replace(/[^a-z]+/gi, "-")}-split`;
  const entry = join(dir, `${slug}.js`);
  const outdir = join(dir, `${slug}-out`);
  writeFileSync(entry, code);
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    splitting: true,
    outdir,
    metafile: true,
    logLevel: "silent",
  });
  expect(result.errors).toEqual([]);
  let initial = 0;
  let lazy = 0;
  let lazyChunks = 0;
  let entryFile = "";
  let initialCode = "";
  const outputs = result.metafile!.outputs;
  // Initial: the entry and the chunks it imports statically; everything else loads on demand.
  const statics = new Set<string>();
  const visit = (file: string) => {
    if (statics.has(file)) return;
    statics.add(file);
    for (const i of outputs[file].imports) if (i.kind === "import-statement") visit(i.path);
  };
  // (A dynamically imported chunk has an entryPoint too: the app's own is the one named after it.)
  for (const file of Object.keys(outputs)) {
    if (!file.endsWith(`/${slug}.js`)) continue;
    entryFile = file;
    visit(file);
  }
  for (const file of Object.keys(outputs)) {
    if (file.endsWith(".map")) continue;
    const text = readFileSync(resolve(file));
    const gz = gzipSync(text, { level: 9 }).length;
    if (statics.has(file)) {
      initial += gz;
      initialCode += text.toString("utf8");
    } else {
      lazy += gz;
      lazyChunks++;
    }
  }
  return { entry: resolve(entryFile), initial, lazy, lazyChunks, initialCode };
}

describe("bundle sizes: esbuild --minify of small apps (gzip -9)", () => {
  beforeAll(() => {
    expect(existsSync(join(root, "dist", "tensorlane.js")), "run `npm run build` first").toBe(true);
    // The app folder resolves "tensorlane" to this repository, as an installed package would.
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(root, join(dir, "node_modules", "tensorlane"), "dir");
  });

  for (const [name, app] of Object.entries(APPS)) {
    it(`${name}: within its budget of ${kb(app.limit)} gzip, and the bundle runs`, async () => {
      const m = await bundle(name, app.code);
      console.log(
        `bundle size, one file: ${name.padEnd(36)} ${kb(m.raw).padStart(9)} raw ${kb(m.gzip).padStart(8)} gzip (budget ${kb(app.limit)}; the float64 and thread chunks inlined)`,
      );
      const output = execFileSync(process.execPath, [m.file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      expect(output.trim()).toBe("ok");
      expect(familiesIn(readFileSync(m.file, "utf8")), `${name}: the kernel families bundled`).toEqual(app.families);
      expect(m.gzip, `${name}: ${kb(m.gzip)} gzip is over ${kb(app.limit)}`).toBeLessThanOrEqual(app.limit);
    });
  }

  for (const [name, app] of Object.entries(APPS)) {
    it(`${name}, code-split (--splitting): within its budget of ${kb(app.splitLimit)} gzip at start; float64 and threads are chunks loaded on demand`, async () => {
      const whole = await bundle(`${name} whole`, app.code);
      const split = await bundleSplit(name, app.code);
      console.log(
        `bundle size, code-split: ${name.padEnd(36)} ${kb(split.initial).padStart(8)} gzip at start (budget ${kb(app.splitLimit)}; issue 23's target ${kb(app.target)}` +
          `${split.initial > app.target ? `, not met by ${kb(split.initial - app.target)}` : ", met"}), ${kb(split.lazy)} in ${split.lazyChunks} chunk(s) on demand`,
      );
      const output = execFileSync(process.execPath, [split.entry], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      expect(output.trim()).toBe("ok");
      expect(split.lazyChunks, "init({ float64 }) and init({ threads }) load their own chunks").toBe(2);
      expect(familiesIn(split.initialCode), `${name}: the kernel families loaded at start`).toEqual(app.families);
      expect(split.initial).toBeLessThan(whole.gzip);
      expect(split.initial, `${name}: ${kb(split.initial)} gzip at start is over ${kb(app.splitLimit)}`).toBeLessThanOrEqual(app.splitLimit);
    });
  }

  it("code-split, with threads: init({ threads: 2 }) loads the start-up chunk and the workers run (worker script copied beside the bundle)", async () => {
    const code = `import { init, runtimeInfo, randn, Linear, zeros, dispose } from "tensorlane";
await init({ threads: 2 });
const [out] = Linear.forward(randn([64, 512], { seed: 1 }), randn([512, 256], { seed: 2 }), zeros([256]));
const info = runtimeInfo();
dispose();
console.log(info.threads === 2 && out.shape[1] === 256 ? "ok" : JSON.stringify(info));`;
    const split = await bundleSplit("threads app", code);
    copyFileSync(join(root, "dist", "tensorlane-worker.js"), join(dirname(split.entry), "tensorlane-worker.js"));
    const output = execFileSync(process.execPath, [split.entry], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(output.trim()).toBe("ok");
    expect(split.lazyChunks).toBe(2);
  });

  it("tree-shaking works: the small apps leave out the modules they do not use", async () => {
    // Names that only unused modules carry in their error messages: gradient checks, checkpoints,
    // the conv net and its layers.
    const unused = ["checkModelGradients", "evalNumericalGradient", "loadCheckpoint", "decodeSafetensors", "DeepConvNet", "Conv.forward", "MaxPool.forward"];
    const layers = await bundle("layers probe", APPS["Linear + ReLU + softmaxLoss + adam"].code);
    const solver = await bundle("solver probe", APPS["init + FullyConnectedNet + Solver"].code);
    const all = await bundle("all probe", APPS.everything.code);
    const found = (file: string, markers: string[]) => markers.filter((m) => readFileSync(file, "utf8").includes(m));
    expect(found(all.file, unused), "the whole bundle has every marker (so their absence below means something)").toEqual(unused);
    expect(found(layers.file, [...unused, "FullyConnectedNet", "Solver"]), "the Linear/ReLU app bundles").toEqual([]);
    expect(found(solver.file, unused), "the FullyConnectedNet/Solver app bundles").toEqual([]);
    // The data readers and the init experiment are subpath entries: not even the whole library has them.
    expect(found(all.file, ["runInitExperiment", "parseIdx", "parseCifar10", "gunzip", "makeDataset"]), "tensorlane/data and tensorlane/experiments").toEqual(
      [],
    );
  });

  it("a kernel family is carried by the code that uses it: a conv layer brings the conv family, the pooling layer the pool family", async () => {
    const conv = await bundle(
      "conv probe",
      `import { init, randn, zeros, Conv } from "tensorlane";
await init();
const [out] = Conv.forward(randn([1, 1, 4, 4], { seed: 1 }), randn([2, 1, 3, 3], { seed: 2 }), zeros([2]), { stride: 1, pad: 1 });
console.log(out.shape.join() === "1,2,4,4" ? "ok" : "bad");`,
    );
    expect(execFileSync(process.execPath, [conv.file], { encoding: "utf8" }).trim()).toBe("ok");
    expect(familiesIn(readFileSync(conv.file, "utf8"))).toEqual(["conv", "core"]);
    const pool = await bundle(
      "pool probe",
      `import { init, randn, MaxPool } from "tensorlane";
await init();
const [out] = MaxPool.forward(randn([1, 1, 4, 4], { seed: 1 }), { poolHeight: 2, poolWidth: 2, stride: 2 });
console.log(out.shape.join() === "1,1,2,2" ? "ok" : "bad");`,
    );
    expect(execFileSync(process.execPath, [pool.file], { encoding: "utf8" }).trim()).toBe("ok");
    expect(familiesIn(readFileSync(pool.file, "utf8"))).toEqual(["core", "pool"]);
    expect(FAMILIES).toEqual(["activation", "augment", "conv", "core", "norm", "optim", "pool", "train"]);
  });
});

/** Bytes of every file under path (symlinks not followed). */
function diskBytes(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.size;
  return readdirSync(path).reduce((sum, name) => sum + diskBytes(join(path, name)), 0);
}

describe("install footprint: npm pack, then npm install of the tarball in an empty folder", () => {
  it("installs exactly one package (no dependencies) of at most 1801 KB", () => {
    const packDir = join(dir, "pack");
    const app = join(dir, "install-app");
    mkdirSync(packDir);
    mkdirSync(app);
    // --ignore-scripts: pack what the build made, without rebuilding.
    const packed = JSON.parse(npm(["pack", "--json", "--ignore-scripts", "--pack-destination", packDir], root)) as {
      filename: string;
      size: number;
      unpackedSize: number;
      entryCount: number;
      files: { path: string }[];
    }[];
    const tarball = join(packDir, packed[0].filename);
    const paths = packed[0].files.map((f) => f.path);
    expect(paths).toContain("dist/tensorlane.js");
    expect(
      paths.filter((p) => p.startsWith("data/") || p.includes("cli.js")),
      "the data set and the CLI belong to tensorlane-cli",
    ).toEqual([]);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "size-probe", version: "1.0.0", private: true }));
    // Offline: the tarball has no dependencies, so nothing may need the registry.
    npm(["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball], app);
    const lock = JSON.parse(readFileSync(join(app, "node_modules", ".package-lock.json"), "utf8")) as { packages: Record<string, unknown> };
    const installed = Object.keys(lock.packages);
    const bytes = diskBytes(join(app, "node_modules", "tensorlane"));
    console.log(
      `install footprint: tarball ${kb(packed[0].size)}, ${packed[0].entryCount} files, unpacked ${kb(packed[0].unpackedSize)}; ` +
        `installed ${installed.length} package(s) [${installed.join(", ")}], ${kb(bytes)} on disk (limit 1801.0 KB)`,
    );
    expect(installed).toEqual(["node_modules/tensorlane"]);
    expect(readdirSync(join(app, "node_modules")).filter((n) => !n.startsWith("."))).toEqual(["tensorlane"]);
    // 1.5 MB until importOnnx and the state_dict functions (+150 KB: dist/onnx.js 49 KB and its map
    // 60 KB, the core bundles and maps 35 KB, types): 1536 + 150 KB, rounded. The IIFE's map
    // alone is 283 KB. 1780 KB: a doc comment on every export in the .d.ts files (+44 KB, what
    // editors show on hover), issue 22's conv packing and fused epilogues, and the folders' paths.
    // 1720 KB once the build cleared dist/ (1708.6 KB measured: declaration files of moved
    // sources had been packed too). 1735 KB: the Solver's moving average (emaDecay) in every
    // bundle, its map and its types (1728.5 KB measured). 1770 KB: inference's Winograd convs (the
    // conv family's and the float64 module's base64 in every bundle and map) and zeroInitResidual
    // (1765.5 KB measured). 1772 KB: training's convs by Winograd, forward and dx (the flipped
    // weight transform in both wasm modules, ops/conv-algorithm.ts; 1771.1 KB measured). 1801 KB:
    // their weight gradient by Winograd (assembly/winograd-dw.ts in both modules, base64 in every
    // bundle and map; 1800.0 KB measured).
    expect(bytes, `installed size ${kb(bytes)}`).toBeLessThanOrEqual(1801 * KB);
  }, 120_000);
});
