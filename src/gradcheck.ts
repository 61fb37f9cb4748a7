// Numeric gradient checking, as the course notebooks do it: central differences on one element at
// a time, compared with the analytic gradient by relative error. Kernels run in float32, so use
// h around 1e-3..1e-2 on well-scaled inputs and expect relative errors near 1e-3 rather than 1e-8.
import { checkTensor, type Tensor } from "./tensor.js";
import { checkNumber, describe } from "./validate.js";
import type { Labels } from "./labels.js";

export interface GradCheckOptions {
  /** Step for central differences. Default 1e-3. */
  h?: number;
}

function stepOf(fn: string, options: GradCheckOptions): number {
  return options.h === undefined ? 1e-3 : checkNumber(fn, "options.h", options.h, { min: 0, minExclusive: true });
}

/** Gradient of a scalar function f() with respect to x (f reads x; x is edited in place and restored). */
export function evalNumericalGradient(f: () => number, x: Tensor, options: GradCheckOptions = {}): Float32Array {
  const fn = "evalNumericalGradient";
  checkTensor(fn, "x", x);
  const h = stepOf(fn, options);
  const base = x.toArray();
  const grad = new Float32Array(x.size);
  const probe = base.slice();
  for (let i = 0; i < x.size; i++) {
    probe[i] = base[i] + h;
    x.set(probe);
    const plus = f();
    probe[i] = base[i] - h;
    x.set(probe);
    const minus = f();
    probe[i] = base[i];
    grad[i] = (plus - minus) / (2 * h);
  }
  x.set(base);
  return grad;
}

/** Gradient of sum(f() * dout) with respect to x, for a tensor-valued f (its results are disposed). */
export function evalNumericalGradientArray(f: () => Tensor, x: Tensor, dout: Tensor, options: GradCheckOptions = {}): Float32Array {
  const fn = "evalNumericalGradientArray";
  checkTensor(fn, "dout", dout);
  const d = dout.toArray();
  const dot = (): number => {
    const out = f();
    const v = out.toArray();
    out.dispose();
    if (v.length !== d.length) throw new RangeError(`${fn}: f() returned ${v.length} values but dout has ${d.length}`);
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i] * d[i];
    return s;
  };
  return evalNumericalGradient(dot, x, options);
}

/** max |a - b| / max(1e-8, |a| + |b|), elementwise: the course's rel_error. */
export function relError(a: Tensor | ArrayLike<number>, b: Tensor | ArrayLike<number>): number {
  const x = "toArray" in (a as object) ? (a as Tensor).toArray() : (a as ArrayLike<number>);
  const y = "toArray" in (b as object) ? (b as Tensor).toArray() : (b as ArrayLike<number>);
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
  const x = "toArray" in (a as object) ? (a as Tensor).toArray() : (a as ArrayLike<number>);
  const y = "toArray" in (b as object) ? (b as Tensor).toArray() : (b as ArrayLike<number>);
  if (x.length !== y.length) throw new RangeError(`scaledError: sizes differ (${x.length} vs ${y.length})`);
  let diff = 0;
  let scale = 1e-8;
  for (let i = 0; i < x.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(x[i]), Math.abs(y[i]));
  }
  return diff / scale;
}

/** A model as the checker and the Solver see it. */
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
export function checkModelGradients(
  model: GradCheckable,
  X: Tensor,
  y: Labels,
  options: GradCheckOptions & { names?: string[] } = {},
): Record<string, number> {
  const fn = "checkModelGradients";
  if (model === null || typeof model !== "object" || typeof model.loss !== "function") {
    throw new TypeError(`${fn}: model must have params and loss(X, y) (got ${describe(model)})`);
  }
  const state = model.rngState;
  const evaluate = (): number => {
    if (state !== undefined) model.rngState = state;
    return model.loss(X, y)[0];
  };
  if (state !== undefined) model.rngState = state;
  const [, grads] = model.loss(X, y);
  const analytic: Record<string, Float32Array> = {};
  for (const [name, g] of Object.entries(grads)) analytic[name] = g.toArray();
  const errors: Record<string, number> = {};
  for (const name of options.names ?? Object.keys(model.params)) {
    const numeric = evalNumericalGradient(evaluate, model.params[name], options);
    errors[name] = scaledError(numeric, analytic[name]);
  }
  if (state !== undefined) model.rngState = state;
  return errors;
}
