// Named buffers the ops share between their tasks (e.g. the conv backward's per-chunk partial
// sums): blocks of the runtime's shared scratch, grown by the calling (main) thread only, then
// reused, so training steps stay allocation-free after warm-up. Per-thread scratch is
// threadScratch's (src/core/threads/dispatch.ts), in the same blocks.
import { sharedBlocks } from "../core/blocks.js";

/** A buffer of at least `bytes` bytes (16-byte aligned) for `name`; valid until the next call with that name. */
export function sharedScratch(name: string, bytes: number): number {
  return sharedBlocks().block(name, bytes, { what: name });
}
