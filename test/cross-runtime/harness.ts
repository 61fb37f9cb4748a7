// Runs test/cross-runtime/scenario.js in each runtime and returns its result.
//   node, deno, bun   run-esm.js on dist/tensorlane.js, each as a child process (deno with no
//                     permissions at all: no file reads, no network)
//   workerd           dist/tensorlane.js + dist/tensorlane.wasm as a module binding, served on
//                     127.0.0.1 and asked over HTTP
//   chromium-*        headless Debian chromium via playwright-core, pages served from 127.0.0.1
//                     with a CSP that forbids eval and any network: the ESM bundle in a page, the
//                     plain <script> build, and the ESM bundle in a module Web Worker; then, served
//                     cross-origin isolated (COOP/COEP), a worker and a page with 2 threads
//   *-2-threads       the same run with init({ threads: 2 }): the worker pool must not change a bit;
//                     then dispatch-probe.js runs real kernels through runTasks on 2 threads (on
//                     .probe/lib.js, the library built from src with its dispatch seam exported)
// deno, bun and workerd come from test/cross-runtime/runtimes (`npm run runtimes:install`).
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

export interface ScenarioResult {
  steps: number;
  lossHistory: number[];
  hash: string;
  bytes: number;
  initMs?: number;
  runMs?: number;
  /** The float64 run's results (same fields). */
  float64: { steps: number; lossHistory: number[]; hash: string; bytes: number };
  /** The float32 Sequential with Winograd convs (same fields). */
  convs: { steps: number; lossHistory: number[]; hash: string; bytes: number };
  /** Threaded runs: real kernels through runTasks on 2 threads (dispatch-probe.js). */
  dispatch?: { threads: number; reluOk: boolean; gemmSameBits: boolean };
  /** Threads the library ran with (runtimeInfo().threads) and how it waited for them. */
  threads?: number;
  wait?: string | null;
}

export interface RunOutcome {
  result: ScenarioResult;
  /** Wall time of the whole run as the test saw it, start-up included. */
  wallMs: number;
  /** Facts checked along the way (CSP violations, workerd's answer to compiling bytes, ...). */
  notes: Record<string, unknown>;
}

export interface Runtime {
  name: string;
  /** Why it cannot run here, or null. */
  unavailable(): string | null;
  run(): Promise<RunOutcome>;
}

const here = fileURLToPath(new URL(".", import.meta.url));
export const root = resolve(here, "../..");
const dist = join(root, "dist");
const runtimeBin = (name: string) => join(here, "runtimes", "node_modules", ".bin", name);
const INSTALL_HINT = "run `npm run runtimes:install`";
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'";
/** What makes a page cross-origin isolated (SharedArrayBuffer, so threads). */
export const ISOLATION_HEADERS = { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" };
const RUN_TIMEOUT_MS = 90_000;

function missingBin(name: string): string | null {
  return existsSync(runtimeBin(name)) ? null : `${name} is not installed in test/cross-runtime/runtimes: ${INSTALL_HINT}`;
}

function missingDist(): string | null {
  return existsSync(join(dist, "tensorlane.js")) ? null : "dist/ is not built: run `npm run build`";
}

/** Runs a process to completion (killed after the timeout); resolves with its stdout. */
function runProcess(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? here, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(stdout);
      else reject(new Error(`${command} ${args.join(" ")} exited with ${code ?? signal}\n${stderr}${stdout}`));
    });
  });
}

/**
 * Builds test/cross-runtime/.probe/lib.js (dispatch-entry.ts bundled from src, so runTasks is
 * reachable) and copies the worker script beside it; the threaded runs load it for dispatchProbe.
 */
let probeBuilt: Promise<void> | null = null;
export function buildDispatchProbe(): Promise<void> {
  probeBuilt ??= (async () => {
    const { build } = await import("esbuild");
    const out = join(here, ".probe");
    await build({
      entryPoints: [join(here, "dispatch-entry.ts")],
      bundle: true,
      format: "esm",
      platform: "neutral",
      outfile: join(out, "lib.js"),
      logLevel: "error",
    });
    copyFileSync(join(root, "src", "core", "threads", "tensorlane-worker.js"), join(out, "tensorlane-worker.js"));
  })();
  return probeBuilt;
}

function lastJsonLine(stdout: string): ScenarioResult {
  const line = stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(line) as ScenarioResult;
}

async function timed(fn: () => Promise<{ result: ScenarioResult; notes?: Record<string, unknown> }>): Promise<RunOutcome> {
  const t0 = performance.now();
  const { result, notes } = await fn();
  return { result, wallMs: performance.now() - t0, notes: notes ?? {} };
}

