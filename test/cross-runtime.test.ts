// The same seeded run gives bit-identical losses and final weights in Node, Deno, Bun, workerd and
// headless Chromium (page, plain <script> build, Web Worker), and with 2 threads in Node, Deno, Bun
// and Chromium (cross-origin isolated: a Web Worker, and a page's main thread). A runtime that is not installed is
// skipped with the reason locally; with CI=true it fails, since .ci/run installs them all.
import { afterAll, describe, expect, it } from "vitest";
import { closeChromium, CSP, RUNTIMES, type RunOutcome } from "./cross-runtime/harness.js";

const IN_CI = process.env.CI === "true" || process.env.CI === "1";
const outcomes = new Map<string, RunOutcome>();

afterAll(async () => {
  await closeChromium();
  if (outcomes.size === 0) return;
  const rows = [...outcomes].map(([name, o]) => {
    const inner = o.result.runMs === undefined ? "" : `, scenario ${o.result.runMs.toFixed(1)} ms, init ${o.result.initMs!.toFixed(1)} ms`;
    return `  ${name.padEnd(36)} ${o.result.hash}  float64 ${o.result.float64.hash}  convs ${o.result.convs.hash}  wall ${o.wallMs.toFixed(0)} ms${inner}`;
  });
  const first = outcomes.values().next().value!.result;
  console.log(`cross-runtime (${first.steps} Adam steps, ${first.bytes} bytes hashed):\n${rows.join("\n")}`);
});

/** The float32 scenario's hash before the kernel unification (issue 23); see the test below. */
const FLOAT32_HASH_BEFORE_UNIFICATION = "57fdf9f0b19881c1";

describe("cross-runtime: one seeded run, identical bits everywhere", () => {
  for (const runtime of RUNTIMES) {
    const reason = runtime.unavailable();
    if (reason !== null && !IN_CI) {
      console.log(`cross-runtime: skipping ${runtime.name}: ${reason}`);
      it.skip(`${runtime.name} (not available: ${reason})`, () => {});
      continue;
    }
    it(`${runtime.name} runs the scenario`, async () => {
      if (reason !== null) throw new Error(`${runtime.name} is required in CI but not available: ${reason}`);
      const outcome = await runtime.run();
      const { result, notes } = outcome;
      expect(result.lossHistory).toHaveLength(result.steps);
      expect(result.lossHistory.every((x) => typeof x === "number" && Number.isFinite(x))).toBe(true);
      expect(result.hash).toMatch(/^[0-9a-f]{16}$/);
      expect(result.float64.lossHistory).toHaveLength(result.float64.steps);
      expect(result.float64.lossHistory.every((x) => typeof x === "number" && Number.isFinite(x))).toBe(true);
      expect(result.float64.hash).toMatch(/^[0-9a-f]{16}$/);
      if ("cspViolations" in notes) {
        // The page ran under `script-src 'self' 'wasm-unsafe-eval'` with nothing else allowed.
        expect(notes.cspViolations, `CSP (${CSP}) violations`).toEqual([]);
        expect(notes.errors, "page errors").toEqual([]);
        expect(notes.foreignRequests, "requests beyond the test server").toEqual([]);
      }
      if (runtime.name.endsWith("-2-threads")) {
        // The worker pool really ran: 2 threads, waiting with Atomics.wait (a page's main thread spins).
        expect(result.threads, `${runtime.name}: runtimeInfo().threads`).toBe(2);
        expect(result.wait).toBe(runtime.name === "chromium-isolated-page-2-threads" ? "spin" : "atomics");
        // Real kernels through runTasks on 2 threads give the 1-thread results.
        expect(result.dispatch, `${runtime.name}: dispatch probe`).toEqual({ threads: 2, reluOk: true, gemmSameBits: true });
        if (runtime.name.startsWith("chromium")) expect(notes.crossOriginIsolated, "the page is cross-origin isolated").toBe(true);
      } else {
        expect(result.threads ?? 1, `${runtime.name}: runtimeInfo().threads`).toBe(1);
      }
      if (runtime.name === "workerd") {
        // workerd forbids compiling bytes: init() must fail and say to pass tensorlane/wasm.
        expect(notes.initFromBytesError).toMatch(/forbids compiling WebAssembly from bytes.*init\(\{ module: wasm \}\)/s);
      }
      outcomes.set(runtime.name, outcome);
    }, 120_000);
  }

  it("the float32 scenario gives the bits it gave before the kernel source became one for both dtypes", () => {
    // Recorded on main at a291963 (hand-written f32 kernels), before assembly/ was rewritten over
    // the element-type alias `real`: a float32 kernel change that moves any bit fails here.
    const node = outcomes.get("node");
    if (!node) throw new Error("the Node run failed, so there is nothing to compare against");
    expect(node.result.hash, "float32 final weights and augmentations hash").toBe(FLOAT32_HASH_BEFORE_UNIFICATION);
  });

  it("every runtime that ran gives Node's loss history and weights hash, bit for bit", () => {
    const node = outcomes.get("node");
    if (!node) throw new Error("the Node run failed, so there is nothing to compare against");
    const others = [...outcomes].filter(([name]) => name !== "node");
    if (IN_CI)
      expect(others.map(([name]) => name).sort()).toEqual(
        RUNTIMES.map((r) => r.name)
          .filter((n) => n !== "node")
          .sort(),
      );
    for (const [name, { result }] of others) {
      expect(result.bytes, name).toBe(node.result.bytes);
      // Compare as float64 bit patterns: exact, and a mismatch names the first differing step.
      const bits = (xs: number[]) => Array.from(new BigUint64Array(Float64Array.from(xs).buffer), (b) => b.toString(16));
      expect(bits(result.lossHistory), `${name} loss history`).toEqual(bits(node.result.lossHistory));
      expect(result.hash, `${name} final weights hash`).toBe(node.result.hash);
      expect(bits(result.float64.lossHistory), `${name} float64 loss history`).toEqual(bits(node.result.float64.lossHistory));
      expect(result.float64.bytes, name).toBe(node.result.float64.bytes);
      expect(result.float64.hash, `${name} float64 final weights hash`).toBe(node.result.float64.hash);
      expect(bits(result.convs.lossHistory), `${name} Winograd convs loss history`).toEqual(bits(node.result.convs.lossHistory));
      expect(result.convs.hash, `${name} Winograd convs final weights hash`).toBe(node.result.convs.hash);
    }
  });

  it("the run really trains: the loss falls", () => {
    const node = outcomes.get("node");
    if (!node) throw new Error("the Node run failed");
    const { lossHistory } = node.result;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const head = mean(lossHistory.slice(0, 20));
    const tail = mean(lossHistory.slice(-20));
    expect(tail, `mean loss of the first 20 steps ${head}, of the last 20 ${tail}`).toBeLessThan(head * 0.5);
    const fc64 = node.result.float64.lossHistory.slice(0, 100);
    const head64 = mean(fc64.slice(0, 10));
    const tail64 = mean(fc64.slice(-10));
    expect(tail64, `float64: mean loss of the first 10 steps ${head64}, of the last 10 ${tail64}`).toBeLessThan(head64 * 0.7);
  });
});
