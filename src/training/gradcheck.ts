// Numeric gradient checking, as the course notebooks do it: central differences on one element at
// a time, compared with the analytic gradient by relative error.
// - float64 (the notebooks' way: tensors made with `{ dtype: "float64" }`, models with
//   `dtype: "float64"`): use h = 1e-5 or 1e-6. A correct backward pass gives relError around 1e-8
//   or less (a few 1e-8 on gradient elements much smaller than the rest, from the differencing
//   itself), scaledError around 1e-10, and checkModelGradients at most 1e-7 per parameter; a
//   wrong one gives 1e-3 or more. A parameter whose true gradient is exactly zero (a bias right
//   before batch norm) scores rounding noise against zero: ignore it or leave it out of `names`.
// - float32: the differences lose about half the digits, so use h around 1e-3..1e-2 on
//   well-scaled inputs and expect errors near 1e-3; use float64 to tell right from wrong.
import { checkTensor, Tensor } from "../core/tensor.js";
import { checkNumber, checkOptions, describe } from "../core/validate.js";
import type { Labels } from "../core/labels.js";

/** Options of the numerical gradient checks (evalNumericalGradient, checkModelGradients, ...). */
export interface GradCheckOptions {
  /** Step for central differences. Default 1e-3. */
  h?: number;
}

function stepOf(fn: string, options: GradCheckOptions, known: readonly string[] = ["h"]): number {
  const o = checkOptions(fn, "options", options, known);
  return o.h === undefined ? 1e-3 : checkNumber(fn, "options.h", o.h, { min: 0, minExclusive: true });
}

function checkFunction(fn: string, name: string, value: unknown): void {
  if (typeof value !== "function") throw new TypeError(`${fn}: ${name} must be a function (got ${describe(value)})`);
}

/** The values of a tensor or an array of numbers, for the error measures. */
function valuesOf(fn: string, name: string, value: unknown): ArrayLike<number> {
  if (value instanceof Tensor) return checkTensor(fn, name, value).toArray();
  if (Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    const a = value as ArrayLike<unknown>;
    for (let i = 0; i < a.length; i++) {
      if (typeof a[i] !== "number") throw new TypeError(`${fn}: ${name}[${i}] must be a number (got ${describe(a[i])})`);
    }
    return a as ArrayLike<number>;
  }
  throw new TypeError(`${fn}: ${name} must be a Tensor, an array or a typed array of numbers (got ${describe(value)})`);
}

/**
 * Gradient of a scalar function f() with respect to x (f reads x; x is edited in place and
 * restored). A Float64Array for a float64 x, else a Float32Array.
 */
export function evalNumericalGradient(f: () => number, x: Tensor, options: GradCheckOptions = {}): Float32Array | Float64Array {
  const fn = "evalNumericalGradient";
  checkFunction(fn, "f", f);
  checkTensor(fn, "x", x);
  const h = stepOf(fn, options);
  const base = x.toArray();
  const grad = x.dtype === "float64" ? new Float64Array(x.size) : new Float32Array(x.size); // x's precision
  const probe = base.slice();
  const call = (): number => {
    const v: unknown = f();
    if (typeof v !== "number") throw new TypeError(`${fn}: f() must return a number (got ${describe(v)})`);
    return v;
  };
  try {
    for (let i = 0; i < x.size; i++) {
      probe[i] = base[i] + h;
      x.set(probe);
      const plus = call();
      probe[i] = base[i] - h;
      x.set(probe);
      const minus = call();
      probe[i] = base[i];
      grad[i] = (plus - minus) / (2 * h);
    }
  } finally {
    x.set(base); // x is as it was, also when f throws
  }
  return grad;
}

/**
 * Gradient of sum(f() * dout) with respect to x, for a tensor-valued f (its results are disposed).
 * As the course computes it: grad[i] = sum((f(x + h e_i) - f(x - h e_i)) * dout) / 2h, the
 * outputs differenced elementwise BEFORE the dot product, so outputs that x_i does not touch
 * cancel exactly instead of adding the rounding of the whole sum to every element.
 */
export function evalNumericalGradientArray(f: () => Tensor, x: Tensor, dout: Tensor, options: GradCheckOptions = {}): Float32Array | Float64Array {
  const fn = "evalNumericalGradientArray";
  checkFunction(fn, "f", f);
  checkTensor(fn, "x", x);
  checkTensor(fn, "dout", dout);
  const h = stepOf(fn, options);
  const d = dout.toArray();
  const values = (): Float32Array | Float64Array => {
    const out: unknown = f();
    if (!(out instanceof Tensor)) throw new TypeError(`${fn}: f() must return a Tensor (got ${describe(out)})`);
    const v = checkTensor(fn, "f()'s result", out).toArray();
    out.dispose();
    if (v.length !== d.length) throw new RangeError(`${fn}: f() returned ${v.length} values but dout has ${d.length}`);
    return v;
  };
  const base = x.toArray();
  const probe = base.slice();
  const grad = x.dtype === "float64" ? new Float64Array(x.size) : new Float32Array(x.size);
  try {
    for (let i = 0; i < x.size; i++) {
      probe[i] = base[i] + h;
      x.set(probe);
      const plus = values();
      probe[i] = base[i] - h;
      x.set(probe);
      const minus = values();
      probe[i] = base[i];
      let s = 0;
      for (let j = 0; j < d.length; j++) s += (plus[j] - minus[j]) * d[j];
      grad[i] = s / (2 * h);
    }
  } finally {
    x.set(base); // x is as it was, also when f throws
  }
  return grad;
}

