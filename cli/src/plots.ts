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
  const step = tickStep(lo, hi, count);
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function tickStep(lo: number, hi: number, count: number): number {
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
}

/** [lo, hi] widened to whole tick steps, so the first and last ticks sit on the frame (both labelled). */
function niceDomain(lo: number, hi: number, count: number): [number, number] {
  if (!(hi > lo)) return [lo, lo + 1];
  const step = tickStep(lo, hi, count);
  return [Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step];
}

/**
 * Ticks of a log axis over [lo, hi] (both > 0): 1-2-3-5 times powers of ten while the range is
 * short, decades when it is long; the domain runs from the tick at or below lo to the one at or
 * above hi, so both ends are labelled.
 */
function logTicks(lo: number, hi: number): { domain: [number, number]; ticks: number[] } {
  const decades = Math.log10(hi / lo);
  const mantissas = decades <= 1.2 ? [1, 1.5, 2, 3, 5, 7] : decades <= 2.5 ? [1, 2, 3, 5] : decades <= 4 ? [1, 2, 5] : [1];
  const every = Math.max(1, Math.ceil(decades / 8)); // at most about 8 decade labels
  const candidates: number[] = [];
  for (let k = Math.floor(Math.log10(lo)) - 1; k <= Math.ceil(Math.log10(hi)) + 1; k++) {
    if (mantissas.length === 1 && k % every !== 0) continue;
    for (const m of mantissas) candidates.push(Number((m * 10 ** k).toPrecision(6)));
  }
  const bottom = Math.max(...candidates.filter((c) => c <= lo * (1 + 1e-9)));
  const top = Math.min(...candidates.filter((c) => c >= hi * (1 - 1e-9)));
  return { domain: [bottom, top], ticks: candidates.filter((c) => c >= bottom && c <= top) };
}

/** A number for an axis label: no float noise (0.30000000000000004 -> 0.3). */
function label(v: number): string {
  return String(Number(v.toPrecision(6)));
}

/** A rectangle of the picture with scales from data to pixels (x linear; y linear or log). */
interface Panel {
  x: number;
  y: number;
  width: number;
  height: number;
  xDomain: [number, number];
  yDomain: [number, number];
  yLog?: boolean;
}

const sx = (p: Panel, v: number) => p.x + ((v - p.xDomain[0]) / (p.xDomain[1] - p.xDomain[0] || 1)) * p.width;
const sy = (p: Panel, v: number) => {
  const [lo, hi] = p.yLog ? [Math.log(p.yDomain[0]), Math.log(p.yDomain[1])] : p.yDomain;
  return p.y + p.height - (((p.yLog ? Math.log(v) : v) - lo) / (hi - lo || 1)) * p.height;
};

interface AxesOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  xTicks?: number;
  yTicks?: number;
  /** Tick values to use instead of round ones (a log axis, epochs). */
  xTickValues?: readonly number[];
  yTickValues?: readonly number[];
  /** How an x tick is labelled (epochs on an iteration axis). */
  xLabel?: (v: number) => string;
  fontSize?: number;
  /** "left": the panel title sits at the frame's left end, leaving room for a legend on the right. */
  titleAlign?: "middle" | "left";
}

