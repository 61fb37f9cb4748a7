// The training progress lines (what a pipe or a CI log shows): epoch and batch, the loss average,
// and a speed and ETA that follow the host's recent speed (RATE_WINDOW_MS), on a fake clock.
import type { ProgressEvent } from "tensorlane";
import { describe, expect, it } from "vitest";
import { createProgress, formatDuration, RATE_WINDOW_MS } from "../src/progress.js";

/** A non-TTY display on a fake clock, and a way to run iterations at a given speed. */
function lines(info: { numEpochs: number; iterationsPerEpoch: number; batchSize: number; startIteration: number }) {
  const written: string[] = [];
  let t = 1_000;
  const numIterations = info.numEpochs * info.iterationsPerEpoch;
  const progress = createProgress({ write: (s) => written.push(s), isTTY: false }, info, numIterations, () => t);
  let iteration = info.startIteration;
  const run = (count: number, msEach: number, loss = 1) => {
    for (let i = 0; i < count; i++) {
      t += msEach;
      iteration++;
      const event: ProgressEvent = { epoch: 0, numEpochs: info.numEpochs, iteration, numIterations, loss, learningRate: 0.1 };
      progress.update(event);
    }
  };
  return { written, run, progress, pause: (ms: number) => (t += ms) };
}

/** The samples/s and ETA seconds of a progress line. */
function parse(line: string): { rate: number; eta: string } {
  const m = /\| (\d+) samples\/s \| ETA (.+)\n$/.exec(line);
  if (!m) throw new Error(`not a progress line: ${line}`);
  return { rate: Number(m[1]), eta: m[2] };
}

describe("CLI progress lines", () => {
  it("a line every 5 s with the epoch, the batch within it, the loss average and the speed", () => {
    const p = lines({ numEpochs: 2, iterationsPerEpoch: 100, batchSize: 64, startIteration: 0 });
    p.run(99, 100, 0.5); // 0.1 s per step of 64 images: 640 samples/s
    expect(p.written).toHaveLength(1); // at 5.1 s
    expect(p.written[0]).toMatch(/^epoch 1\/2 batch 50\/100 \| loss 0\.5000 \| 640 samples\/s \| ETA 15s\n$/);
    p.run(2, 100);
    p.run(50, 100);
    expect(p.written.at(-1)).toMatch(/^epoch 2\/2 batch 50\/100 /);
    // The last iteration writes no line (the summary follows).
    const count = p.written.length;
    p.run(49, 1);
    expect(p.written).toHaveLength(count);
  });

  it("the speed and the ETA follow a host that slows down, within a couple of minutes", () => {
    const p = lines({ numEpochs: 10, iterationsPerEpoch: 1000, batchSize: 100, startIteration: 0 });
    p.run(3000, 100); // 1,000 samples/s for 5 minutes
    expect(parse(p.written.at(-1)!).rate).toBe(1000);
    p.run(1200, 200); // then half the speed for 4 minutes
    const { rate, eta } = parse(p.written.at(-1)!);
    expect(rate).toBeGreaterThanOrEqual(500);
    expect(rate).toBeLessThan(510); // the whole-run average would say 636
    // 5,800 steps left at 0.2 s: about 19 minutes.
    expect(eta).toMatch(/^19m \d\ds$/);
    expect(RATE_WINDOW_MS).toBe(30_000);
  });

  it("forgets the first steps' warm-up: a slow start does not stay in the ETA", () => {
    const p = lines({ numEpochs: 2, iterationsPerEpoch: 3000, batchSize: 10, startIteration: 0 });
    p.run(5, 3000); // 15 s of compilation and first allocations
    p.run(1500, 100);
    expect(parse(p.written.at(-1)!).rate).toBe(99); // 2.5 minutes later: e^-5 of the warm-up left
    p.run(1500, 100);
    expect(parse(p.written.at(-1)!).rate).toBe(100); // the whole-run average would still say 95
  });

  it("a resumed run counts from its start iteration, and a pause (an accuracy check) dips the speed briefly", () => {
    const p = lines({ numEpochs: 4, iterationsPerEpoch: 100, batchSize: 50, startIteration: 200 });
    p.run(100, 100);
    expect(p.written.at(-1)).toMatch(/^epoch 3\/4 batch \d+\/100 \| loss 1\.0000 \| 500 samples\/s /);
    p.pause(3000);
    p.run(60, 100);
    const after = parse(p.written.at(-1)!).rate;
    expect(after).toBeGreaterThan(400);
    expect(after).toBeLessThan(500);
  });

  it("formats durations as people read them", () => {
    expect(formatDuration(5.4)).toBe("5s");
    expect(formatDuration(65)).toBe("1m 05s");
    expect(formatDuration(3 * 3600 + 61)).toBe("3h 01m");
    expect(formatDuration(Number.NaN)).toBe("?");
  });
});
