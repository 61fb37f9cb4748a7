// Pictures for the terminal user, rendered headless to SVG with Vega-Lite (no browser, no canvas).
import * as vega from "vega";
import * as vl from "vega-lite";

type VlSpec = vl.TopLevelSpec;

async function render(spec: VlSpec): Promise<string> {
  const { spec: compiled } = vl.compile(spec);
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
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

/** Loss per iteration (with a moving average) beside train/validation accuracy, as one SVG. */
export async function trainingCurvesSvg(curves: TrainingCurves): Promise<string> {
  const { lossHistory, trainAccHistory, valAccHistory } = curves;
  const window = Math.max(1, Math.round(lossHistory.length / 50));
  const loss = lossHistory.map((value, i) => {
    const from = Math.max(0, i - window + 1);
    let sum = 0;
    let count = 0;
    for (let j = from; j <= i; j++) {
      if (Number.isFinite(lossHistory[j])) {
        sum += lossHistory[j];
        count++;
      }
    }
    return { iteration: i + 1, loss: Number.isFinite(value) ? value : null, smoothed: count ? sum / count : null };
  });
  const checks = curves.checkIterations ?? trainAccHistory.map((_, i) => Math.round((i * lossHistory.length) / Math.max(1, trainAccHistory.length - 1)));
  const acc = trainAccHistory.flatMap((t, i) => [
    { iteration: checks[i], accuracy: t, split: "train" },
    { iteration: checks[i], accuracy: valAccHistory[i], split: "validation" },
  ]);
  return render({
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: curves.title ?? "Training",
    hconcat: [
      {
        title: "Loss",
        width: 420,
        height: 260,
        data: { values: loss },
        layer: [
          { mark: { type: "line", opacity: 0.3, color: "#4c78a8" }, encoding: { x: { field: "iteration", type: "quantitative" }, y: { field: "loss", type: "quantitative", title: "loss" } } },
          { mark: { type: "line", color: "#1f3b73", strokeWidth: 2 }, encoding: { x: { field: "iteration", type: "quantitative" }, y: { field: "smoothed", type: "quantitative" } } },
        ],
      },
      {
        title: "Accuracy",
        width: 420,
        height: 260,
        data: { values: acc },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "iteration", type: "quantitative" },
          y: { field: "accuracy", type: "quantitative", scale: { domain: [0, 1] } },
          color: { field: "split", type: "nominal", scale: { range: ["#f58518", "#54a24b"] } },
        },
      },
    ],
  } as VlSpec);
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

/** Per-layer activation histograms, one row per initialization scheme. */
export async function activationHistogramsSvg(rows: readonly HistogramRow[], title: string): Promise<string> {
  const values = rows.flatMap((r) =>
    r.counts.map((count, i) => ({
      scheme: r.scheme,
      layer: `layer ${r.layer}`,
      start: r.edges[i],
      end: r.edges[i + 1],
      fraction: count / Math.max(1, r.counts.reduce((a, b) => a + b, 0)),
    })),
  );
  const labels = rows.map((r) => ({ scheme: r.scheme, layer: `layer ${r.layer}`, label: `mean ${r.mean.toFixed(3)}  std ${r.std.toFixed(3)}` }));
  return render({
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    data: { values: [...values, ...labels] },
    facet: {
      row: { field: "scheme", type: "nominal", title: null, sort: [...new Set(rows.map((r) => r.scheme))] },
      column: { field: "layer", type: "nominal", title: null },
    },
    spec: {
      width: 130,
      height: 80,
      layer: [
        {
          transform: [{ filter: "isValid(datum.start)" }],
          mark: { type: "rect", color: "#4c78a8" },
          encoding: {
            x: { field: "start", type: "quantitative", title: "activation" },
            x2: { field: "end" },
            y: { field: "fraction", type: "quantitative", title: "fraction" },
            y2: { datum: 0 },
          },
        },
        {
          transform: [{ filter: "isValid(datum.label)" }],
          mark: { type: "text", align: "left", baseline: "top", x: 4, y: 4, fontSize: 9, color: "#333" },
          encoding: { text: { field: "label", type: "nominal" } },
        },
      ],
    },
    resolve: { scale: { x: "independent", y: "independent" } },
  } as VlSpec);
}
