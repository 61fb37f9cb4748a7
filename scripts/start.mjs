#!/usr/bin/env node
// `npm start`: builds tensorlane when dist/ is missing or older than the sources, then runs the
// CLI with the arguments given (`npm start -- --epochs 3` passes --epochs 3 to `tensorlane train`).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isStale } from "./staleness.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "cli", "dist", "cli.js"); // the tensorlane-cli workspace package

const sources = ["src", "assembly", "cli/src", "cli/package.json", "scripts/build-wasm.mjs", "rollup.config.mjs", "package.json", "asconfig.json"];
if (isStale(root, cli, sources)) {
  process.stdout.write(existsSync(cli) ? "Sources changed: rebuilding tensorlane...\n" : "Building tensorlane (first run, about 15 s)...\n");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const result = spawnSync(npm, ["run", "build", "--silent"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (result.status !== 0) {
    process.stderr.write(
      `${result.stdout ?? ""}${result.stderr ?? ""}\nnpm start: the build failed (above); fix it, or run \`npm run build\` to see it alone\n`,
    );
    process.exit(result.status ?? 1);
  }
}

process.argv = [process.argv[0], cli, ...process.argv.slice(2)];
await import(pathToFileURL(cli).href);
