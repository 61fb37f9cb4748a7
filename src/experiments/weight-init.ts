// The course notes' weight-initialization experiment: feed random data through a deep stack of
// wide layers (7 widths of 4096, so 6 weight matrices) and watch each layer's activations.
// With std 0.01 tanh activations collapse toward 0; with 0.05 they saturate at ±1; Xavier
// (std 1/sqrt(Din)) keeps them spread. For ReLU, Xavier shrinks them layer by layer and Kaiming
// (std sqrt(2/Din)) keeps them steady. Everything runs in wasm, so results are the same everywhere.
import { internal, type Tensor, type WeightScale } from "../index.js";

// tensorlane/experiments is an entry of its own: it reaches the core's helpers through `internal`.
const {
  ACTIVATION_KERNELS,
  checkEnum,
  checkInteger,
  checkOptions,
  checkSeed,
  checkWeightScale,
  deriveSeed,
  describe,
  empty,
  fillNormal,
  gemm,
  initStd,
  kernels,
  useFamily,
} = internal;

/** One weight-initialization scheme of the experiment: a weight scale and the activation after each layer. */
export interface InitScheme {
  /** Label for plots and tables, e.g. "Xavier, tanh". */
  name: string;
  /** The weights' std, or "xavier" / "kaiming" (computed from the layer width). */
  weightScale: WeightScale;
  /** The nonlinearity applied after each layer ("kaiming" uses gain 2 for "relu"). */
  activation: "tanh" | "relu";
}

/** The schemes the notes walk through, in order. */
export const INIT_SCHEMES: readonly InitScheme[] = [
  { name: "std 0.01, tanh", weightScale: 0.01, activation: "tanh" },
  { name: "std 0.05, tanh", weightScale: 0.05, activation: "tanh" },
  { name: "Xavier, tanh", weightScale: "xavier", activation: "tanh" },
  { name: "Xavier, ReLU", weightScale: "xavier", activation: "relu" },
  { name: "Kaiming, ReLU", weightScale: "kaiming", activation: "relu" },
];

/** Statistics of one layer's activations (batch × width values) under one scheme. */
export interface LayerStats {
  /** The layer, 1-based (1 .. depth - 1). */
  layer: number;
  /** Mean of the layer's activations. */
  mean: number;
  /** Standard deviation of the layer's activations. */
  std: number;
  /** Histogram of the layer's activations: edges (bins + 1) and counts. */
  edges: number[];
  /** Number of activations in each histogram bin (bins values). */
  counts: number[];
}

/** What runInitExperiment returns: the settings used and each scheme's per-layer statistics. */
export interface InitExperimentResult {
  /** Layer width used. */
  width: number;
  /** Number of widths in the stack (depth - 1 weight matrices). */
  depth: number;
  /** Rows of random input used. */
  batch: number;
  /** Seed of the input and weight draws. */
  seed: number;
  /** One entry per scheme, in the order given. */
  schemes: {
    /** The scheme these statistics are for. */
    scheme: InitScheme;
    /** Statistics of each layer's activations, layer 1 first. */
    layers: LayerStats[];
  }[];
}

/** Options of runInitExperiment; all optional, defaults as in the course notes. */
export interface InitExperimentOptions {
  /** Layer width (default 4096, as in the notes). */
  width?: number;
  /** Number of widths in the stack (default 7: six weight matrices). */
  depth?: number;
  /** Rows of random input (default 16). */
  batch?: number;
  /** Seed of the random input and weights, an integer in [0, 2^32) (default 0). */
  seed?: number;
  /** Histogram bins per layer (default 40). */
  bins?: number;
  /** The schemes to compare (default INIT_SCHEMES, the notes' five). */
  schemes?: readonly InitScheme[];
}

/** Runs every scheme on the same random input and returns per-layer statistics and histograms. */
export function runInitExperiment(options: InitExperimentOptions = {}): InitExperimentResult {
  const fn = "runInitExperiment";
  const o = checkOptions(fn, "options", options, ["width", "depth", "batch", "seed", "bins", "schemes"]);
  const width = o.width === undefined ? 4096 : checkInteger(fn, "width", o.width, 1);
  const depth = o.depth === undefined ? 7 : checkInteger(fn, "depth", o.depth, 2);
  const batch = o.batch === undefined ? 16 : checkInteger(fn, "batch", o.batch, 1);
  const seed = o.seed === undefined ? 0 : checkSeed(fn, "seed", o.seed);
  const bins = o.bins === undefined ? 40 : checkInteger(fn, "bins", o.bins, 1);
  const schemes = o.schemes === undefined ? INIT_SCHEMES : checkSchemes(fn, o.schemes);
  useFamily(ACTIVATION_KERNELS); // tanh
  const k = kernels();
  const made: Tensor[] = []; // freed in finally, also when an allocation fails midway
  const alloc = (shape: number[]): Tensor => made[made.push(empty(shape, fn)) - 1];
  try {
    const w = alloc([width, width]);
    // Layer-major: each layer's standard-normal matrix is drawn once and shared by every scheme
    // (x·(s·W) = s·(x·W)), which keeps the experiment to one 4096² draw per layer.
    const acts = schemes.map(() => [alloc([batch, width]), alloc([batch, width])] as const);
    for (const [x] of acts) fillNormal(x, 1, seed);
    const result: InitExperimentResult = { width, depth, batch, seed, schemes: schemes.map((scheme) => ({ scheme, layers: [] })) };
    for (let layer = 1; layer < depth; layer++) {
      fillNormal(w, 1, deriveSeed(seed, layer));
      schemes.forEach((scheme, s) => {
        const [x, out] = layer % 2 === 1 ? acts[s] : [acts[s][1], acts[s][0]];
        gemm("nn", out.ptr, x.ptr, w.ptr, batch, width, width, { dtype: "float32" });
        k.scale(out.ptr, out.ptr, out.size, initStd(scheme.weightScale, width, scheme.activation === "relu"));
        if (scheme.activation === "tanh") k.tanh(out.ptr, out.ptr, out.size);
        else k.relu(out.ptr, out.ptr, out.size);
        result.schemes[s].layers.push({ layer, ...statistics(out.toArray(), scheme.activation, bins) });
      });
    }
    return result;
  } finally {
    for (const t of made) t.dispose();
  }
}

function checkSchemes(fn: string, value: unknown): InitScheme[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(`${fn}: schemes must be a non-empty array of { name, weightScale, activation } (got ${describe(value)})`);
  }
  return value.map((s: unknown, i) => {
    const o = checkOptions(fn, `schemes[${i}]`, s, ["name", "weightScale", "activation"]);
    if (typeof o.name !== "string") throw new TypeError(`${fn}: schemes[${i}].name must be a string (got ${describe(o.name)})`);
    const weightScale = checkWeightScale(`${fn}: schemes[${i}]`, o.weightScale);
    const activation = checkEnum(fn, `schemes[${i}].activation`, o.activation, ["tanh", "relu"] as const);
    return { name: o.name, weightScale, activation };
  });
}

function statistics(values: Float32Array | Float64Array, activation: "tanh" | "relu", bins: number): Omit<LayerStats, "layer"> {
  let sum = 0;
  let max = 0;
  for (const v of values) {
    sum += v;
    max = Math.max(max, v);
  }
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) * (v - mean);
  const std = kernels().f64_sqrt(sq / values.length);
  // tanh lives in [-1, 1]; ReLU outputs in [0, max] of this layer (at least a tiny range).
  const lo = activation === "tanh" ? -1 : 0;
  const hi = activation === "tanh" ? 1 : Math.max(max, 1e-6);
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)))]++;
  return { mean, std, edges, counts };
}
