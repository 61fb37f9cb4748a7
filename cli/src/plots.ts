// Pictures for the terminal user: two static SVGs written by hand (no chart library: Vega-Lite and
// its d3 modules were 24 MB and ~70 packages for two pictures). Every element sets its fill and
// stroke explicitly, so renderers other than browsers (ImageMagick, librsvg) draw the same thing.

const FONT = `font-family="Helvetica, Arial, sans-serif"`;
const COLORS = { loss: "#9ab6d8", smoothed: "#1f3b73", train: "#f58518", validation: "#2e8b3e", bars: "#4c78a8", axis: "#444", grid: "#e4e4e4", text: "#222" };

/** Escapes text for SVG content and attributes. */
function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Rounds a coordinate to 0.1 px: shorter files, no visible change. */
const px = (v: number) => String(Math.round(v * 10) / 10);

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten). */
function ticks(lo: number, hi: number, count: number): number[] {
  if (count <= 0) return [];
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** A number for an axis label: no float noise (0.30000000000000004 -> 0.3). */
function label(v: number): string {
  return String(Number(v.toPrecision(6)));
}

/** A rectangle of the picture with linear scales from data to pixels. */
interface Panel {
  x: number;
  y: number;
  width: number;
  height: number;
  xDomain: [number, number];
  yDomain: [number, number];
}

const sx = (p: Panel, v: number) => p.x + ((v - p.xDomain[0]) / (p.xDomain[1] - p.xDomain[0] || 1)) * p.width;
const sy = (p: Panel, v: number) => p.y + p.height - ((v - p.yDomain[0]) / (p.yDomain[1] - p.yDomain[0] || 1)) * p.height;

/** Frame, grid lines, tick labels, axis titles and the panel title. */
function axes(p: Panel, options: { title: string; xTitle: string; yTitle: string; xTicks?: number; yTicks?: number; fontSize?: number }): string {
  const size = options.fontSize ?? 11;
  const parts: string[] = [];
  const grid: string[] = [];
  for (const v of ticks(p.yDomain[0], p.yDomain[1], options.yTicks ?? 5)) {
    const y = px(sy(p, v));
    grid.push(`M${px(p.x)} ${y}H${px(p.x + p.width)}`);
    parts.push(`<text x="${px(p.x - 5)}" y="${y}" font-size="${size}" fill="${COLORS.text}" stroke="none" text-anchor="end" dominant-baseline="middle" ${FONT}>${label(v)}</text>`);
  }
  for (const v of ticks(p.xDomain[0], p.xDomain[1], options.xTicks ?? 5)) {
    const x = px(sx(p, v));
    grid.push(`M${x} ${px(p.y)}V${px(p.y + p.height)}`);
    parts.push(`<text x="${x}" y="${px(p.y + p.height + size + 3)}" font-size="${size}" fill="${COLORS.text}" stroke="none" text-anchor="middle" ${FONT}>${label(v)}</text>`);
  }
  return [
    `<path d="${grid.join("")}" fill="none" stroke="${COLORS.grid}" stroke-width="1"/>`,
    `<rect x="${px(p.x)}" y="${px(p.y)}" width="${px(p.width)}" height="${px(p.height)}" fill="none" stroke="${COLORS.axis}" stroke-width="1"/>`,
    ...parts,
    `<text x="${px(p.x + p.width / 2)}" y="${px(p.y - 8)}" font-size="${size + 2}" font-weight="bold" fill="${COLORS.text}" stroke="none" text-anchor="middle" ${FONT}>${esc(options.title)}</text>`,
    options.xTitle
      ? `<text x="${px(p.x + p.width / 2)}" y="${px(p.y + p.height + 2 * size + 8)}" font-size="${size}" fill="${COLORS.text}" stroke="none" text-anchor="middle" ${FONT}>${esc(options.xTitle)}</text>`
      : "",
    options.yTitle
      ? `<text transform="translate(${px(p.x - 42)} ${px(p.y + p.height / 2)}) rotate(-90)" font-size="${size}" fill="${COLORS.text}" stroke="none" text-anchor="middle" ${FONT}>${esc(options.yTitle)}</text>`
      : "",
  ].join("\n");
}

/** A polyline through the finite points, broken where a value is missing or not finite. */
function line(p: Panel, points: readonly (readonly [number, number | null])[], color: string, width: number, opacity = 1): string {
  let d = "";
  let pen = false;
  for (const [x, y] of points) {
    if (y === null || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${px(sx(p, x))} ${px(sy(p, Math.min(p.yDomain[1], Math.max(p.yDomain[0], y))))}`;
    pen = true;
  }
  return `<path d="${d}" fill="none" stroke="${color}" stroke-width="${width}" stroke-opacity="${opacity}" stroke-linejoin="round"/>`;
}

/** Legend entries (a short line and a label each), stacked inside the panel's top- or bottom-right corner. */
function legend(p: Panel, entries: readonly { text: string; color: string; width: number; opacity?: number }[], corner: "top" | "bottom" = "top"): string {
  const rowHeight = 16;
  const boxWidth = 8 + 24 + 6 + Math.max(...entries.map((e) => e.text.length)) * 6 + 8;
  const boxHeight = entries.length * rowHeight + 4;
  const x = p.x + p.width - boxWidth - 6;
  const y = corner === "top" ? p.y + 6 : p.y + p.height - boxHeight - 6;
  const rows = entries.map((e, i) => {
    const cy = y + 10 + i * rowHeight;
    return (
      `<path d="M${px(x + 8)} ${px(cy)}h24" fill="none" stroke="${e.color}" stroke-width="${e.width}" stroke-opacity="${e.opacity ?? 1}"/>` +
      `<text x="${px(x + 38)}" y="${px(cy)}" font-size="10" fill="${COLORS.text}" stroke="none" dominant-baseline="middle" ${FONT}>${esc(e.text)}</text>`
    );
  });
  const box = `<rect x="${px(x)}" y="${px(y)}" width="${px(boxWidth)}" height="${px(boxHeight)}" fill="#ffffff" fill-opacity="0.9" stroke="#bbbbbb" stroke-width="1"/>`;
  return [box, ...rows].join("\n");
}

function document(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff" stroke="none"/>`,
    `<text x="${width / 2}" y="22" font-size="15" font-weight="bold" fill="${COLORS.text}" stroke="none" text-anchor="middle" ${FONT}>${esc(title)}</text>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}

export interface TrainingCurves {
  title?: string;
  /** Loss at every iteration. */
  lossHistory: readonly number[];
  /** Accuracy at each check (first iteration, each epoch end, last iteration). */
  trainAccHistory: readonly number[];
  valAccHistory: readonly number[];
  /** The iteration of each accuracy check, for the x axis (default: evenly spread). */
  checkIterations?: readonly number[];
}

/** Loss per iteration (raw, and a moving average) beside train/validation accuracy, as one SVG. */
export function trainingCurvesSvg(curves: TrainingCurves): string {
  const { lossHistory, trainAccHistory, valAccHistory } = curves;
  const steps = lossHistory.length;
  const window = Math.max(1, Math.round(steps / 50));
  const smoothed = lossHistory.map((_, i) => {
    let sum = 0;
    let count = 0;
    for (let j = Math.max(0, i - window + 1); j <= i; j++) {
      if (Number.isFinite(lossHistory[j])) {
        sum += lossHistory[j];
        count++;
      }
    }
    return count ? sum / count : null;
  });
  const finiteLoss = lossHistory.filter(Number.isFinite);
  const lossMax = finiteLoss.length ? Math.max(...finiteLoss) : 1;
  const lossTicks = ticks(0, lossMax > 0 ? lossMax : 1, 5);
  const xMax = Math.max(1, steps);
  const lossPanel: Panel = { x: 70, y: 60, width: 400, height: 250, xDomain: [0, xMax], yDomain: [0, Math.max(lossTicks[lossTicks.length - 1], lossMax)] };

  const checks = curves.checkIterations ?? trainAccHistory.map((_, i) => Math.round((i * steps) / Math.max(1, trainAccHistory.length - 1)));
  // The accuracy axis spans the data (rounded out to 0.05), not 0-1, so the curves are readable.
  const accValues = [...trainAccHistory, ...valAccHistory].filter(Number.isFinite);
  const accLo = accValues.length ? Math.max(0, Math.floor(Math.min(...accValues) * 20 - 1e-9) / 20) : 0;
  const accHi = accValues.length ? Math.min(1, Math.ceil(Math.max(...accValues) * 20 + 1e-9) / 20) : 1;
  const accPanel: Panel = { x: 560, y: 60, width: 400, height: 250, xDomain: [0, xMax], yDomain: [accLo, accHi > accLo ? accHi : accLo + 0.05] };
  const dots = (values: readonly number[], color: string) =>
    values
      .map((v, i) => (Number.isFinite(v) ? `<circle cx="${px(sx(accPanel, checks[i]))}" cy="${px(sy(accPanel, v))}" r="2.5" fill="${color}" stroke="none"/>` : ""))
      .join("");

  return document(1000, 360, curves.title ?? "Training", [
    axes(lossPanel, { title: "Loss", xTitle: "iteration", yTitle: "loss" }),
    line(lossPanel, lossHistory.map((v, i) => [i + 1, v]), COLORS.loss, 1, 0.8),
    line(lossPanel, smoothed.map((v, i) => [i + 1, v]), COLORS.smoothed, 2),
    legend(lossPanel, [
      { text: "loss per step", color: COLORS.loss, width: 1, opacity: 0.8 },
      { text: `moving average (${window} step${window === 1 ? "" : "s"})`, color: COLORS.smoothed, width: 2 },
    ]),
    axes(accPanel, { title: "Accuracy", xTitle: "iteration", yTitle: "accuracy" }),
    line(accPanel, trainAccHistory.map((v, i) => [checks[i], v]), COLORS.train, 2),
    line(accPanel, valAccHistory.map((v, i) => [checks[i], v]), COLORS.validation, 2),
    dots(trainAccHistory, COLORS.train) + dots(valAccHistory, COLORS.validation),
    legend(accPanel, [
      { text: "train", color: COLORS.train, width: 2 },
      { text: "validation", color: COLORS.validation, width: 2 },
    ], "bottom"), // accuracy rises toward the top right
  ]);
}

export interface HistogramRow {
  scheme: string;
  layer: number;
  /** Bin edges (counts.length + 1 of them) and counts. */
  edges: readonly number[];
  counts: readonly number[];
  mean: number;
  std: number;
}

/**
 * Per-layer activation histograms: one column per initialization scheme, one row per layer, and
 * one x-scale per column (shared by all its layers), so that what happens from layer to layer
 * shows as the notes describe it: std 0.01 collapses to a spike at 0, tanh saturates at -1 and 1,
 * Xavier with ReLU shrinks, Kaiming keeps its spread.
 */
export function activationHistogramsSvg(rows: readonly HistogramRow[], title: string): string {
  const schemes = [...new Set(rows.map((r) => r.scheme))];
  const layers = [...new Set(rows.map((r) => r.layer))].sort((a, b) => a - b);
  const cell = { width: 170, height: 70, gapX: 44, gapY: 40 };
  const left = 90;
  const top = 84;
  const body: string[] = [];
  const xDomains = schemes.map((scheme) => {
    const own = rows.filter((r) => r.scheme === scheme);
    const lo = Math.min(...own.map((r) => r.edges[0]));
    const hi = Math.max(...own.map((r) => r.edges[r.edges.length - 1]));
    return [lo, hi > lo ? hi : lo + 1] as [number, number];
  });
  for (const r of rows) {
    const col = schemes.indexOf(r.scheme);
    const row = layers.indexOf(r.layer);
    const total = Math.max(1, r.counts.reduce((a, b) => a + b, 0));
    const fractions = r.counts.map((c) => c / total);
    const p: Panel = {
      x: left + col * (cell.width + cell.gapX),
      y: top + row * (cell.height + cell.gapY),
      width: cell.width,
      height: cell.height,
      xDomain: xDomains[col],
      yDomain: [0, Math.max(...fractions, 1e-9)],
    };
    // Tick labels only under the bottom row (the column's one scale), none inside the grid.
    const last = row === layers.length - 1;
    body.push(axes(p, { title: "", xTitle: "", yTitle: "", xTicks: last ? 3 : 0, yTicks: 0, fontSize: 9 }));
    // Each bar at least 1 px wide, so a spike narrower than a pixel still shows.
    const bars = fractions
      .map((f, i) => {
        if (f <= 0) return "";
        const x0 = sx(p, r.edges[i]);
        const x1 = Math.max(sx(p, r.edges[i + 1]), x0 + 1);
        return `M${px(x0)} ${px(sy(p, 0))}V${px(sy(p, f))}H${px(x1)}V${px(sy(p, 0))}Z`;
      })
      .join("");
    body.push(`<path d="${bars}" fill="${COLORS.bars}" stroke="none"/>`);
    body.push(`<text x="${px(p.x + p.width)}" y="${px(p.y - 4)}" font-size="9" fill="${COLORS.text}" stroke="none" text-anchor="end" ${FONT}>mean ${r.mean.toFixed(3)}  std ${r.std.toFixed(3)}</text>`);
  }
  schemes.forEach((scheme, col) => {
    const x = left + col * (cell.width + cell.gapX) + cell.width / 2;
    body.push(`<text x="${px(x)}" y="${top - 26}" font-size="12" font-weight="bold" fill="${COLORS.text}" stroke="none" text-anchor="middle" ${FONT}>${esc(scheme)}</text>`);
  });
  layers.forEach((layer, row) => {
    const y = top + row * (cell.height + cell.gapY) + cell.height / 2;
    body.push(`<text x="${left - 12}" y="${px(y)}" font-size="11" font-weight="bold" fill="${COLORS.text}" stroke="none" text-anchor="end" dominant-baseline="middle" ${FONT}>layer ${layer}</text>`);
  });
  const width = left + schemes.length * (cell.width + cell.gapX) - cell.gapX + 20;
  const height = top + layers.length * (cell.height + cell.gapY) - cell.gapY + 34;
  body.push(
    `<text x="${width / 2}" y="${height - 8}" font-size="10" fill="${COLORS.text}" stroke="none" text-anchor="middle" ${FONT}>` +
      `activation value (one scale per column); bar height: fraction of the activations in the bin (per panel)</text>`,
  );
  return document(width, height, title, body);
}
