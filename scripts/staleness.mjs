// When a build output is older than its sources: shared by `npm start` (scripts/start.mjs) and
// npm's `prepare` (scripts/prepare.mjs), which rebuild only then.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** The newest modification time under path (ms; 0 when missing), skipping build-written `generated/`. */
export function newestMtime(path) {
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

/** True when `output` is missing or any of `sources` (paths under root) changed after it. */
export function isStale(root, output, sources) {
  if (!existsSync(output)) return true;
  const built = statSync(output).mtimeMs;
  return sources.some((s) => newestMtime(join(root, s)) > built);
}
