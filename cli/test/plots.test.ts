// The CLI's SVG pictures as a renderer other than a browser draws them: ImageMagick (Debian's
// `imagemagick`, installed by .ci/run) turns them into pixels, and the test looks at the pixels.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { activationHistogramsSvg, trainingCurvesSvg } from "../src/plots.js";

const dir = mkdtempSync(join(tmpdir(), "tensorlane-plots-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function hasConvert(): boolean {
  try {
    execFileSync("convert", ["-version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const convert = hasConvert();
if (!convert && process.env.CI) throw new Error("ImageMagick's convert is missing: apt-get install -y imagemagick (.ci/run does)");

/** Renders an SVG with ImageMagick: RGB bytes, row by row. */
function render(svg: string, name: string, width: number, height: number): (x: number, y: number) => [number, number, number] {
  const file = join(dir, `${name}.svg`);
  writeFileSync(file, svg);
  const rgb = execFileSync("convert", [file, "-depth", "8", "rgb:-"], { maxBuffer: 64 << 20 });
  expect(rgb.length).toBe(width * height * 3);
  execFileSync("convert", [file, join(dir, `${name}.png`)]); // for a person to look at when it fails
  return (x, y) => {
    const i = (Math.round(y) * width + Math.round(x)) * 3;
    return [rgb[i], rgb[i + 1], rgb[i + 2]];
  };
}

const WHITE: [number, number, number] = [255, 255, 255];
const hex = (c: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)) as [number, number, number];
const near = (a: readonly number[], b: readonly number[], tolerance = 40) => a.every((v, i) => Math.abs(v - b[i]) <= tolerance);

// A falling loss (2.3 to about 0.3, with seeded noise) over 10 epochs of 50 steps; accuracy checked
// after step 1 (near chance) and at each epoch end, between 0.87 and 0.93 (the example:
// with the step-1 point on the axis, 0.87-0.93 sat in its top tenth).
const steps = 500;
const perEpoch = 50;
let seed = 1;
const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.1;
const lossHistory = Array.from({ length: steps }, (_, i) => 0.3 + 2 * Math.exp(-i / 40) + noise());
const checks = [1, ...Array.from({ length: 10 }, (_, e) => (e + 1) * perEpoch)];
const trainAcc = [0.1, 0.87, 0.885, 0.895, 0.9, 0.905, 0.91, 0.915, 0.92, 0.925, 0.93];
const valAcc = [0.11, 0.87, 0.88, 0.885, 0.89, 0.9, 0.895, 0.905, 0.91, 0.908, 0.912];

/** The panels' frames, top to bottom, from the SVG. */
function frames(svg: string): { x: number; y: number; width: number; height: number }[] {
  return [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none" stroke="#444"/g)].map((m) => ({
    x: Number(m[1]),
    y: Number(m[2]),
    width: Number(m[3]),
    height: Number(m[4]),
  }));
}

/** A panel's y tick labels as [value, y]: the labels right-aligned just left of the frame. */
function yTicks(svg: string, frame: { x: number; y: number; height: number }): [number, number][] {
  return [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)"[^>]*text-anchor="end"[^>]*>([\d.]+)<\/text>/g)]
    .filter((m) => Number(m[1]) === frame.x - 5 && Number(m[2]) >= frame.y - 1 && Number(m[2]) <= frame.y + frame.height + 1)
    .map((m) => [Number(m[3]), Number(m[2])]);
}

describe.skipIf(!convert)("pictures rendered by ImageMagick", () => {
  it("training.svg: fits 900 px; loss on a log scale with both ends labelled; epochs on the x axis; accuracy zoomed past the step-1 point", () => {
    const svg = trainingCurvesSvg({
      title: "test",
      lossHistory,
      trainAccHistory: trainAcc,
      valAccHistory: valAcc,
      checkIterations: checks,
      iterationsPerEpoch: perEpoch,
    });
    const width = Number(/width="(\d+)"/.exec(svg)![1]);
    const height = Number(/height="(\d+)"/.exec(svg)![1]);
    expect(width, "fits a 900-pixel screen").toBeLessThanOrEqual(900);
    expect(height, "fits a 900-pixel screen").toBeLessThanOrEqual(900);
    expect(svg).toMatch(/>loss per step</);
    expect(svg).toMatch(/>moving average \(10 steps\)</);
    expect(svg).toMatch(/>Loss \(log scale\)</);
    expect(svg).toMatch(/>best validation 0\.9120 \(epoch 10\)</);
    expect(svg).toMatch(/>\(step 1: train 0\.10, validation 0\.11, below the axis\)</);
    const [loss, acc] = frames(svg);
    // Legends sit above the frames, never over a curve.
    for (const m of svg.matchAll(/<text x="[\d.]+" y="([\d.]+)" font-size="10"[^>]*>(loss per step|train|validation)</g)) {
      expect(Number(m[1]), m[2]).toBeLessThan(m[2] === "loss per step" ? loss.y : acc.y);
    }

    // Loss: log ticks (equal ratios, equal distances), the bottom and the top tick on the frame.
    const lt = yTicks(svg, loss);
    expect(lt.map(([v]) => v)).toEqual([0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3]);
    expect(lt[lt.length - 1][1], "top tick at the top of the frame").toBeCloseTo(loss.y, 0);
    expect(lt[0][1], "bottom tick at the bottom of the frame").toBeCloseTo(loss.y + loss.height, 0);
    const at = (v: number) => lt.find(([t]) => t === v)![1];
    expect(at(0.5) - at(1), "0.5 to 1 and 1 to 2: the same ratio, the same distance").toBeCloseTo(at(1) - at(2), 0);

    // Accuracy: the checks after the first span most of the axis; the top tick is labelled, on the frame.
    const at2 = yTicks(svg, acc);
    const top = at2.reduce((a, b) => (b[1] < a[1] ? b : a));
    expect(top[1], "top tick on the frame").toBeCloseTo(acc.y, 0);
    const lo = Math.min(...at2.map(([v]) => v));
    const hi = top[0];
    expect(lo).toBeGreaterThanOrEqual(0.8);
    expect(hi).toBeLessThanOrEqual(0.95);
    expect((0.93 - 0.87) / (hi - lo), "0.87-0.93 fills most of the axis").toBeGreaterThan(0.6);

    // x: epochs, 0 to 10, and the title says so.
    const xLabels = [...svg.matchAll(/<text x="[\d.]+" y="([\d.]+)"[^>]*text-anchor="middle"[^>]*>(\d+)<\/text>/g)]
      .filter((m) => Number(m[1]) > acc.y + acc.height)
      .map((m) => Number(m[2]));
    expect(xLabels[0]).toBe(0);
    expect(xLabels[xLabels.length - 1]).toBe(10);
    expect(svg).toMatch(/>epoch<\/text>/);

    const pixel = render(svg, "training", width, height);
    const epochX = (e: number) => loss.x + (e / 10) * loss.width;
    // Below the loss curve, down to the frame, every pixel is background or a light grid line (the
    // renderer must not fill the area under an open path); the loss near the end is about 0.3.
    const yOfLoss = (v: number) => loss.y + loss.height * (1 - Math.log(v / 0.2) / Math.log(3 / 0.2));
    for (const e of [5.3, 6.7, 7.3, 8.9]) {
      for (let y = yOfLoss(0.24) + 2; y <= loss.y + loss.height - 4; y++) {
        const c = pixel(epochX(e), y);
        expect(
          c.every((v) => v >= 215),
          `loss panel below the curve at epoch ${e}, y ${y}: ${c}`,
        ).toBe(true);
      }
      // Above it too (a renderer that fills an open path closes it to its first point, which lies above).
      for (let y = loss.y + 4; y <= yOfLoss(0.4) - 2; y++) {
        const c = pixel(epochX(e), y);
        expect(
          c.every((v) => v >= 215),
          `loss panel above the curve at epoch ${e}, y ${y}: ${c}`,
        ).toBe(true);
      }
    }
    // The smoothed loss is drawn in its colour where it is steep (epoch 0.6).
    const smoothed = hex("#1f3b73");
    let found = false;
    for (let y = loss.y; y < loss.y + loss.height; y++) if (near(pixel(epochX(0.6), y), smoothed)) found = true;
    expect(found, "the smoothed loss curve is drawn").toBe(true);
    // The validation curve is where its values say: 0.87 after epoch 1 (just right of the point, on
    // the segment to epoch 2), and the step-1 point's segment enters from below, not drawn under the frame.
    const yOfAcc = (v: number) => acc.y + acc.height * (1 - (v - lo) / (hi - lo));
    const green = hex("#2e8b3e");
    const column = (x: number) => Array.from({ length: acc.height }, (_, i) => acc.y + i).filter((y) => near(pixel(x, y), green, 60));
    const greenAt = column(epochX(1.2));
    expect(greenAt.length, "validation curve at epoch 1.2").toBeGreaterThan(0);
    expect(Math.abs(greenAt[0] - yOfAcc(0.872))).toBeLessThan(4);
    for (let y = acc.y + acc.height + 3; y < acc.y + acc.height + 12; y++)
      expect(near(pixel(epochX(0.5), y), green, 60), `below the frame at y ${y}`).toBe(false);
  });

  it("training.svg: a loss that is 0 somewhere, or spans less than a factor of 3, is on a linear axis; without the epoch length the x axis counts iterations", () => {
    const zero = trainingCurvesSvg({ lossHistory: [1, 0.5, 0, 0.2], trainAccHistory: [0.5, 0.9], valAccHistory: [0.5, 0.8], checkIterations: [1, 4] });
    expect(zero).toMatch(/>Loss</);
    expect(zero).toMatch(/>iteration<\/text>/);
    const flat = trainingCurvesSvg({
      lossHistory: [2.3, 2.2, 2.1, 2.0],
      trainAccHistory: [0.1, 0.3],
      valAccHistory: [0.1, 0.25],
      checkIterations: [1, 4],
      iterationsPerEpoch: 4,
    });
    expect(flat).toMatch(/>Loss</);
    const [lossFrame] = frames(flat);
    const t = yTicks(flat, lossFrame);
    expect(t.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...t.map(([v]) => v))).toBeGreaterThanOrEqual(2.3);
    // Two checks only (a one-epoch run): nothing is left out of the accuracy axis.
    expect(flat).not.toMatch(/below the axis/);
  });

  it("init experiment: one x-scale per scheme's column, labels outside the bars, as many rows as layers", () => {
    const hist = (scheme: string, layer: number, spread: number) => {
      const edges = Array.from({ length: 21 }, (_, i) => -spread + (i * spread) / 10);
      const counts = edges.slice(1).map((e) => Math.round(1000 * Math.exp(-(e * e) / (2 * (spread / 3) ** 2))));
      return { scheme, layer, edges, counts, mean: 0, std: spread / 3 };
    };
    const rows = [1, 2, 3].flatMap((layer) => [hist("narrowing", layer, 1 / layer), hist("steady", layer, 1)]);
    const svg = activationHistogramsSvg(rows, "Activations per layer: 3 layers");
    expect([...svg.matchAll(/>layer (\d)</g)].map((m) => m[1])).toEqual(["1", "2", "3"]);
    // The bottom row's tick labels: the "narrowing" column keeps layer 1's range (-1..1) for all layers.
    const pixel = render(svg, "histograms", Number(/width="(\d+)"/.exec(svg)![1]), Number(/height="(\d+)"/.exec(svg)![1]));
    // Layer 3 of "narrowing" spans -1/3..1/3 of a -1..1 axis: its panel's outer thirds are background.
    const panel = { x: 90, y: 84 + 2 * (70 + 40), width: 170, height: 70 };
    for (let x = panel.x + 4; x < panel.x + panel.width / 3 - 4; x += 3) {
      for (let y = panel.y + 4; y < panel.y + panel.height - 4; y += 3) expect(pixel(x, y), `(${x}, ${y})`).toEqual(WHITE);
    }
    // ... and its middle holds bars.
    expect(near(pixel(panel.x + panel.width / 2, panel.y + panel.height - 3), hex("#4c78a8"))).toBe(true);
    // The "mean ... std ..." labels sit above the panels, where no bar is.
    for (const m of svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)"[^>]*>mean /g)) expect((((Number(m[2]) - 84) % 110) + 110) % 110).toBeGreaterThan(100);
  });
});
