// The demo page really trains, in headless Chromium under the demo server's strict CSP: the loss
// falls, accuracy rises, the charts, weight images, predictions and init histograms render (no
// blank canvas), and nothing breaks the CSP. Leaves a screenshot in the temp folder (tensorlane-demo.png).
// Like the cross-runtime test: skipped locally when Chromium or the data set is missing, fails in CI.
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { CHROMIUM_OPTIONS, chromiumUnavailable, root } from "./cross-runtime/harness.js";

const IN_CI = process.env.CI === "true" || process.env.CI === "1";

interface DemoServerModule {
  DEMO_CSP: string;
  findDataDir(): string | null;
  startDemoServer(options: { port: number }): Promise<{ server: Server; url: string; dataDir: string | null }>;
}
const demoServer = (await import(/* @vite-ignore */ pathToFileURL(join(root, "scripts", "demo-server.mjs")).href)) as DemoServerModule;

const reason = chromiumUnavailable() ?? (demoServer.findDataDir() ? null : "no Fashion-MNIST IDX files (data/fashion-mnist-subset or Debian's dataset-fashion-mnist)");
if (reason !== null && !IN_CI) console.log(`demo: skipping: ${reason}`);

interface DemoState {
  ready: boolean;
  finished?: boolean;
  error: string | null;
  steps: number;
  losses: number[];
  evals: { step: number; trainAcc: number; valAcc: number }[];
  initDone: boolean;
}

describe.skipIf(reason !== null && !IN_CI)("demo page", () => {
  it("trains in a worker under the strict CSP and draws every chart and picture", async () => {
    if (reason !== null) throw new Error(`the demo test is required in CI but cannot run: ${reason}`);
    const { chromium } = await import("playwright-core");
    const { server, url } = await demoServer.startDemoServer({ port: 0 });
    const profile = mkdtempSync(join(tmpdir(), "tensorlane-demo-"));
    const context = await chromium.launchPersistentContext(profile, { ...CHROMIUM_OPTIONS, viewport: { width: 1400, height: 1300 } });
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on("pageerror", (e) => problems.push(`page error: ${e}`));
      page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
      context.on("request", (r) => !r.url().startsWith(url) && !r.url().startsWith("data:") && problems.push(`request beyond the server: ${r.url()}`));
      await page.addInitScript(() => {
        const w = window as unknown as { __violations: string[] };
        w.__violations = [];
        document.addEventListener("securitypolicyviolation", (e) => w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      const demo = () => page.evaluate(() => (window as unknown as { __demo: DemoState }).__demo);

      await page.goto(`${url}?initWidth=512`);
      await page.waitForFunction(() => {
        const d = (window as unknown as { __demo?: DemoState }).__demo;
        return d && (d.ready || d.error);
      }, undefined, { timeout: 60_000 });
      expect((await demo()).error).toBeNull();

      // One epoch, as a person would set it up: Adam, batch 128.
      await page.selectOption("#updateRule", "adam");
      await page.selectOption("#batchSize", "128");
      await page.fill("#epochs", "1");
      await page.click("#train");
      await page.waitForFunction(() => {
        const d = (window as unknown as { __demo: DemoState }).__demo;
        return d.finished || d.error;
      }, undefined, { timeout: 120_000 });
      await page.click("#runInit");
      await page.waitForFunction(() => {
        const d = (window as unknown as { __demo: DemoState }).__demo;
        return d.initDone || d.error;
      }, undefined, { timeout: 120_000 });

      const state = await demo();
      expect(state.error).toBeNull();
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const head = mean(state.losses.slice(0, 10));
      const tail = mean(state.losses.slice(-10));
      expect(tail, `loss ${head} -> ${tail} over ${state.losses.length} steps`).toBeLessThan(head * 0.5);
      const finalAcc = state.evals.at(-1)!.valAcc;
      expect(finalAcc, `test accuracy after one epoch`).toBeGreaterThan(0.7);

      // Every canvas has something drawn on it: more than a handful of distinct colours.
      const canvases = await page.evaluate(() =>
        Array.from(document.querySelectorAll("canvas"), (c) => {
          const where = c.closest("section")?.getAttribute("aria-label") ?? "?";
          const { data } = c.getContext("2d")!.getImageData(0, 0, c.width, c.height);
          const colours = new Set<number>();
          for (let i = 0; i < data.length; i += 4) colours.add((data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]);
          return { where, colours: colours.size };
        }),
      );
      const sections = ["Loss", "Accuracy", "First-layer weights", "Predictions", "Weight initialization experiment"];
      for (const section of sections) {
        const drawn = canvases.filter((c) => c.where === section);
        expect(drawn.length, `${section}: canvases`).toBeGreaterThan(0);
        for (const c of drawn) expect(c.colours, `${section}: distinct colours in a canvas`).toBeGreaterThan(3);
      }
      expect(canvases.filter((c) => c.where === "Weight initialization experiment").length, "one histogram row per scheme").toBeGreaterThanOrEqual(4);

      const screenshot = join(tmpdir(), "tensorlane-demo.png"); // tests write only to temp folders
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual([]);
      expect(problems).toEqual([]);
      console.log(`demo: ${state.losses.length} steps, loss ${head.toFixed(3)} -> ${tail.toFixed(3)}, test accuracy ${(100 * finalAcc).toFixed(1)}%; screenshot ${screenshot}`);
    } finally {
      await context.close();
      await new Promise((r) => server.close(r));
      rmSync(profile, { recursive: true, force: true });
    }
  }, 240_000);
});
