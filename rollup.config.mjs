// Bundles the platform-neutral library into one ESM file with the wasm inlined (as base64 in
// src/generated), and ships the standalone .wasm beside it for runtimes that need a Module.
// One build with three entries, so they share one copy of the core (one wasm instance, one
// tensor registry): dist/tensorlane.js (the library: imports nothing), dist/node.js (files on
// disk: imports ./tensorlane.js) and dist/cli.js (the `tensorlane` executable).
import { copyFileSync, mkdirSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import esbuild from "rollup-plugin-esbuild";

const copyWasm = {
  name: "copy-standalone-wasm",
  writeBundle() {
    mkdirSync("dist", { recursive: true });
    copyFileSync("build/tensorlane.wasm", "dist/tensorlane.wasm");
  },
};

// Runtime dependencies of the Node entries stay imports (installed with the package).
const external = (id) => id.startsWith("node:") || ["commander", "cli-progress", "vega", "vega-lite"].includes(id);

const srcDir = resolve("src") + sep;
const isCore = (id) => id.startsWith(srcDir) && !id.startsWith(join(srcDir, "node") + sep) && !id.startsWith(join(srcDir, "cli") + sep);

export default [
  {
    input: { tensorlane: "src/index.ts", node: "src/node/index.ts", cli: "src/cli/bin.ts" },
    external,
    output: {
      dir: "dist",
      format: "es",
      sourcemap: true,
      entryFileNames: "[name].js",
      chunkFileNames: "chunks/[name]-[hash].js",
      // Every core module goes with the library entry, whichever entry uses it, so that
      // dist/tensorlane.js stays self-contained and the Node entries import it.
      manualChunks: (id) => (isCore(id) ? "tensorlane" : undefined),
      banner: (chunk) => (chunk.isEntry && chunk.name === "cli" ? "#!/usr/bin/env node" : ""),
    },
    plugins: [esbuild({ target: "es2022", minify: true }), copyWasm],
  },
];
