// The running worker pool (kept in the runtime state), in a module of its own so that runtime.ts
// (which starts it) and dispatch.ts (which uses it) do not import each other.
import { runtime } from "../runtime-state.js";
import type { Pool } from "./pool.js";

/** Prefix of the float64 module's kernel names in the pool's list (the core's have none). */
export const F64_PREFIX = "f64:";

/** Installs the pool (null: none) and the kernel names its workers index. */
export function setPool(next: Pool | null, kernelNames: readonly string[] = []): void {
  runtime.pool = next;
  runtime.poolKernels = new Map(kernelNames.map((name, i) => [name, i]));
}

/** The pool, or null. */
export function currentPool(): Pool | null {
  return runtime.pool;
}

/** The index a kernel has in the workers' list, or undefined. */
export function kernelIndexOf(name: string): number | undefined {
  return runtime.poolKernels.get(name);
}