/** max |a - b| / max(1e-8, |a| + |b|), elementwise: the course's rel_error. */
export function relError(a: Tensor | ArrayLike<number>, b: Tensor | ArrayLike<number>): number {
  const x = valuesOf("relError", "a", a);
  const y = valuesOf("relError", "b", b);
  if (x.length !== y.length) throw new RangeError(`relError: sizes differ (${x.length} vs ${y.length})`);
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const e = Math.abs(x[i] - y[i]) / Math.max(1e-8, Math.abs(x[i]) + Math.abs(y[i]));
    if (e > worst) worst = e;
  }
  return worst;
}

/**
 * max |a - b| / max(max |a|, max |b|): the error relative to the gradient's scale. Unlike the
 * elementwise relError it does not blow up on gradients that are exactly zero (dead ReLUs) while
 * float32 differencing returns rounding noise there; a wrong gradient still scores near 1.
 */
export function scaledError(a: Tensor | ArrayLike<number>, b: Tensor | ArrayLike<number>): number {
  const x = valuesOf("scaledError", "a", a);
  const y = valuesOf("scaledError", "b", b);
  if (x.length !== y.length) throw new RangeError(`scaledError: sizes differ (${x.length} vs ${y.length})`);
  let diff = 0;
  let scale = 1e-8;
  for (let i = 0; i < x.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(x[i]), Math.abs(y[i]));
  }
  return diff / scale;
}

/**
 * A model as the checker and the Solver see it.
 *
 * @inline
 */
export interface GradCheckable {
  params: Record<string, Tensor>;
  loss(X: Tensor, y: Labels): [number, Record<string, Tensor>];
  /** Random-stream position (dropout masks); restored before every evaluation so masks repeat. */
  rngState?: number;
}

/**
 * Compares a model's analytic gradients with numeric ones for every parameter (or `names`).
 * Returns scaledError(numeric, analytic) per parameter name (see scaledError for why not relError).
 */
export function checkModelGradients(model: GradCheckable, X: Tensor, y: Labels, options: GradCheckOptions & { names?: string[] } = {}): Record<string, number> {
  const fn = "checkModelGradients";
  if (model === null || typeof model !== "object" || typeof model.loss !== "function" || model.params === null || typeof model.params !== "object") {
    throw new TypeError(`${fn}: model must have params and loss(X, y) (got ${describe(model)})`);
  }
  stepOf(fn, options, ["h", "names"]);
  const names = options.names ?? Object.keys(model.params);
  if (!Array.isArray(names)) throw new TypeError(`${fn}: options.names must be an array of parameter names (got ${describe(names)})`);
  for (const name of names) {
    if (!(model.params[name] instanceof Tensor)) {
      throw new RangeError(`${fn}: options.names has ${describe(name)}, which is not a parameter (known: ${Object.keys(model.params).join(", ")})`);
    }
  }
  if (y === undefined) throw new TypeError(`${fn}: y (the labels) is required: the check needs loss(X, y)`);
  const lossOf = (): [number, Record<string, Tensor>] => {
    const r: unknown = model.loss(X, y);
    if (!Array.isArray(r) || typeof r[0] !== "number" || r[1] === null || typeof r[1] !== "object") {
      throw new TypeError(`${fn}: model.loss(X, y) must return [loss, grads] (got ${describe(r)})`);
    }
    return r as [number, Record<string, Tensor>];
  };
  const state = model.rngState;
  const evaluate = (): number => {
    if (state !== undefined) model.rngState = state;
    return lossOf()[0];
  };
  if (state !== undefined) model.rngState = state;
  const [, grads] = lossOf();
  const analytic: Record<string, Float32Array | Float64Array> = {};
  for (const [name, g] of Object.entries(grads)) analytic[name] = g.toArray();
  const errors: Record<string, number> = {};
  for (const name of names) {
    if (!analytic[name]) throw new RangeError(`${fn}: model.loss returned no gradient for ${describe(name)}`);
    const numeric = evalNumericalGradient(evaluate, model.params[name], { h: options.h });
    errors[name] = scaledError(numeric, analytic[name]);
  }
  if (state !== undefined) model.rngState = state;
  return errors;
}
