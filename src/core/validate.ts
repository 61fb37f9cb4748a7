// Argument checks at the public boundary. Every message names the function, the argument, what
// was expected and what was given, so a user never meets a wasm trap or silent garbage.
// Tensor-specific checks (checkTensor, checkShape) live in tensor.ts; this file knows no Tensor.

/** Brand that lets describe() recognise a tensor without importing the Tensor class. */
export const TENSOR_BRAND = Symbol.for("tensorlane.Tensor");

interface Branded {
  [TENSOR_BRAND]: true;
  shape: readonly number[];
  isDisposed: boolean;
  dtype: string;
}

/** Short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value !== null && typeof value === "object" && TENSOR_BRAND in value) {
    const t = value as Branded;
    // float32 is the default and goes unsaid; a float64 tensor says so.
    return t.isDisposed ? "a disposed tensor" : `a ${t.dtype === "float64" ? "float64 " : ""}tensor of shape [${t.shape.join(", ")}]`;
  }
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (typeof value === "function") return "a function";
  return typeof value === "object" ? "an object" : typeof value;
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** A list of values as given by the caller, safely (no JSON.stringify: a BigInt or a Symbol must not break the message). */
export function listString(values: readonly unknown[]): string {
  return `[${values.map((v) => (typeof v === "number" ? String(v) : describe(v))).join(", ")}]`;
}

/** Range options for checkNumber. */
export interface NumberRange {
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
  /**
   * The value reaches a kernel as float32: the rounded value must be finite and in range too
   * (a learning rate of 1e39 becomes Infinity, an epsilon of 1e-50 becomes 0, p = 1 - 1e-9 becomes 1).
   */
  float32?: boolean;
}

/** A finite number within [min, max] (max exclusive when `maxExclusive`). */
export function checkNumber(
  fn: string,
  name: string,
  value: unknown,
  { min = -Infinity, max = Infinity, minExclusive = false, maxExclusive = false, float32 = false }: NumberRange = {},
): number {
  if (typeof value !== "number" || Number.isNaN(value)) throw new TypeError(`${fn}: ${name} must be a number (got ${describe(value)})`);
  if (!Number.isFinite(value)) throw new RangeError(`${fn}: ${name} must be finite (got ${value})`);
  const v = float32 ? Math.fround(value) : value;
  const rounded = v === value ? "" : `, which is ${v} in float32`;
  if (!Number.isFinite(v)) throw new RangeError(`${fn}: ${name} must be finite in float32, within ±3.4e38 (got ${value}${rounded})`);
  const low = minExclusive ? v <= min : v < min;
  const high = maxExclusive ? v >= max : v > max;
  if (low || high) {
    const lo = min === -Infinity ? "" : `${minExclusive ? "(" : "["}${min}`;
    const hi = max === Infinity ? "" : `${max}${maxExclusive ? ")" : "]"}`;
    const range = lo && hi ? `in ${lo}, ${hi}` : lo ? `${minExclusive ? ">" : ">="} ${min}` : `${maxExclusive ? "<" : "<="} ${max}`;
    throw new RangeError(`${fn}: ${name} must be ${range} (got ${value}${rounded})`);
  }
  return value;
}

/** An integer within [min, max]. */
export function checkInteger(fn: string, name: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${fn}: ${name} must be an integer (got ${describe(value)})`);
  }
  if (value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : min === -Infinity ? `<= ${max}` : `in [${min}, ${max}]`;
    throw new RangeError(`${fn}: ${name} must be ${range} (got ${value})`);
  }
  return value;
}

/** A seed: an integer in [0, 2^32). */
export function checkSeed(fn: string, name: string, value: unknown): number {
  return checkInteger(fn, name, value, 0, 2 ** 32 - 1);
}

/** One of the allowed string values. */
export function checkEnum<T extends string>(fn: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    throw new TypeError(`${fn}: ${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")} (got ${describe(value)})`);
  }
  return value as T;
}

/** Rejects option names the function does not know (a typo would otherwise be silently ignored). */
export function checkOptions(fn: string, name: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options) || ArrayBuffer.isView(options) || TENSOR_BRAND in options) {
    throw new TypeError(`${fn}: ${name} must be an object (got ${describe(options)})`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(`${fn}: unknown option "${key}" in ${name} (known: ${known.join(", ")})`);
    }
  }
  return options as Record<string, unknown>;
}
