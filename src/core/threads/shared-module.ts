// Derives the shared-memory variant of the kernel module from the same bytes, at init.
//
// asc builds one module that defines its own memory (section 5). Threads need every instance to
// run over ONE shared memory, so the module must import it instead. Shipping a second asc build
// would put another ~29 KB of wasm (~12 KB gzip) in the bundle; rewriting the binary costs a few
// hundred bytes of JS: drop the memory section and append `(import "env" "memory" (memory
// min max shared))` to the import section. Indices do not change (the module has exactly one
// memory, and imported memories come first), so the code, data and exports stay byte for byte.
// The float64 module already imports the core's memory: its import entry is made shared the same way.

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
 * the module's initial size and `maximumPages`. The module either defines exactly one memory (the
 * core module) or imports `env.memory` (the float64 module, which runs over the core's memory);
 * other imports stay as they are, in order. Throws for any other module.
 */
export function sharedMemoryVariant(bytes: Uint8Array, maximumPages = 65536): { bytes: Uint8Array<ArrayBuffer>; limits: MemoryLimits } {
  const sections = readSections(bytes);
  const memory = sections.find((s) => s.id === SECTION_MEMORY);
  const imports = sections.find((s) => s.id === SECTION_IMPORT);
  const kept: number[] = []; // the import entries other than a memory, byte for byte
  let keptCount = 0;
  let limits: MemoryLimits | null = null;
  if (imports) {
    const r = new Reader(bytes, imports.start);
    for (let count = r.u32(); count > 0; count--) {
      const entryStart = r.pos;
      const moduleName = r.text();
      const fieldName = r.text();
      const kind = bytes[r.pos++];
      if (kind === 2) {
        if (moduleName !== "env" || fieldName !== "memory")
          throw new Error(`threads: the kernel module imports an unexpected memory ${moduleName}.${fieldName}`);
        limits = r.limits();
        continue;
      }
      if (kind === 0)
        r.u32(); // function: type index
      else if (kind === 1) {
        r.pos++;
        r.limits();
      } // table: element type, limits
      else if (kind === 3)
        r.pos += 2; // global: value type, mutability
      else throw new Error(`threads: the kernel module has an import of unknown kind ${kind}`);
      kept.push(...bytes.subarray(entryStart, r.pos));
      keptCount++;
    }
  }
  if (memory) {
    if (limits) throw new Error("threads: the kernel module both defines and imports a memory");
    const mem = new Reader(bytes, memory.start);
    if (mem.u32() !== 1) throw new Error("threads: the kernel module must define exactly one memory");
    limits = mem.limits();
  }
  if (!limits) throw new Error("threads: the kernel module has no memory");
  const { initial } = limits;
  if (initial > maximumPages) throw new Error(`threads: the module needs ${initial} pages, above the maximum ${maximumPages}`);

  const importEntry = [...name("env"), ...name("memory"), 2 /* memory */, 3 /* has max, shared */, ...leb(initial), ...leb(maximumPages)];
  const body = [...leb(keptCount + 1), ...kept, ...importEntry];
  const importSection = [SECTION_IMPORT, ...leb(body.length), ...body];
  const out: number[] = [...bytes.subarray(0, 8)];
  let emitted = false;
  for (const s of sections) {
    if (s.id === SECTION_MEMORY) continue;
    // The import section, or where it belongs: right after the type section (ids are ordered).
    if (!emitted && (s.id === SECTION_IMPORT || (s.id !== 0 && s.id > SECTION_TYPE))) {
      out.push(...importSection);
      emitted = true;
      if (s.id === SECTION_IMPORT) continue;
    }
    out.push(...bytes.subarray(s.headerStart, s.end));
  }
  if (!emitted) out.push(...importSection);
  return { bytes: Uint8Array.from(out), limits };
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
  /** A name: a byte length, then UTF-8 (ASCII here). */
  text(): string {
    const n = this.u32();
    const text = String.fromCharCode(...this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return text;
  }
  /** Memory or table limits: flags, initial, and a maximum when flags & 1. */
  limits(): MemoryLimits {
    const flags = this.u32();
    const initial = this.u32();
    return { initial, maximum: flags & 1 ? this.u32() : undefined };
  }
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