function esmRuntime(name: string, command: () => [string, string[]], env?: NodeJS.ProcessEnv): Runtime {
  const bin = name.replace(/-2-threads$/, "");
  return {
    name,
    unavailable: () => missingDist() ?? (bin === "node" ? null : missingBin(bin)),
    run: () =>
      timed(async () => {
        if (name.endsWith("-2-threads")) await buildDispatchProbe();
        const [cmd, args] = command();
        return { result: lastJsonLine(await runProcess(cmd, args, { env: { ...process.env, ...env } })) };
      }),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createNetServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolvePromise(port));
    });
  });
}

async function fetchWhenUp(url: string, deadline: number): Promise<Response> {
  for (;;) {
    try {
      return await fetch(url);
    } catch (error) {
      if (performance.now() > deadline) throw new Error(`nothing answered at ${url}: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const workerd: Runtime = {
  name: "workerd",
  unavailable: () => missingDist() ?? missingBin("workerd"),
  run: () =>
    timed(async () => {
      const dir = mkdtempSync(join(tmpdir(), "tensorlane-workerd-"));
      const port = await freePort();
      copyFileSync(join(dist, "tensorlane.js"), join(dir, "tensorlane.js"));
      copyFileSync(join(dist, "tensorlane.wasm"), join(dir, "tensorlane.wasm"));
      copyFileSync(join(dist, "tensorlane-f64.wasm"), join(dir, "tensorlane-f64.wasm"));
      copyFileSync(join(here, "scenario.js"), join(dir, "scenario.js"));
      copyFileSync(join(here, "workerd", "worker.js"), join(dir, "worker.js"));
      writeFileSync(
        join(dir, "config.capnp"),
        `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "tensorlane.js", esModule = embed "tensorlane.js"),
    (name = "scenario.js", esModule = embed "scenario.js"),
    (name = "tensorlane.wasm", wasm = embed "tensorlane.wasm"),
    (name = "tensorlane-f64.wasm", wasm = embed "tensorlane-f64.wasm"),
  ],
  compatibilityDate = "2025-01-01",
);
`,
      );
      const child = spawn(runtimeBin("workerd"), ["serve", "config.capnp"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
      let log = "";
      child.stdout.on("data", (d) => (log += d));
      child.stderr.on("data", (d) => (log += d));
      try {
        const deadline = performance.now() + 30_000;
        const bare = await fetchWhenUp(`http://127.0.0.1:${port}/init-from-bytes`, deadline);
        const initFromBytes = (await bare.json()) as { error?: string };
        const response = await fetchWhenUp(`http://127.0.0.1:${port}/`, deadline);
        const body = (await response.json()) as ScenarioResult & { error?: string };
        if (!response.ok || body.error) throw new Error(`workerd answered ${response.status}: ${body.error}\n${log}`);
        return { result: body, notes: { initFromBytesError: initFromBytes.error ?? null } };
      } finally {
        child.kill("SIGKILL");
        rmSync(dir, { recursive: true, force: true });
      }
    }),
};

// ---- Chromium --------------------------------------------------------------------------------

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".map": "application/json",
};

/**
 * Serves /dist/* and /cross-runtime/* (never node_modules) with the strict CSP on every answer,
 * and the COOP/COEP headers too when `isolated`.
 */
function serveStatic(isolated: boolean): Promise<{ server: Server; origin: string }> {
  const mounts: [string, string][] = [
    ["/dist/", dist],
    ["/cross-runtime/", here],
  ];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const mount = mounts.find(([prefix]) => path.startsWith(prefix));
    const file = mount ? resolve(mount[1], `.${path.slice(mount[0].length - 1)}`) : "";
    const inside = mount && file.startsWith(mount[1].replace(/[\\/]$/, "") + sep) && !file.includes(`${sep}node_modules${sep}`);
    if (!inside || !existsSync(file) || !CONTENT_TYPES[extname(file)]) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res
      .writeHead(200, {
        "content-type": CONTENT_TYPES[extname(file)],
        "content-security-policy": CSP,
        "cache-control": "no-store",
        ...(isolated ? ISOLATION_HEADERS : {}),
      })
      .end(readFileSync(file));
  });
  return new Promise((resolvePromise) =>
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      resolvePromise({ server, origin: `http://127.0.0.1:${port}` });
    }),
  );
}

