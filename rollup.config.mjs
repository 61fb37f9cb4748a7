// Bundles the platform-neutral library with the wasm inlined (as base64 in src/generated):
//   dist/tensorlane.js       ESM, for Node, browsers, bundlers, Deno, Bun (`import "tensorlane"`)
//   dist/tensorlane.iife.js  a plain <script> build that sets the global `tensorlane`
//   dist/tensorlane.wasm     the standalone module (`tensorlane/wasm`), for runtimes that need a
//                            precompiled WebAssembly.Module (Cloudflare Workers): init({ module })
//   dist/tensorlane-worker.js the thread worker (plain JS, no imports), found beside the bundle
//                            with new URL("./tensorlane-worker.js", import.meta.url)
//   dist/tensorlane-f64.wasm the float64 kernels (`tensorlane/wasm-f64`), for init({ float64: { module } })
//   dist/chunks/threads-*.js what starts the workers, loaded by init({ threads }) only
//   dist/chunks/float64-*.js the float64 kernels inlined, loaded by init({ float64: true }) only
//   dist/node.js             `tensorlane/node`: tensorlane/data and files on disk (data folders, checkpoints)
//   dist/onnx.js             `tensorlane/onnx`: exportOnnx (platform-neutral; imports the core)
//   dist/data.js             `tensorlane/data`: data sets, IDX / CIFAR-10 readers, gzip
//   dist/experiments.js      `tensorlane/experiments`: the weight-initialization experiment
// The ESM entries are one build, so they share one copy of the core (one wasm instance, one
// tensor registry): dist/tensorlane.js imports nothing, the others import it.
// The command line is its own package (cli/, built by its own script), importing these entries.
// Hand-written declarations for the non-TypeScript entries (types/*.d.ts) are copied beside the
// ones tsc emits into dist/types.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import esbuild from "rollup-plugin-esbuild";
import { minify } from "terser";

const copyAssets = {
  name: "copy-standalone-wasm-and-entry-types",
  writeBundle() {
    mkdirSync("dist/types", { recursive: true });
    copyFileSync("build/tensorlane.wasm", "dist/tensorlane.wasm");
    copyFileSync("build/tensorlane-f64.wasm", "dist/tensorlane-f64.wasm");
    copyFileSync("src/core/threads/tensorlane-worker.js", "dist/tensorlane-worker.js");
    for (const file of readdirSync("types")) copyFileSync(`types/${file}`, `dist/types/${file}`);
  },
};

// dist/ ships only what this build makes: chunk names carry content hashes, and declaration files
// of moved or deleted sources would otherwise stay (and be packed) after a restructure.
rmSync("dist", { recursive: true, force: true });

// The ESM files keep the /* @__PURE__ */ annotations that let an app's bundler leave out what it
// does not use (the kernel families' descriptors above all: src/core/kernel-families.ts). esbuild's
// minifier drops every comment, annotations included, so esbuild only strips the types and terser
// minifies (preserve_annotations). The <script> build is no bundler's input: esbuild minifies it.
// Line length 160: an uncaught error prints its line of the bundle, which would otherwise be all of it.
const esm = [esbuild({ target: "es2022" }), terserKeepingAnnotations()];
const plugins = [esbuild({ target: "es2022", minify: true, lineLimit: 160 })];

function terserKeepingAnnotations() {
  return {
    name: "terser-keeping-annotations",
    async renderChunk(code) {
      const result = await minify(code, {
        module: true,
        ecma: 2022,
        sourceMap: { asObject: true },
        format: { comments: false, preserve_annotations: true, max_line_len: 160 },
      });
      return { code: result.code, map: result.map };
    },
  };
}

// The library has no runtime dependencies: only Node built-ins (in the Node entry) stay imports.
const external = (id) => id.startsWith("node:");
const srcDir = resolve("src") + sep;
// The entries beside the library's reach the core through its exports (public names and
// `internal`): their own modules stay out of dist/tensorlane.js. data/dataset.ts and data/batches.ts
// are the Solver's (the core's); the rest of data/ is tensorlane/data's.
const ownEntry = (id) =>
  ["node", "onnx", "experiments"].some((dir) => id.startsWith(join(srcDir, dir) + sep)) ||
  (id.startsWith(join(srcDir, "data") + sep) && !["dataset.ts", "batches.ts"].some((file) => id === join(srcDir, "data", file)));
const isCore = (id) => id.startsWith(srcDir) && !ownEntry(id);
// What turns threads on (src/core/runtime.ts imports it dynamically) is a chunk of its own, so the
// library entry stays small for the many users who never start workers.
const threadsChunk = new Set(["start", "pool", "shared-module", "workers"].map((name) => join(srcDir, "core", "threads", `${name}.ts`)));
// The float64 kernels likewise: apps that never ask for float64 load none of their bytes.
const float64Chunk = join(srcDir, "generated", "wasm-f64-base64.ts");

export default [
  {
    input: {
      tensorlane: "src/index.ts",
      node: "src/node/index.ts",
      onnx: "src/onnx/index.ts",
      data: "src/data/index.ts",
      experiments: "src/experiments/index.ts",
    },
    external,
    output: {
      dir: "dist",
      format: "es",
      sourcemap: true,
      // Maps without the sources' text: stack traces need only the mappings and file names, and
      // the text (the inlined wasm's base64 included) would triple the installed size.
      sourcemapExcludeSources: true,
      // Namespace objects (`internal`) as plain literals: Object.freeze(...) is a call a bundler
      // must keep, which would drag every internal helper into apps that never use them.
      freeze: false,
      entryFileNames: "[name].js",
      chunkFileNames: "chunks/[name]-[hash].js",
      // Every core module goes with the library entry, whichever entry uses it, so that
      // dist/tensorlane.js stays self-contained and the Node entries import it.
      manualChunks: (id) => (threadsChunk.has(id) ? "threads" : id === float64Chunk ? "float64" : isCore(id) ? "tensorlane" : undefined),
    },
    plugins: [...esm, copyAssets],
  },
  {
    input: "src/index.ts",
    output: { file: "dist/tensorlane.iife.js", format: "iife", name: "tensorlane", sourcemap: true, sourcemapExcludeSources: true, inlineDynamicImports: true },
    plugins,
  },
];
