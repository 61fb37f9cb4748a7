// Bundles the platform-neutral library into one ESM file with the wasm inlined (as base64 in
// src/generated), and ships the standalone .wasm beside it for runtimes that need a Module.
import { copyFileSync, mkdirSync } from "node:fs";
import esbuild from "rollup-plugin-esbuild";

const copyWasm = {
  name: "copy-standalone-wasm",
  writeBundle() {
    mkdirSync("dist", { recursive: true });
    copyFileSync("build/tensorlane.wasm", "dist/tensorlane.wasm");
  },
};

export default [
  {
    input: "src/index.ts",
    output: { file: "dist/tensorlane.js", format: "es", sourcemap: true },
    plugins: [esbuild({ target: "es2022", minify: true }), copyWasm],
  },
];