/** Frame, grid lines, tick labels, axis titles and the panel title. */
function axes(p: Panel, options: AxesOptions): string {
  const size = options.fontSize ?? 11;
  const parts: string[] = [];
  const grid: string[] = [];
  for (const v of options.yTickValues ?? ticks(p.yDomain[0], p.yDomain[1], options.yTicks ?? 5)) {
    const y = px(sy(p, v));
    grid.push(`M${px(p.x)} ${y}H${px(p.x + p.width)}`);
    parts.push(
      `<text x="${px(p.x - 5)}" y="${y}" font-size="${size}" fill="${COLORS.text}" stroke="none" text-anchor="end" dominant-baseline="middle" ${FONT}>${label(v)}</text>`,
    );
  }
  for (const v of options.xTickValues ?? ticks(p.xDomain[0], p.xDomain[1], options.xTicks ?? 5)) {
    const x = px(sx(p, v));
    grid.push(`M${x} ${px(p.y)}V${px(p.y + p.height)}`);
    parts.push(
      `<text x="${x}" y="${px(p.y + p.height + size + 3)}" font-size="${size}" fill="${COLORS.text}" stroke="none" text-anchor="middle" ${FONT}>${esc((options.xLabel ?? label)(v))}</text>`,
    );
  }
  const left = options.titleAlign === "left";
  return [
    `<path d="${grid.join("")}" fill="none" stroke="${COLORS.grid}" stroke-width="1"/>`,
    `<rect x="${px(p.x)}" y="${px(p.y)}" width="${px(p.width)}" height="${px(p.height)}" fill="none" stroke="${COLORS.axis}" stroke-width="1"/>`,
    ...parts,
    options.title
      ? `<text x="${px(left ? p.x : p.x + p.width / 2)}" y="${px(p.y - 8)}" font-size="${size + 2}" font-weight="bold" fill="${COLORS.text}" stroke="none" text-anchor="${left ? "start" : "middle"}" ${FONT}>${esc(options.title)}</text>`
      : "",
    options.xTitle
      ? `<text x="${px(p.x + p.width / 2)}" y="${px(p.y + p.height + 2 * size + 8)}" font-size="${size}" fill="${COLORS.text}" stroke="none" text-anchor="middle" ${FONT}>${esc(options.xTitle)}</text>`
      : "",
    options.yTitle
      ? `<text transform="translate(${px(p.x - 42)} ${px(p.y + p.height / 2)}) rotate(-90)" font-size="${size}" fill="${COLORS.text}" stroke="none" text-anchor="middle" ${FONT}>${esc(options.yTitle)}</text>`
      : "",
  ].join("\n");
}

/**
 * A polyline through the finite points, broken where a value is missing, not finite (or not
 * positive on a log axis), and cut where it leaves the panel's y range (the part outside is not
 * drawn, so a point far below the axis shows as a line leaving through the frame).
 */
function line(p: Panel, points: readonly (readonly [number, number | null])[], color: string, width: number, opacity = 1): string {
  const top = p.y;
  const bottom = p.y + p.height;
  let d = "";
  let prev: [number, number] | null = null;
  let penAt: [number, number] | null = null; // where the pen is, when a segment ended there
  for (const [xv, yv] of points) {
    if (yv === null || !Number.isFinite(yv) || (p.yLog && yv <= 0)) {
      prev = null;
      continue;
    }
    const cur: [number, number] = [sx(p, xv), sy(p, yv)];
    if (prev === null) {
      prev = cur;
      if (cur[1] >= top && cur[1] <= bottom && points.length === 1) d += `M${px(cur[0])} ${px(cur[1])}`;
      continue;
    }
    const seg = clipY(prev, cur, top, bottom);
    if (seg !== null) {
      const [a, b] = seg;
      const continues = penAt !== null && penAt[0] === a[0] && penAt[1] === a[1];
      d += `${continues ? "" : `M${px(a[0])} ${px(a[1])}`}L${px(b[0])} ${px(b[1])}`;
      penAt = b;
    }
    prev = cur;
  }
  return `<path d="${d}" fill="none" stroke="${color}" stroke-width="${width}" stroke-opacity="${opacity}" stroke-linejoin="round"/>`;
}

/** The part of segment a-b with top <= y <= bottom (screen coordinates), or null. */
function clipY(a: [number, number], b: [number, number], top: number, bottom: number): [[number, number], [number, number]] | null {
  let [t0, t1] = [0, 1];
  const dy = b[1] - a[1];
  for (const [edge, inside] of [
    [top, 1],
    [bottom, -1],
  ] as const) {
    // inside * (y - edge) >= 0 along the segment
    const start = inside * (a[1] - edge);
    const change = inside * dy;
    if (change === 0) {
      if (start < 0) return null;
      continue;
    }
    const t = -start / change;
    if (change > 0) t0 = Math.max(t0, t);
    else t1 = Math.min(t1, t);
  }
  if (t0 > t1) return null;
  const at = (t: number): [number, number] => [a[0] + t * (b[0] - a[0]), a[1] + t * dy];
  return [t0 === 0 ? a : at(t0), t1 === 1 ? b : at(t1)];
}

