import { ROOT } from "rt/tlsf";

// Host-owned allocation. Every buffer the host uses comes from here; kernels only see pointers.
// TLSF (runtime "minimal") reuses freed blocks and returns 16-byte aligned payloads.
// The allocator traps (unreachable) when memory cannot grow; it has changed no state by then,
// so the host turns that trap into a RangeError and carries on.

/**
 * Allocates `size` bytes, 16-byte aligned. Precondition: size <= 2^30 - 2^25 (992 MiB; the host's
 * MAX_ALLOCATION_BYTES).
 */
export function alloc(size: usize): usize {
  return heap.alloc(size >= LARGE ? largeRequest(size) : size);
}

// Why large requests are rounded here. TLSF searches the free lists by size class; to be sure any
// block of the class it picks is big enough it first rounds the request up to the next class, except
// for requests of half its block limit or more (BLOCK_MAXSIZE >> 1, about 512 MiB): those it looks
// up in the class that CONTAINS them, whose blocks can be smaller than the request. Built without
// asserts, it then splits that block past its end and overwrites its neighbour: the heap is corrupt
// (it later hands out overlapping blocks). We round such requests up to the start r of a size class
// instead. TLSF payloads are 12 mod 16 (computeSize), so a request of r gets the payload r + 12,
// which lies in the class starting at r, and every block of that class is at least r + 12.
const LARGE: usize = (((1 << 30) - 4) >> 1) - 32; // a little below TLSF's no-rounding threshold

/** The smallest size-class start r whose payload (r + 12) holds `size` bytes. */
function largeRequest(size: usize): usize {
  const payload = ((size + 4 + 15) & ~15) - 4; // TLSF's computeSize (BLOCK_OVERHEAD 4, 16-byte alignment)
  const width: usize = (<usize>1) << (31 - clz<usize>(payload) - 4); // 16 classes per power of two
  return ((payload - 12 + width - 1) / width) * width;
}

/** Frees a block returned by `alloc`. */
export function free(ptr: usize): void {
  heap.free(ptr);
}

/** Copies `n` bytes from `src` to `dst` (regions may overlap). */
export function copy_bytes(dst: usize, src: usize, n: usize): void {
  memory.copy(dst, src, n);
}

/**
 * Copies `rows` rows of `rowBytes` bytes in each of `planes` planes: row r of plane p goes from
 * src + p·srcPlane + r·srcRow to dst + p·dstPlane + r·dstRow. A plane into a larger frame (padding)
 * or a window out of one (cropping). Source and destination do not overlap.
 */
export function copy_planes(
  dst: usize, dstPlane: usize, dstRow: usize, src: usize, srcPlane: usize, srcRow: usize, planes: usize, rows: usize, rowBytes: usize,
): void {
  for (let p: usize = 0; p < planes; p++) {
    let d = dst + p * dstPlane, s = src + p * srcPlane;
    for (let r: usize = 0; r < rows; r++, d += dstRow, s += srcRow) memory.copy(d, s, rowBytes);
  }
}

// The allocator's root (a global of the instance, placed at a fixed address on the first
// allocation). The host moves a single-thread heap into a shared memory when threads are turned on
// later: it makes the new instance initialize its allocator, then copies the old bytes over it, and
// checks with this that both roots are the same address (tensors keep their pointers).
/** The allocator's root pointer (0 before the first allocation). */
export function heap_root(): usize {
  return changetype<usize>(ROOT);
}
