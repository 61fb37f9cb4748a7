// Shared option checks for the model constructors.
import { checkInteger, describe } from "../core/validate.js";

/** A positive integer list, e.g. hiddenDims or numFilters. */
export function checkDims(fn: string, name: string, value: unknown, allowEmpty = true): number[] {
  if (!Array.isArray(value)) throw new TypeError(`${fn}: ${name} must be an array of positive integers (got ${describe(value)})`);
  if (!allowEmpty && value.length === 0) throw new RangeError(`${fn}: ${name} must not be empty`);
  return value.map((d, i) => checkInteger(fn, `${name}[${i}]`, d, 1));
}

/**
 * "batchnorm": batch normalization after each hidden layer (FullyConnectedNet) or conv layer (DeepConvNet); null: none.
 *
 * @inline
 */
export type Normalization = "batchnorm" | null;

/**
 * The normalization option both models share: `normalization: "batchnorm" | null` (canonical),
 * or the alias `batchnorm: boolean` (DeepConvNet's name in the spec, and what checkpoints written
 * before 0.2 store for it). Giving both is fine when they agree.
 */
export function checkNormalizationOption(fn: string, o: Record<string, unknown>): Normalization {
  const normalization = o.normalization == null ? null : (checkEnumValue(fn, "normalization", o.normalization, ["batchnorm"]) as "batchnorm");
  if (o.batchnorm === undefined) return normalization;
  if (typeof o.batchnorm !== "boolean") throw new TypeError(`${fn}: batchnorm must be a boolean (got ${describe(o.batchnorm)})`);
  const alias: Normalization = o.batchnorm ? "batchnorm" : null;
  if (o.normalization !== undefined && alias !== normalization) {
    throw new TypeError(`${fn}: normalization ${describe(o.normalization)} and batchnorm ${o.batchnorm} disagree: give normalization only`);
  }
  return alias;
}

function checkEnumValue(fn: string, name: string, value: unknown, allowed: string[]): string {
  if (typeof value !== "string" || !allowed.includes(value)) {
    throw new TypeError(`${fn}: ${name} must be ${allowed.map((a) => JSON.stringify(a)).join(" or ")} or null (got ${describe(value)})`);
  }
  return value;
}
