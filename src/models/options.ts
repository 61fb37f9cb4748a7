// Shared option checks for the model constructors.
import { checkInteger, describe } from "../validate.js";

/** A positive integer list, e.g. hiddenDims or numFilters. */
export function checkDims(fn: string, name: string, value: unknown, allowEmpty = true): number[] {
  if (!Array.isArray(value)) throw new TypeError(`${fn}: ${name} must be an array of positive integers (got ${describe(value)})`);
  if (!allowEmpty && value.length === 0) throw new RangeError(`${fn}: ${name} must not be empty`);
  return value.map((d, i) => checkInteger(fn, `${name}[${i}]`, d, 1));
}
