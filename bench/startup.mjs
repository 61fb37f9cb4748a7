// Start-up: cold import + init in fresh processes (interleaved, medians), since init() is
// once per process and a warm process would measure nothing.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { summarize } from "./harness.mjs";

const CHILD = fileURLToPath(new URL("./startup-child.mjs", import.meta.url));
const BUNDLE = fileURLToPath(new URL("../dist/tensorlane.js", import.meta.url));
export const STARTUP_CONTENDERS = [
  ["tensorlane", "tensorlane"],
  ["tfjs-wasm-1t", "tfjs-wasm"],
  ["tfjs-cpu", "tfjs-cpu"],
];

/** name -> { init, import, ready: stats in ms } or { unavailable }; ready = import + init. */
export function measureStartup(runs) {
  const samples = new Map(STARTUP_CONTENDERS.map(([name]) => [name, { init: [], import: [], ready: [] }]));
  const failed = new Map();
  if (!existsSync(BUNDLE)) failed.set("tensorlane", "dist/tensorlane.js missing: run `npm run build`");
  for (let r = 0; r < runs; r++) {
    for (const [name, arg] of STARTUP_CONTENDERS) {
      if (failed.has(name)) continue;
      const child = spawnSync(process.execPath, [CHILD, arg], { encoding: "utf8", timeout: 60_000 });
      try {
        if (child.status !== 0) throw new Error(child.stderr.trim().split("\n").slice(-1)[0] || `exit ${child.status}`);
        const { importMs, initMs } = JSON.parse(child.stdout.trim().split("\n").pop());
        samples.get(name).init.push(initMs);
        samples.get(name).import.push(importMs);
        samples.get(name).ready.push(importMs + initMs);
      } catch (error) {
        failed.set(name, `error: ${error.message}`);
      }
    }
  }
  const out = {};
  for (const [name, s] of samples) {
    out[name] = failed.has(name) ? { unavailable: failed.get(name) } : { init: summarize(s.init), import: summarize(s.import), ready: summarize(s.ready) };
  }
  return out;
}
