// Weight initialization, sampled in wasm. The scales follow the course notes:
// a number s gives N(0, s²); "xavier" gives std sqrt(1/fanIn); "kaiming" std sqrt(gain/fanIn) with
// gain 2 for ReLU nets and 1 otherwise. fanIn is Din for a linear layer and Cin*K*K for a conv.
import { drawSeed } from "../core/random.js";
import { kernels } from "../core/runtime.js";
import { checkDtype, empty, fillNormalAt, type Tensor } from "../core/tensor.js";
import { checkInteger, checkNumber, checkOptions, checkSeed, describe } from "../core/validate.js";

/**
 * How initial weights are scaled (the course's weight_scale): a number is the std of a normal
 * N(0, std²); "xavier" is std sqrt(1 / fanIn); "kaiming" is std sqrt(2 / fanIn) before a ReLU
 * (sqrt(1 / fanIn) otherwise).
 */
export type WeightScale = number | "xavier" | "kaiming";

/** Checks a weightScale option: a non-negative finite number, "xavier" or "kaiming". */
export function checkWeightScale(fn: string, value: unknown): WeightScale {
  if (value === "xavier" || value === "kaiming") return value;
  if (typeof value === "number") return checkNumber(fn, "weightScale", value, { min: 0 });
  throw new TypeError(`${fn}: weightScale must be a number (the std of the initial weights), "xavier" or "kaiming" (got ${describe(value)})`);
}

/** The standard deviation for a scheme (sqrt computed in wasm so every engine agrees). */
export function initStd(scale: WeightScale, fanIn: number, relu: boolean): number {
  if (typeof scale === "number") return scale;
  const gain = scale === "kaiming" && relu ? 2 : 1;
  return kernels().f64_sqrt(gain / fanIn);
}

/** Fills t with N(0, std²) from stream (seed, offset), in t's dtype. */
export function fillNormal(t: Tensor, std: number, seed: number, offset = 0): void {
  fillNormalAt(t, seed, offset, 0, std);
}

/**
 * The course's kaiming_initializer: (Din, Dout) weights for a linear layer, or (Dout, Din, K, K)
 * for a conv layer when K is given, with std sqrt(gain / fanIn), gain 2 when relu else 1.
 * options: seed, and dtype ("float32" by default, or "float64").
 */
export function kaimingInitializer(
  Din: number,
  Dout: number,
  K?: number | null,
  relu = true,
  options: { seed?: number; dtype?: "float32" | "float64" } = {},
): Tensor {
  const fn = "kaimingInitializer";
  checkInteger(fn, "Din", Din, 1);
  checkInteger(fn, "Dout", Dout, 1);
  if (K !== undefined && K !== null) checkInteger(fn, "K", K, 1);
  if (typeof relu !== "boolean") throw new TypeError(`${fn}: relu must be a boolean (got ${describe(relu)})`);
  const opts = checkOptions(fn, "options", options, ["seed", "dtype"]);
  const dtype = checkDtype(fn, "options.dtype", opts.dtype);
  const given = opts.seed === undefined ? undefined : checkSeed(fn, "options.seed", opts.seed); // before allocating
  const conv = K !== undefined && K !== null;
  const fanIn = conv ? Din * K * K : Din;
  const w = empty(conv ? [Dout, Din, K, K] : [Din, Dout], fn, dtype);
  const [seed, offset] = given === undefined ? drawSeed(w.size) : [given, 0];
  fillNormal(w, initStd("kaiming", fanIn, relu), seed, offset);
  return w;
}
