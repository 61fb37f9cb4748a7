// Named, grow-only buffers the ops share between their tasks (e.g. the conv backward's per-chunk
// partial sums). Grown by the calling (main) thread only, then reused, so training steps stay
// allocation-free after warm-up. Per-thread scratch is threadScratch's (src/threads/dispatch.ts).
import { allocBytes, freeBytes } from "../runtime.js";

const buffers = new Map<string, { ptr: number; bytes: number }>();

/** A buffer of at least `bytes` bytes (16-byte aligned) for `name`; valid until the next call with that name. */
export function sharedScratch(name: string, bytes: number): number {
  const held = buffers.get(name);
  if (held && bytes <= held.bytes) return held.ptr;
  if (held) {
    freeBytes(held.ptr);
    buffers.delete(name);
  }
  const ptr = allocBytes(bytes, name);
  buffers.set(name, { ptr, bytes });
  return ptr;
}

/**
 * Forgets every buffer without freeing it: for when the kernel module (and its memory) is
 * replaced, e.g. a re-init onto a shared memory, where the old pointers mean nothing.
 */
export function forgetSharedScratch(): void {
  buffers.clear();
}