/** A legend in one row, right-aligned above the panel's frame (never over the data). */
function legendRow(p: Panel, entries: readonly { text: string; color: string; width: number; opacity?: number; ring?: boolean }[]): string {
  const itemWidth = (e: { text: string }) => 24 + 5 + e.text.length * 5.6 + 14;
  let x = p.x + p.width - entries.reduce((w, e) => w + itemWidth(e), 0) + 14;
  const y = p.y - 12;
  const out: string[] = [];
  for (const e of entries) {
    out.push(
      e.ring
        ? `<circle cx="${px(x + 12)}" cy="${px(y)}" r="4.5" fill="none" stroke="${e.color}" stroke-width="1.5"/>`
        : `<path d="M${px(x)} ${px(y)}h24" fill="none" stroke="${e.color}" stroke-width="${e.width}" stroke-opacity="${e.opacity ?? 1}"/>`,
      `<text x="${px(x + 29)}" y="${px(y)}" font-size="10" fill="${COLORS.text}" stroke="none" dominant-baseline="middle" ${FONT}>${esc(e.text)}</text>`,
    );
    x += itemWidth(e);
  }
  return out.join("\n");
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
  /** With it the x axis counts epochs (ticks at epoch ends); without, iterations. */
  iterationsPerEpoch?: number;
  /** "log" (the default when every loss is > 0): the late, small losses stay readable. */
  lossScale?: "log" | "linear";
  /** The check whose parameters the run keeps, ringed: "best" validation accuracy (default) or the "last" check. */
  kept?: "best" | "last";
}

/** The picture's size: it fits a 900-pixel screen either way round. */
export const TRAINING_SVG_SIZE = { width: 880, height: 600 } as const;

/**
 * Loss per iteration (raw and a moving average, on a log scale) above train/validation accuracy,
 * one x axis in epochs for both, as one SVG. The accuracy axis zooms to the checks after the
 * first one (taken after a single step, far below the rest) and marks where that point lies.
 */
