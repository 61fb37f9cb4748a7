// The demo page really trains, in headless Chromium under the demo server's strict CSP: the loss
// falls, accuracy rises, the charts, weight images, predictions and init histograms render (no
// blank canvas), and nothing breaks the CSP. Also: invalid inputs get a message next to their
// field and start nothing; the conv model draws its filters and their feature maps; the page
// shows tl.runtimeInfo(); the augmentation toggle shows augmented samples and reaches the Solver.
// The page's `?trainImages=N` (a short run) keeps this fast. Leaves screenshots in the temp folder
// (tensorlane-demo.png, tensorlane-demo-augment.png).
// Like the cross-runtime test: skipped locally when Chromium or the data set is missing, fails in CI.
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_OPTIONS, chromiumUnavailable, root } from "./cross-runtime/harness.js";

const IN_CI = process.env.CI === "true" || process.env.CI === "1";

interface DemoServerModule {
  DEMO_CSP: string;
  findDataDir(): string | null;
  startDemoServer(options: { port: number }): Promise<{ server: Server; url: string; dataDir: string | null }>;
}
const demoServer = (await import(/* @vite-ignore */ pathToFileURL(join(root, "scripts", "demo-server.mjs")).href)) as DemoServerModule;

const reason =
  chromiumUnavailable() ?? (demoServer.findDataDir() ? null : "no Fashion-MNIST IDX files (data/fashion-mnist-subset or Debian's dataset-fashion-mnist)");
if (reason !== null && !IN_CI) console.log(`demo: skipping: ${reason}`);

interface DemoState {
  ready: boolean;
  running: boolean;
  started: boolean;
  finished: boolean;
  error: string | null;
  steps: number;
  losses: number[];
  evals: { step: number; trainAcc: number; valAcc: number }[];
  testAcc: number | null;
  initDone: boolean;
  invalid: Record<string, string>;
  runtime: { threads: number; sharedMemory: boolean; cores: number; reason: string | null } | null;
  data: { train: number; val: number; test: number } | null;
  augmentPreview?: { augment: { type: string }[]; count: number; captions: [number, number][][] };
  solverAugment?: { type: string }[];
  memory?: { bytes: number; liveTensors: number };
  finetune: { before: Groups; after: Groups; frozenUnchanged: boolean; frozenValues: number } | null;
  finetuneError: string | null;
}

/** Test accuracy on classes 0-4, 5-9 and all ten (the fine-tuning panel). */
interface Groups {
  old: number;
  new: number;
  all: number;
}

/** Short runs: 4,000 training images (62 steps of 64 per epoch); the validation and test splits stay whole. */
const SHORT_RUN = "?trainImages=4000&initWidth=512";

const demoState = (page: Page) => page.evaluate(() => (window as unknown as { __demo: DemoState }).__demo);

/** Waits until the page's state has `flag` set (ready, finished, initDone, finetune) or an error. */
async function waitForDemo(page: Page, flag: "ready" | "finished" | "initDone" | "finetune", timeout = 120_000): Promise<void> {
  await page.waitForFunction(
    (flag) => {
      const d = (window as unknown as { __demo?: DemoState }).__demo;
      return d !== undefined && (Boolean(d[flag]) || d.error !== null || d.finetuneError !== null);
    },
    flag,
    { timeout },
  );
}

/** How many distinct colours each canvas holds, with the aria-label of its section. */
function canvasColours(page: Page) {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll("canvas"), (c) => {
      const where = c.closest("section")?.getAttribute("aria-label") ?? "?";
      const { data } = c.getContext("2d")!.getImageData(0, 0, c.width, c.height);
      const colours = new Set<number>();
      for (let i = 0; i < data.length; i += 4) colours.add((data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]);
      return { id: c.id, where, hidden: c.hidden, width: c.width, height: c.height, colours: colours.size };
    }),
  );
}

