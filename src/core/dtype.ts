// Element types. Below the runtime and the tensors: the runtime picks the kernel module by dtype,
// tensors carry one, and every op reads it from its tensors or takes it explicitly.
import { describe } from "./validate.js";

/** The element types: float32 (the default, what training uses) and float64 (the course's gradient-check mode, on request). */
export type DType = "float32" | "float64";

export const DTYPES: readonly DType[] = ["float32", "float64"];

/** Bytes per element of a dtype. */
export function bytesPerElement(dtype: DType): 4 | 8 {
  return dtype === "float64" ? 8 : 4;
}

/** Checks a dtype option: "float32" (the public default when undefined) or "float64". */
export function checkDtype(fn: string, name: string, value: unknown): DType {
  if (value === undefined) return "float32";
  if (typeof value !== "string" || !DTYPES.includes(value as DType)) {
    throw new TypeError(`${fn}: ${name} must be "float32" or "float64" (got ${describe(value)})`);
  }
  return value as DType;
}