/** Debian's chromium under playwright-core, for launchPersistentContext. */
export const CHROMIUM_OPTIONS = {
  executablePath: CHROMIUM,
  headless: true,
  timeout: 60_000,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

/** Why headless Chromium cannot run here, or null. */
export function chromiumUnavailable(): string | null {
  return missingDist() ?? playwrightMissing() ?? (existsSync(CHROMIUM) ? null : `${CHROMIUM} not found: apt-get install -y chromium`);
}

function playwrightMissing(): string | null {
  try {
    createRequire(import.meta.url).resolve("playwright-core");
    return null;
  } catch {
    return "playwright-core is not installed: run `npm ci`";
  }
}

/** One headless Chromium (shared by the three pages) and one server; closed by closeChromium(). */
let browserPromise: Promise<{
  context: import("playwright-core").BrowserContext;
  origin: string;
  isolatedOrigin: string;
  close(): Promise<void>;
}> | null = null;

function chromiumSession() {
  browserPromise ??= (async () => {
    const { chromium } = await import("playwright-core");
    const profile = mkdtempSync(join(tmpdir(), "tensorlane-chromium-"));
    const { server, origin } = await serveStatic(false);
    const isolated = await serveStatic(true);
    const context = await chromium.launchPersistentContext(profile, CHROMIUM_OPTIONS);
    return {
      context,
      origin,
      isolatedOrigin: isolated.origin,
      async close() {
        await context.close();
        await new Promise((r) => server.close(r));
        await new Promise((r) => isolated.server.close(r));
        rmSync(profile, { recursive: true, force: true });
      },
    };
  })();
  return browserPromise;
}

export async function closeChromium(): Promise<void> {
  if (!browserPromise) return;
  const session = await browserPromise.catch(() => null);
  browserPromise = null;
  await session?.close();
}

function chromiumPage(name: string, page: string, isolated = false): Runtime {
  return {
    name,
    unavailable: chromiumUnavailable,
    run: () =>
      timed(async () => {
        if (isolated) await buildDispatchProbe();
        const session = await chromiumSession();
        const { context } = session;
        const origin = isolated ? session.isolatedOrigin : session.origin;
        const tab = await context.newPage();
        const errors: string[] = [];
        const foreignRequests: string[] = [];
        tab.on("pageerror", (e) => errors.push(String(e)));
        tab.on("console", (m) => m.type() === "error" && errors.push(m.text()));
        context.on("request", (r) => !r.url().startsWith(origin) && foreignRequests.push(r.url()));
        try {
          await tab.goto(`${origin}/cross-runtime/browser/${page}`);
          await tab.waitForFunction(() => (globalThis as { __crossRuntime?: unknown }).__crossRuntime, undefined, {
            timeout: RUN_TIMEOUT_MS,
          });
          const outcome = (await tab.evaluate(() => (globalThis as { __crossRuntime?: unknown }).__crossRuntime)) as {
            result?: ScenarioResult;
            error?: string;
            violations: string[];
          };
          if (outcome.error || !outcome.result) throw new Error(`${page}: ${outcome.error}\n${errors.join("\n")}`);
          const crossOriginIsolated = await tab.evaluate(() => globalThis.crossOriginIsolated);
          return { result: outcome.result, notes: { cspViolations: outcome.violations, errors, foreignRequests, crossOriginIsolated } };
        } finally {
          await tab.close();
        }
      }),
  };
}

export const RUNTIMES: Runtime[] = [
  esmRuntime("node", () => [process.execPath, ["run-esm.js"]]),
  // No --allow-* flag: deno grants nothing, so the bundle provably needs no file or network access.
  esmRuntime("deno", () => [runtimeBin("deno"), ["run", "--no-prompt", "run-esm.js"]], { DENO_NO_UPDATE_CHECK: "1" }),
  esmRuntime("bun", () => [runtimeBin("bun"), ["run-esm.js"]]),
  workerd,
  chromiumPage("chromium-esm", "esm.html"),
  chromiumPage("chromium-script", "iife.html"),
  chromiumPage("chromium-worker", "worker.html"),
  // Threads: the same run on 2 threads must give the same bits.
  esmRuntime("node-2-threads", () => [process.execPath, ["run-esm.js", "2"]]),
  // Deno checks read permission for a worker's script file: grant exactly that one file.
  esmRuntime(
    "deno-2-threads",
    () => [
      runtimeBin("deno"),
      ["run", "--no-prompt", `--allow-read=${join(dist, "tensorlane-worker.js")},${join(here, ".probe", "tensorlane-worker.js")}`, "run-esm.js", "2"],
    ],
    { DENO_NO_UPDATE_CHECK: "1" },
  ),
  esmRuntime("bun-2-threads", () => [runtimeBin("bun"), ["run-esm.js", "2"]]),
  chromiumPage("chromium-isolated-worker-2-threads", "worker-threads.html", true),
  chromiumPage("chromium-isolated-page-2-threads", "esm-threads.html", true),
];
