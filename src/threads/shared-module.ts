// Derives the shared-memory variant of the kernel module from the same bytes, at init.
//
// asc builds one module that defines its own memory (section 5). Threads need every instance to
// run over ONE shared memory, so the module must import it instead. Shipping a second asc build
// would put another ~29 KB of wasm (~12 KB gzip) in the bundle; rewriting the binary costs a few
// hundred bytes of JS: drop the memory section and append `(import "env" "memory" (memory
// min max shared))` to the import section. Indices do not change (the module has exactly one
// memory, and imported memories come first), so the code, data and exports stay byte for byte.

/** Wasm page: 64 KiB. */
export const WASM_PAGE_BYTES = 65536;

/** Section ids used here (wasm core spec 5.5.2). */
const SECTION_TYPE = 1;
const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;

/** The memory limits a module declares. */
export interface MemoryLimits {
  initial: number;
  maximum: number | undefined;
}

/**
 * The module's bytes with its memory turned into an import `env.memory` of a shared memory with
 * the module's initial size and `maximumPages`. Throws if the bytes are not a module with exactly
 * one defined and no imported memory.
 */
export function sharedMemoryVariant(bytes: Uint8Array, maximumPages: number): { bytes: Uint8Array<ArrayBuffer>; limits: MemoryLimits } {
  const sections = readSections(bytes);
  const memory = sections.find((s) => s.id === SECTION_MEMORY);
  if (!memory) throw new Error("threads: the kernel module defines no memory");
  const mem = new Reader(bytes, memory.start);
  if (mem.u32() !== 1) throw new Error("threads: the kernel module must define exactly one memory");
  const flags = mem.u32();
  const initial = mem.u32();
  const maximum = flags & 1 ? mem.u32() : undefined;
  if (initial > maximumPages) throw new Error(`threads: the module needs ${initial} pages, above the maximum ${maximumPages}`);

  const importEntry = [...name("env"), ...name("memory"), 2 /* memory */, 3 /* has max, shared */, ...leb(initial), ...leb(maximumPages)];
  const out: number[] = [...bytes.subarray(0, 8)];
  const imports = sections.find((s) => s.id === SECTION_IMPORT);
  const emitImports = (): void => {
    let body: number[];
    if (imports) {
      const r = new Reader(bytes, imports.start);
      const count = r.u32();
      body = [...leb(count + 1), ...bytes.subarray(r.pos, imports.end), ...importEntry];
    } else {
      body = [...leb(1), ...importEntry];
    }
    out.push(SECTION_IMPORT, ...leb(body.length), ...body);
  };
  let emitted = false;
  for (const s of sections) {
    if (s.id === SECTION_MEMORY) continue;
    if (s.id === SECTION_IMPORT) {
      emitImports();
      emitted = true;
      continue;
    }
    // No import section: it goes right after the type section (or first).
    if (!emitted && s.id !== 0 && s.id > SECTION_TYPE) {
      emitImports();
      emitted = true;
    }
    out.push(...bytes.subarray(s.headerStart, s.end));
  }
  if (!emitted) emitImports();
  return { bytes: Uint8Array.from(out), limits: { initial, maximum } };
}

interface Section {
  id: number;
  headerStart: number;
  start: number;
  end: number;
}

function readSections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error("threads: not a WebAssembly module");
  }
  const sections: Section[] = [];
  const r = new Reader(bytes, 8);
  while (r.pos < bytes.length) {
    const headerStart = r.pos;
    const id = bytes[r.pos++];
    const size = r.u32();
    sections.push({ id, headerStart, start: r.pos, end: r.pos + size });
    r.pos += size;
  }
  if (r.pos !== bytes.length) throw new Error("threads: truncated WebAssembly module");
  return sections;
}

class Reader {
  constructor(
    private readonly bytes: Uint8Array,
    public pos: number,
  ) {}
  /** Unsigned LEB128. */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.bytes[this.pos++];
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
    }
  }
}

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}

function name(text: string): number[] {
  const codes = [...text].map((c) => c.charCodeAt(0));
  return [...leb(codes.length), ...codes];
}
