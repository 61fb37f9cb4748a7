import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url));

export default defineConfig({
  // The CLI package's sources import the library by name: give them the same source modules the
  // library's tests use (one wasm instance), not the built dist/.
  resolve: {
    alias: [
      { find: /^tensorlane$/, replacement: src("index.ts") },
      { find: /^tensorlane\/node$/, replacement: src("node/index.ts") },
      { find: /^tensorlane\/onnx$/, replacement: src("onnx/index.ts") },
      { find: /^tensorlane\/data$/, replacement: src("data/index.ts") },
      { find: /^tensorlane\/experiments$/, replacement: src("experiments/index.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts", "cli/test/**/*.test.ts"],
    environment: "node",
    setupFiles: ["test/setup/fast-check.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default"],
  },
});
