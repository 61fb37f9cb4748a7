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

// A falling loss (2.3 to about 0.3, with seeded noise) and accuracies between 0.6 and 0.9.
const steps = 500;
let seed = 1;
const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.1;
const lossHistory = Array.from({ length: steps }, (_, i) => 0.3 + 2 * Math.exp(-i / 40) + noise());
const checks = [1, 100, 200, 300, 400, 500];
const trainAcc = [0.62, 0.75, 0.8, 0.84, 0.87, 0.89];
const valAcc = [0.61, 0.72, 0.76, 0.78, 0.79, 0.8];

describe.skipIf(!convert)("pictures rendered by ImageMagick", () => {
  it("training.svg: labelled raw and smoothed loss, background under the loss curve, accuracy axis zoomed to the data", () => {
    const svg = trainingCurvesSvg({ title: "test", lossHistory, trainAccHistory: trainAcc, valAccHistory: valAcc, checkIterations: checks });
    expect(svg).toMatch(/>loss per step</);
    expect(svg).toMatch(/>moving average \(10 steps\)</);
    expect(svg).toMatch(/>train</);
    expect(svg).toMatch(/>validation</);
    const pixel = render(svg, "training", 1000, 360);
    // The loss panel is x 70..470, y 60..310, loss 0 at the bottom; near the end the loss is about
    // 0.3, the curve at y 270 or so. Below it, down to the frame, every pixel is background (the
    // renderer must not fill the area under an open path). Grid lines sit at multiples of 100
    // iterations (x = 70 + 0.8 i): columns between them.
    for (const iteration of [250, 330, 370, 450]) {
      const x = 70 + (iteration / steps) * 400;
      for (let y = 292; y <= 306; y++) expect(pixel(x, y), `loss panel at (${x}, ${y})`).toEqual(WHITE);
    }
    // Above the curve too (a renderer that fills an open path closes it to its first point, which
    // lies above): background or a light grey grid line, from below the legend down to the curve.
    for (const iteration of [250, 330, 370, 450]) {
      const x = 70 + (iteration / steps) * 400;
      for (let y = 112; y <= 262; y++) {
        const c = pixel(x, y);
        expect(c.every((v) => v >= 215), `loss panel above the curve at (${x}, ${y}): ${c}`).toBe(true);
      }
    }
    // The curves are drawn in their colours: the smoothed loss crosses the column at iteration 30.
    const smoothed = hex("#1f3b73");
    let found = false;
    for (let y = 60; y < 310; y++) if (near(pixel(70 + (30 / steps) * 400, y), smoothed)) found = true;
    expect(found, "the smoothed loss curve is drawn").toBe(true);
    // The legend box is white with black text and coloured lines, not a black box.
    let dark = 0;
    for (let x = 330; x < 460; x++) for (let y = 70; y < 100; y++) if (pixel(x, y).every((v) => v < 60)) dark++;
    expect(dark, "dark pixels in the loss legend: text only").toBeLessThan(600);
    // Accuracy: the axis spans 0.6..0.9 (ticks in the SVG), not 0..1.
    const accTicks = [...svg.matchAll(/<text x="555" y="[\d.]+"[^>]*>([\d.]+)<\/text>/g)].map((m) => Number(m[1]));
    expect(Math.min(...accTicks)).toBeGreaterThanOrEqual(0.6);
    expect(Math.max(...accTicks)).toBeLessThanOrEqual(0.9);
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
