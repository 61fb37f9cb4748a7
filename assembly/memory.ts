// Host-owned allocation. Every buffer the host uses comes from here; kernels only see pointers.
// TLSF (runtime "minimal") reuses freed blocks and returns 16-byte aligned payloads.
// The allocator traps (unreachable) when memory cannot grow; it has changed no state by then,
// so the host turns that trap into a RangeError and carries on.

/** Allocates `size` bytes, 16-byte aligned. Precondition: size < 2^30. */
export function alloc(size: usize): usize {
  return heap.alloc(size);
}

/** Frees a block returned by `alloc`. */
export function free(ptr: usize): void {
  heap.free(ptr);
}

/** Copies `n` bytes from `src` to `dst` (regions may overlap). */
export function copy_bytes(dst: usize, src: usize, n: usize): void {
  memory.copy(dst, src, n);
}