describe.skipIf(reason !== null && !IN_CI)("demo page", () => {
  let server: Server;
  let url: string;
  let context: BrowserContext;
  let profile: string;
  const problems: string[] = [];

  beforeAll(async () => {
    if (reason !== null) throw new Error(`the demo test is required in CI but cannot run: ${reason}`);
    const { chromium } = await import("playwright-core");
    ({ server, url } = await demoServer.startDemoServer({ port: 0 }));
    profile = mkdtempSync(join(tmpdir(), "tensorlane-demo-"));
    context = await chromium.launchPersistentContext(profile, { ...CHROMIUM_OPTIONS, viewport: { width: 1400, height: 1300 } });
    context.on("request", (r) => !r.url().startsWith(url) && !r.url().startsWith("data:") && problems.push(`request beyond the server: ${r.url()}`));
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (server) await new Promise((r) => server.close(r));
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /** A fresh page on the demo, loaded and ready, recording errors and CSP violations. */
  async function openDemo(query = SHORT_RUN): Promise<Page> {
    const page = await context.newPage();
    page.on("pageerror", (e) => problems.push(`page error: ${e}`));
    page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
    await page.addInitScript(() => {
      const w = window as unknown as { __violations: string[] };
      w.__violations = [];
      document.addEventListener("securitypolicyviolation", (e) => w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await page.goto(`${url}${query}`);
    await waitForDemo(page, "ready", 60_000);
    expect((await demoState(page)).error).toBeNull();
    return page;
  }

  async function closeDemo(page: Page): Promise<void> {
    expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations), "CSP violations").toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  }

  it("trains a fully connected net in a worker under the strict CSP and draws every chart and picture", async () => {
    const page = await openDemo();
    const ready = await demoState(page);
    expect(ready.data, "the short run's split sizes").toMatchObject({ train: 4000, val: 1000, test: 2000 });

    // One epoch, as a person would set it up: FullyConnectedNet [100], Adam, batch 64.
    await page.selectOption("#model", "fc-100");
    await page.selectOption("#updateRule", "adam");
    await page.selectOption("#batchSize", "64");
    await page.fill("#epochs", "1");
    await page.click("#train");
    await waitForDemo(page, "finished");
    expect(await page.textContent("#status")).toMatch(/^Done after 62 steps: test accuracy \d+\.\d%\.$/);
    await page.click("#runInit");
    await waitForDemo(page, "initDone");

    const state = await demoState(page);
    expect(state.error).toBeNull();
    expect(state.losses.length, "steps: 4000 / 64 per epoch").toBe(62);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const head = mean(state.losses.slice(0, 10));
    const tail = mean(state.losses.slice(-10));
    expect(tail, `loss ${head} -> ${tail} over ${state.losses.length} steps`).toBeLessThan(head * 0.5);
    const first = state.evals[0];
    const last = state.evals.at(-1)!;
    expect(first.step, "an accuracy point before training moves far").toBe(1);
    expect(last.step, "and one at the end").toBe(62);
    expect(last.valAcc, "validation accuracy after one short epoch").toBeGreaterThan(0.7);
    expect(last.valAcc).toBeGreaterThan(first.valAcc + 0.3);
    expect(state.testAcc, "test accuracy, scored once at the end").toBeGreaterThan(0.7);
    const testLine = await page.textContent("#testAcc");
    expect(testLine).toContain(`Test accuracy ${(100 * state.testAcc!).toFixed(1)}% on 2000 test images`);

    // Every canvas has something drawn on it: more than a handful of distinct colours.
    const canvases = (await canvasColours(page)).filter((c) => !c.hidden);
    const sections = ["Loss", "Accuracy", "First-layer weights", "Predictions", "Weight initialization experiment"];
    for (const section of sections) {
      const drawn = canvases.filter((c) => c.where === section);
      expect(drawn.length, `${section}: canvases`).toBeGreaterThan(0);
      for (const c of drawn) expect(c.colours, `${section}: distinct colours in a canvas`).toBeGreaterThan(3);
    }
    expect(canvases.filter((c) => c.where === "Weight initialization experiment").length, "one histogram row per scheme").toBeGreaterThanOrEqual(4);
    // All 100 hidden units: 100 tiles of 44 px in rows as wide as the panel allows.
    const weights = canvases.find((c) => c.id === "weights")!;
    const perRow = Math.floor(weights.width / 44);
    expect(weights.height, "rows of unit tiles").toBe(Math.ceil(100 / perRow) * 44);
    expect(await page.textContent("#weightsHint")).toContain(
      "All 100 hidden units: each tile is the change since initialization of one unit's 784 input weights",
    );
    // The other view: the weights themselves (initialization plus change), a different picture.
    const pixelsOf = () =>
      page.evaluate(() => {
        const c = document.getElementById("weights") as HTMLCanvasElement;
        const { data } = c.getContext("2d")!.getImageData(0, 0, c.width, c.height);
        let hash = 2166136261; // FNV-1a over the pixels: compared in Node without shipping them
        for (const v of data) hash = Math.imul(hash ^ v, 16777619) >>> 0;
        return { size: data.length, hash };
      });
    const changePixels = await pixelsOf();
    await page.selectOption("#weightsView", "weights");
    expect(await page.textContent("#weightsHint")).toContain("each tile is one unit's 784 input weights");
    const weightPixels = await pixelsOf();
    expect(weightPixels.size).toBe(changePixels.size);
    expect(weightPixels.hash, "the two views differ").not.toBe(changePixels.hash);
    await page.selectOption("#weightsView", "change");

    const screenshot = join(tmpdir(), "tensorlane-demo.png"); // tests write only to temp folders
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(
      `demo: ${state.losses.length} steps, loss ${head.toFixed(3)} -> ${tail.toFixed(3)}, validation ${(100 * last.valAcc).toFixed(1)}%, test ${(100 * state.testAcc!).toFixed(1)}%; screenshot ${screenshot}`,
    );
    await closeDemo(page);
  }, 240_000);

  it("shows tl.runtimeInfo(): threads on, since the server makes the page cross-origin isolated", async () => {
    const page = await openDemo();
    const { runtime } = await demoState(page);
    expect(runtime).not.toBeNull();
    const text = (await page.textContent("#runtime"))!;
    expect(await page.evaluate(() => crossOriginIsolated), "COOP/COEP from the demo server").toBe(true);
    if (runtime!.cores > 1) {
      expect(runtime!.threads, `threads on ${runtime!.cores} cores`).toBeGreaterThan(1);
      expect(runtime!.sharedMemory).toBe(true);
      expect(text).toContain(`${runtime!.threads} threads`);
    } else {
      expect(runtime!.reason, "one core: the reason threads are off").toBeTruthy();
    }
    expect(text).toContain("simd128");
    if (runtime!.reason) expect(text).toContain(runtime!.reason);
    await closeDemo(page);
  }, 120_000);

  it("refuses invalid inputs with a message next to the field and starts nothing", async () => {
    const page = await openDemo();
    const messageOf = (id: string) =>
      page.evaluate((id) => {
        const box = document.getElementById(`${id}-error`)!;
        return box.hidden ? null : box.textContent;
      }, id);

    await page.selectOption("#model", "fc-100");
    await page.fill("#learningRate", "");
    await page.fill("#epochs", "0");
    await page.fill("#dropout", "1");
    await page.fill("#seed", "-3");
    await page.click("#train");
    await page.waitForTimeout(300); // a started run would have posted "started" by now
    const state = await demoState(page);
    expect(state.started || state.running || state.steps > 0, "no run started").toBe(false);
    expect(await messageOf("learningRate")).toBe("Learning rate must be a number (got nothing)");
    expect(await messageOf("epochs")).toBe("Epochs must be in [1, 50] (got 0): 0 epochs would finish without training");
    expect(await messageOf("dropout")).toBe("Dropout must be in [0, 1) (got 1)");
    expect(await messageOf("seed")).toMatch(/^Seed must be in \[0, 4294967295\] \(got -3\)/);
    expect(await page.getAttribute("#learningRate", "aria-invalid")).toBe("true");
    expect(await page.textContent("#status")).toContain("Not started: 4 fields need fixing");

    // A learning rate of 0 is out of range too; fixing a field clears its message as you type.
    await page.fill("#learningRate", "0");
    expect(await messageOf("learningRate")).toBe("Learning rate must be in (0, 10] (got 0): a rate of 0 never changes the weights");
    await page.fill("#learningRate", "1e3");
    expect(await messageOf("learningRate")).toBe("Learning rate must be in (0, 10] (got 1000)");
    await page.fill("#learningRate", "0.001");
    await page.fill("#epochs", "1");
    await page.fill("#dropout", "0.1");
    await page.fill("#seed", "2");
    for (const id of ["learningRate", "epochs", "dropout", "seed"]) expect(await messageOf(id), id).toBeNull();
    expect((await demoState(page)).invalid).toEqual({});

    // Then it trains.
    await page.click("#train");
    await waitForDemo(page, "finished");
    expect((await demoState(page)).error).toBeNull();
    expect((await demoState(page)).steps).toBe(62);
    await closeDemo(page);
  }, 120_000);

  it("stops a run when asked, keeping the parameters that do best on validation", async () => {
    const page = await openDemo();
    await page.selectOption("#model", "fc-100");
    await page.fill("#epochs", "50");
    await page.click("#train");
    await page.waitForFunction(() => (window as unknown as { __demo: DemoState }).__demo.steps >= 30, undefined, { timeout: 60_000 });
    await page.click("#stop");
    await waitForDemo(page, "finished");
    const state = await demoState(page);
    expect(state.error).toBeNull();
    expect(state.steps, "stopped well before 50 epochs of 62 steps").toBeLessThan(62 * 50);
    expect(await page.textContent("#status")).toMatch(/^Stopped after \d+ steps: test accuracy/);
    expect(state.testAcc, "not the parameters of iteration 1").toBeGreaterThan(0.6);

    // Another run after it leaves the worker's memory where the first left it: every run frees its model, Solver and pictures.
    const afterStop = state.memory!;
    await page.fill("#epochs", "1");
    await page.click("#train");
    await waitForDemo(page, "finished");
    const again = await demoState(page);
    expect(again.error).toBeNull();
    expect(again.steps).toBe(62);
    expect(again.memory!.liveTensors, "live tensors after each run").toBe(afterStop.liveTensors);
    await closeDemo(page);
  }, 120_000);

  it("augments: a strip of augmented samples, messages for bad values, and the Solver trains with the list", async () => {
    const page = await openDemo();
    expect(await page.isHidden("#augmentPanel"), "off by default").toBe(true);
    await page.selectOption("#model", "fc-100");
    await page.fill("#epochs", "1");
    await page.check("#augment");
    await page.check("#augCutout");
    await page.check("#augMixup");
    await page.waitForFunction(() => (window as unknown as { __demo: DemoState }).__demo.augmentPreview?.augment.length === 4, undefined, { timeout: 30_000 });
    const { augmentPreview: preview } = await demoState(page);
    const expected = [
      { type: "randomFlip", p: 0.5 },
      { type: "randomCrop", padding: 2 },
      { type: "cutout", size: 8 },
      { type: "mixup", alpha: 0.2 },
    ];
    expect(preview!.augment).toEqual(expected);
    expect(preview!.count).toBe(8);
    // Mixup mixes the labels too: weights per sample sum to 1, at least one sample shows two classes.
    for (const mix of preview!.captions) expect(mix.reduce((a, [, w]) => a + w, 0)).toBeCloseTo(1, 2);
    expect(
      preview!.captions.some((mix) => mix.length === 2),
      "a mixed pair",
    ).toBe(true);
    const strip = await page.evaluate(() =>
      Array.from(document.querySelectorAll("#augmentStrip figure"), (f) => {
        const [before, after] = Array.from(f.querySelectorAll("canvas"), (c) => Array.from(c.getContext("2d")!.getImageData(0, 0, 28, 28).data));
        return { changed: before.some((v, i) => v !== after[i]), caption: f.querySelector("figcaption")!.textContent };
      }),
    );
    expect(strip.length).toBe(8);
    for (const s of strip) expect(s.changed, `augmented differs from the original (${s.caption})`).toBe(true);
    const canvases = (await canvasColours(page)).filter((c) => c.where === "Augmented samples");
    expect(canvases.length).toBe(16);
    for (const c of canvases) expect(c.colours).toBeGreaterThan(3);

    // A bad value: the message next to it, nothing starts; unticking cutout clears it.
    await page.fill("#cutoutSize", "0");
    expect(await page.textContent("#cutoutSize-error")).toBe("Cutout size must be in [1, 28] (got 0)");
    await page.click("#train");
    await page.waitForTimeout(300);
    expect((await demoState(page)).started).toBe(false);
    await page.fill("#cutoutSize", "8");
    expect(await page.isHidden("#cutoutSize-error")).toBe(true);

    await page.click("#train");
    await waitForDemo(page, "finished");
    const state = await demoState(page);
    expect(state.error).toBeNull();
    expect(state.solverAugment, "the Solver's own augment list").toEqual(expected);
    expect(state.steps).toBe(62);
    expect(state.testAcc, "still learns with all four augmentations").toBeGreaterThan(0.5);
    await page.screenshot({ path: join(tmpdir(), "tensorlane-demo-augment.png"), fullPage: true });
    await closeDemo(page);
  }, 120_000);

  it("trains the conv model and draws all its first-layer filters and what they respond to", async () => {
    const page = await openDemo("?trainImages=1000");
    await page.selectOption("#model", "conv");
    expect(await page.isDisabled("#dropout"), "DeepConvNet has no dropout").toBe(true);
    await page.fill("#epochs", "1");
    await page.click("#train");
    await waitForDemo(page, "finished");
    const state = await demoState(page);
    expect(state.error).toBeNull();
    expect(state.steps, "1000 / 64").toBe(15);
    expect(state.testAcc).toBeGreaterThan(0.4);
    expect(await page.textContent("#weightsHint")).toContain("All 16 filters of the first convolution (3×3, 1 input channel)");
    const canvases = await canvasColours(page);
    const filters = canvases.find((c) => c.id === "weights")!;
    const maps = canvases.find((c) => c.id === "featureMaps")!;
    expect(maps.hidden, "feature maps shown for the conv net").toBe(false);
    expect(filters.colours, "filter tiles drawn").toBeGreaterThan(16);
    expect(maps.colours, "feature maps drawn").toBeGreaterThan(16);
    // 16 tiles of 56 px: as many per row as fit, the same layout for filters and maps.
    expect(filters.width).toBe(maps.width);
    expect(filters.height).toBe(Math.ceil(16 / (filters.width / 56)) * 56);
    expect(await page.textContent("#mapsHint")).toMatch(/test image \d+ \(Ankle boot/);
    // The feature maps are computed with ConvReLU.forward on the side: a second run must not leave tensors behind.
    await page.click("#train");
    await waitForDemo(page, "finished");
    expect((await demoState(page)).memory!.liveTensors, "live tensors after each conv run").toBe(state.memory!.liveTensors);
    await closeDemo(page);
  }, 240_000);

  it("fine-tunes the shipped ONNX model's new head on all ten classes: classes 5-9 go from chance to learnt, frozen weights keep their bits; a bad file is a clear message", async () => {
    const page = await openDemo("?trainImages=3000");
    expect(await page.isVisible("#finetunePanel")).toBe(true);
    await page.fill("#ftEpochs", "2");
    await page.click("#finetune");
    await waitForDemo(page, "finetune", 180_000);
    const { finetune, finetuneError } = await demoState(page);
    expect(finetuneError).toBeNull();
    expect(finetune!.before.new, "a fresh head knows nothing of classes 5-9").toBeLessThan(0.3);
    expect(finetune!.after.new, "after two epochs of the head alone").toBeGreaterThan(0.6);
    expect(finetune!.after.all).toBeGreaterThan(finetune!.before.all + 0.3);
    expect(finetune!.frozenUnchanged, "every frozen value, compared as 32-bit words").toBe(true);
    expect(finetune!.frozenValues).toBeGreaterThan(5000);
    expect(await page.textContent("#ftFrozen")).toMatch(/Every frozen parameter \([\d,]+ values\) kept its exact bits\./);
    expect(await page.textContent("#ftNewAfter")).toMatch(/^\d+\.\d%$/);
    expect(await page.textContent("#ftSummary")).toMatch(/Conv2d/);
    const screenshot = join(tmpdir(), "tensorlane-demo-finetune.png");
    await (await page.$("#finetunePanel"))!.screenshot({ path: screenshot });
    console.log(
      `demo fine-tuning: classes 5-9 ${(100 * finetune!.before.new).toFixed(1)}% -> ${(100 * finetune!.after.new).toFixed(1)}%, 0-4 ${(100 * finetune!.before.old).toFixed(1)}% -> ${(100 * finetune!.after.old).toFixed(1)}%, all ${(100 * finetune!.after.all).toFixed(1)}%; ${screenshot}`,
    );

    // A file that is not ONNX: the panel says what importOnnx said, and the page stays usable.
    await page.setInputFiles("#ftFile", { name: "notes.onnx", mimeType: "application/octet-stream", buffer: Buffer.from("not a model at all") });
    await page.click("#finetune");
    await page.waitForFunction(() => (window as unknown as { __demo: DemoState }).__demo.finetuneError !== null);
    expect(await page.textContent("#ftError")).toMatch(/onnxMetadata|importOnnx/);
    expect(await page.isDisabled("#finetune")).toBe(false);
    await closeDemo(page);
  }, 300_000);
});