export function trainingCurvesSvg(curves: TrainingCurves): string {
  const { lossHistory, trainAccHistory, valAccHistory } = curves;
  const { width, height } = TRAINING_SVG_SIZE;
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

  // x: iterations, labelled in epochs when the epoch length is known.
  const perEpoch = curves.iterationsPerEpoch;
  const xMax = Math.max(1, steps);
  const x: Pick<AxesOptions, "xTickValues" | "xLabel" | "xTitle"> =
    perEpoch !== undefined && perEpoch >= 1
      ? {
          xTickValues: ticks(0, xMax / perEpoch, Math.min(12, Math.max(4, Math.round(xMax / perEpoch)))).map((e) => e * perEpoch),
          xLabel: (v) => label(v / perEpoch),
          xTitle: "epoch",
        }
      : { xTitle: "iteration" };
  const left = 70;
  const panelWidth = width - left - 30;

  // Loss: log scale, unless a loss is <= 0 (no log of it), the losses span less than a factor of
  // 3 (a log axis would show two ticks and look the same), or the caller asks for linear.
  const finiteLoss = lossHistory.filter(Number.isFinite);
  const lossMin = finiteLoss.length ? Math.min(...finiteLoss) : 1;
  const lossMax = finiteLoss.length ? Math.max(...finiteLoss) : 1;
  const log = (curves.lossScale ?? "log") === "log" && lossMin > 0 && lossMax >= 3 * lossMin;
  const lossAxis = log
    ? logTicks(lossMin, lossMax)
    : (() => {
        const domain = niceDomain(lossMin, lossMax > lossMin ? lossMax : lossMin + 1, 5);
        return { domain, ticks: ticks(domain[0], domain[1], 5) };
      })();
  const lossPanel: Panel = { x: left, y: 64, width: panelWidth, height: 220, xDomain: [0, xMax], yDomain: lossAxis.domain, yLog: log };

  const checks = curves.checkIterations ?? trainAccHistory.map((_, i) => Math.round((i * steps) / Math.max(1, trainAccHistory.length - 1)));
  // The accuracy axis spans the data, not 0-1, and leaves out the first check when two or more
  // follow: taken after one step, it sits near chance and would squash the rest into a sliver.
  const skip = checks.length >= 3 ? 1 : 0;
  const zoomed = [...trainAccHistory.slice(skip), ...valAccHistory.slice(skip)].filter(Number.isFinite);
  const accLo = zoomed.length ? Math.min(...zoomed) : 0;
  const accHi = zoomed.length ? Math.max(...zoomed) : 1;
  const pad = Math.max(0.005, (accHi - accLo) * 0.05);
  let accDomain = niceDomain(Math.max(0, accLo - pad), Math.min(1, accHi + pad), 5);
  accDomain = [Math.max(0, accDomain[0]), Math.min(1, accDomain[1])];
  const accPanel: Panel = { x: left, y: 342, width: panelWidth, height: 210, xDomain: [0, xMax], yDomain: accDomain };
  const dots = (values: readonly number[], color: string) =>
    values
      .map((v, i) =>
        Number.isFinite(v) && v >= accDomain[0] && v <= accDomain[1]
          ? `<circle cx="${px(sx(accPanel, checks[i]))}" cy="${px(sy(accPanel, v))}" r="2.5" fill="${color}" stroke="none"/>`
          : "",
      )
      .join("");
  // Checks below the axis (the first one, usually): say where they are.
  const below = checks
    .map((c, i) => ({ c, train: trainAccHistory[i], val: valAccHistory[i] }))
    .filter((k) => (Number.isFinite(k.train) && k.train < accDomain[0]) || (Number.isFinite(k.val) && k.val < accDomain[0]));
  // In the title row, between the title and the legend: never over a curve.
  const belowNote = below.length
    ? `<text x="${px(accPanel.x + 78)}" y="${px(accPanel.y - 8)}" font-size="10" fill="#555555" stroke="none" ${FONT}>${esc(
        `(${below.length === 1 ? `step ${below[0].c}: train ${below[0].train.toFixed(2)}, validation ${below[0].val.toFixed(2)},` : `${below.length} checks`} below the axis)`,
      )}</text>`
    : "";
  // The parameters the checkpoint keeps for eval: the best validation accuracy, or the last check.
  // Its value goes in the legend, not beside the point, where it would cross a curve.
  const keptLast = curves.kept === "last";
  const finiteVal = valAccHistory.filter(Number.isFinite);
  let keptIndex = -1;
  if (keptLast) keptIndex = Number.isFinite(valAccHistory.at(-1)) ? valAccHistory.length - 1 : -1;
  else if (finiteVal.length > 0) keptIndex = valAccHistory.indexOf(Math.max(...finiteVal));
  const keptWhen =
    keptIndex < 0 ? "" : checks[keptIndex] === 1 ? "step 1" : perEpoch ? `epoch ${label(checks[keptIndex] / perEpoch)}` : `iteration ${checks[keptIndex]}`;
  const keptRing =
    keptIndex < 0 || valAccHistory[keptIndex] < accDomain[0]
      ? ""
      : `<circle cx="${px(sx(accPanel, checks[keptIndex]))}" cy="${px(sy(accPanel, valAccHistory[keptIndex]))}" r="5" fill="none" stroke="${COLORS.validation}" stroke-width="1.5"/>`;
  // A short mark on the frame at every epoch end (the labels skip some on long runs).
  const epochMarks = (p: Panel) => {
    if (perEpoch === undefined || xMax / perEpoch > 200) return "";
    let d = "";
    for (let e = 1; e * perEpoch < xMax; e++) d += `M${px(sx(p, e * perEpoch))} ${px(p.y + p.height)}v-4`;
    return `<path d="${d}" fill="none" stroke="${COLORS.axis}" stroke-width="1"/>`;
  };

  return document(width, height, curves.title ?? "Training", [
    axes(lossPanel, { title: log ? "Loss (log scale)" : "Loss", yTitle: "", ...x, xTitle: "", yTickValues: lossAxis.ticks, titleAlign: "left" }),
    line(
      lossPanel,
      lossHistory.map((v, i) => [i + 1, v]),
      COLORS.loss,
      1,
      0.8,
    ),
    line(
      lossPanel,
      smoothed.map((v, i) => [i + 1, v]),
      COLORS.smoothed,
      2,
    ),
    legendRow(lossPanel, [
      { text: "loss per step", color: COLORS.loss, width: 1, opacity: 0.8 },
      { text: `moving average (${window} step${window === 1 ? "" : "s"})`, color: COLORS.smoothed, width: 2 },
    ]),
    epochMarks(lossPanel),
    axes(accPanel, { title: "Accuracy", yTitle: "", ...x, titleAlign: "left" }),
    epochMarks(accPanel),
    line(
      accPanel,
      trainAccHistory.map((v, i) => [checks[i], v]),
      COLORS.train,
      2,
    ),
    line(
      accPanel,
      valAccHistory.map((v, i) => [checks[i], v]),
      COLORS.validation,
      2,
    ),
    dots(trainAccHistory, COLORS.train) + dots(valAccHistory, COLORS.validation),
    keptRing,
    belowNote,
    legendRow(accPanel, [
      { text: "train", color: COLORS.train, width: 2 },
      { text: "validation", color: COLORS.validation, width: 2 },
      ...(keptRing
        ? [
            {
              text: `${keptLast ? "last" : "best"} validation ${valAccHistory[keptIndex].toFixed(4)} (${keptWhen})`,
              color: COLORS.validation,
              width: 1.5,
              ring: true,
            },
          ]
        : []),
    ]),
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
    const total = Math.max(
      1,
      r.counts.reduce((a, b) => a + b, 0),
    );
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
    body.push(
      `<text x="${px(p.x + p.width)}" y="${px(p.y - 4)}" font-size="9" fill="${COLORS.text}" stroke="none" text-anchor="end" ${FONT}>mean ${r.mean.toFixed(3)}  std ${r.std.toFixed(3)}</text>`,
    );
  }
  schemes.forEach((scheme, col) => {
    const x = left + col * (cell.width + cell.gapX) + cell.width / 2;
    body.push(
      `<text x="${px(x)}" y="${top - 26}" font-size="12" font-weight="bold" fill="${COLORS.text}" stroke="none" text-anchor="middle" ${FONT}>${esc(scheme)}</text>`,
    );
  });
  layers.forEach((layer, row) => {
    const y = top + row * (cell.height + cell.gapY) + cell.height / 2;
    body.push(
      `<text x="${left - 12}" y="${px(y)}" font-size="11" font-weight="bold" fill="${COLORS.text}" stroke="none" text-anchor="end" dominant-baseline="middle" ${FONT}>layer ${layer}</text>`,
    );
  });
  const width = left + schemes.length * (cell.width + cell.gapX) - cell.gapX + 20;
  const height = top + layers.length * (cell.height + cell.gapY) - cell.gapY + 34;
  body.push(
    `<text x="${width / 2}" y="${height - 8}" font-size="10" fill="${COLORS.text}" stroke="none" text-anchor="middle" ${FONT}>` +
      `activation value (one scale per column); bar height: fraction of the activations in the bin (per panel)</text>`,
  );
  return document(width, height, title, body);
}
