// The error every file reader throws for bytes that are not what they claim to be (wrong magic
// number, truncated, inconsistent header, hostile sizes). It is a RangeError, as for any bad value,
// with its own name so callers (the CLI) can tell "this file is broken" from a programming error.
import { describe } from "../core/validate.js";

/**
 * A file (checkpoint, safetensors, ONNX, IDX, CIFAR) is malformed, truncated or does not match
 * the model: the message names the file and what is wrong. A RangeError, so `instanceof
 * RangeError` still catches it.
 */
export class FileFormatError extends RangeError {
  /** "FileFormatError", so messages and logs tell it from other RangeErrors. */
  override name = "FileFormatError";
}

/** Throws a FileFormatError "fn: what: message". */
export function formatError(fn: string, what: string | undefined, message: string): never {
  throw new FileFormatError(`${fn}: ${whatPrefix(what)}${message}`);
}

/** "what: " for a file label, or "" without one. Whatever the caller passed, building the message cannot throw. */
export function whatPrefix(what: unknown): string {
  if (what === undefined || what === null || what === "") return "";
  return `${typeof what === "string" ? what : describe(what)}: `;
}
