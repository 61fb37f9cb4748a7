#!/usr/bin/env node
// `npm start`: builds tensorlane when dist/ is missing or older than the sources, then runs the
// CLI with the arguments given (`npm start -- --epochs 3` passes --epochs 3 to `tensorlane train`).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "cli", "dist", "cli.js"); // the tensorlane-cli workspace package

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path)) {
    if (name === "generated") continue; // written by the build itself
    newest = Math.max(newest, newestMtime(join(path, name)));
  }
  return newest;
}

const sources = ["src", "assembly", "cli/src", "cli/package.json", "scripts/build-wasm.mjs", "rollup.config.mjs", "package.json", "asconfig.json"];
const built = existsSync(cli) ? statSync(cli).mtimeMs : 0;
if (built === 0 || sources.some((s) => newestMtime(join(root, s)) > built)) {
  process.stdout.write(built === 0 ? "Building tensorlane (first run, about 15 s)...\n" : "Sources changed: rebuilding tensorlane...\n");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const result = spawnSync(npm, ["run", "build", "--silent"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout ?? ""}${result.stderr ?? ""}\nnpm start: the build failed (above); fix it, or run \`npm run build\` to see it alone\n`);
    process.exit(result.status ?? 1);
  }
}

process.argv = [process.argv[0], cli, ...process.argv.slice(2)];
await import(pathToFileURL(cli).href);
