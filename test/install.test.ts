// Installing the library as a user would without the npm registry's copy: `npm i <folder>` of a
// fresh git clone (npm links the folder and runs its `prepare`, which installs the build tools
// and builds dist/; a git URL runs the same `prepare` in npm's own clone), then importing it by
// name from another folder. Also: an error thrown inside the library names its src/ file when
// Node maps the stack (`--enable-source-maps`), through the source maps shipped in dist/.
// The clone is of the last commit (HEAD), so uncommitted changes are not what this installs.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "tensorlane-install-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The user's environment, not the one `npm test` makes: without its npm_* variables
// (npm_config_local_prefix would point the inner npm at this repository) and without the
// node_modules/.bin folders on PATH (@as-pect's dependencies bring an npm 6 there).
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
env.PATH = (process.env.PATH ?? "")
  .split(":")
  .filter((p) => !p.endsWith("node_modules/.bin"))
  .join(":");
const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env });

const SCRIPT = `import * as tl from "tensorlane";
await tl.init();
console.log(JSON.stringify(Array.from(tl.randn([3], { seed: 1 }).toArray())));
tl.tensor([[1, 2], [3]]); // not rectangular: throws a RangeError from src/core/tensor.ts
`;

describe("install", () => {
  it("an error from the library shows its src/ file and function with --enable-source-maps", () => {
    expect(existsSync(join(root, "dist", "tensorlane.js.map")), "run `npm run build` first").toBe(true);
    const consumer = join(dir, "maps");
    mkdirSync(join(consumer, "node_modules"), { recursive: true });
    execFileSync("ln", ["-s", root, join(consumer, "node_modules", "tensorlane")]);
    writeFileSync(join(consumer, "run.mjs"), SCRIPT);
    const stack = (flags: string[]) => {
      try {
        run(process.execPath, [...flags, "run.mjs"], consumer);
      } catch (error) {
        return String((error as { stderr: string }).stderr);
      }
      throw new Error("run.mjs did not throw");
    };
    const mapped = stack(["--enable-source-maps"]);
    expect(mapped).toMatch(/RangeError: tensor: data is not rectangular/);
    expect(mapped, mapped).toMatch(/at \w+ \(.*src\/core\/tensor\.ts:\d+:\d+\)/);
    expect(mapped).toMatch(/at walk \(/); // the source's own function names, not the minified ones
    const raw = stack([]);
    expect(raw).not.toMatch(/src\/core\/tensor\.ts/); // the flag is what makes the difference
    // Without it, Node prints the bundle's line where the error was thrown: a short line, not the
    // whole minified bundle (rollup.config.mjs sets esbuild's lineLimit).
    expect(raw.length, raw.slice(0, 400)).toBeLessThan(2000);
  });

  it("npm i <folder> of a fresh git clone builds dist/ (prepare) and imports by name", () => {
    const clone = join(dir, "clone");
    run("git", ["clone", "--quiet", "--no-hardlinks", root, clone], dir);
    run("git", ["checkout", "--quiet", run("git", ["rev-parse", "HEAD"], root).trim()], clone);
    expect(existsSync(join(clone, "dist")), "dist/ is not committed").toBe(false);
    const app = join(dir, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", clone], app);
    expect(existsSync(join(clone, "dist", "tensorlane.js"))).toBe(true);
    writeFileSync(join(app, "run.mjs"), SCRIPT.split("\n").slice(0, 3).join("\n"));
    const output = run(process.execPath, ["run.mjs"], app).trim();
    const values = JSON.parse(output) as number[];
    expect(values).toHaveLength(3);
    // The same seeded numbers as the library in this checkout gives.
    const here = join(dir, "here");
    mkdirSync(join(here, "node_modules"), { recursive: true });
    execFileSync("ln", ["-s", root, join(here, "node_modules", "tensorlane")]);
    writeFileSync(join(here, "run.mjs"), SCRIPT.split("\n").slice(0, 3).join("\n"));
    expect(JSON.parse(run(process.execPath, ["run.mjs"], here).trim())).toEqual(values);
  }, 600_000);
});
