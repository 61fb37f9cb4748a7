// A Tensor is a pointer into wasm memory plus a shape and a dtype. It never stores a typed-array
// view: every read or write goes through runtime.f32() / runtime.f64(), re-derived after memory growth.
import { bytesPerElement, checkDtype, type DType } from "./dtype.js";
import { allocBytes, f32, f64, freeBytes, kernels, MAX_ALLOCATION_BYTES, realKernels, requireDtype } from "./runtime.js";
import { runtime } from "./runtime-state.js";
import { checkInteger, checkNumber, checkOptions, checkSeed, describe, listString, shapeString, TENSOR_BRAND } from "./validate.js";
import { drawSeed } from "./random.js";

/** A tensor's dimensions, row-major: [N, C, H, W] for a batch of images; [] for a scalar. */
export type Shape = readonly number[];
/** A number, or nested arrays of numbers whose nesting follows a shape ([[1, 2], [3, 4]] is (2, 2)). */
export type NestedArray = number | readonly NestedArray[];
/** Values tl.tensor accepts: nested arrays (the shape is inferred) or flat numbers / typed arrays (the shape is given). */
export type TensorData = NestedArray | readonly number[] | Float32Array | Float64Array | ArrayLike<number>;

export { bytesPerElement, checkDtype, type DType } from "./dtype.js";

/** Options of the tensor factories. */
export interface DTypeOptions {
  /** Element type. Default "float32". */
  dtype?: DType;
}

/** Largest number of float32 values one tensor can hold (half as many float64 values). */
export const MAX_TENSOR_SIZE = Math.floor(MAX_ALLOCATION_BYTES / 4);

/**
 * Something derived from a tensor's values and kept beside it (packed weights): released when the
 * tensor, or the tensor whose memory it views, is disposed.
 */
export interface Attachment {
  release(): void;
}

// Only this module adds to them, and only Tensors (runtime-state.ts holds them by a narrower type).
const live = runtime.tensors.live as Set<Tensor>;
const scopes = runtime.tensors.scopes as Tensor[][];

/**
 * An n-dimensional array of float32 (default) or float64 values in wasm memory, row-major. Made
 * by tl.tensor, tl.zeros, tl.randn, ...; freed with dispose() or by an enclosing tl.tidy. Views
 * (reshape, sliceView) share their base's memory and end with it. Using a disposed tensor is a
 * TypeError naming the method.
 */
export class Tensor {
  /** The dimensions, row-major. */
  readonly shape: Shape;
  /** The number of elements (the product of the shape). */
  readonly size: number;
  /** The element type: "float32" or "float64". */
  readonly dtype: DType;
  /** Bytes per element: 4 or 8. */
  readonly itemBytes: 4 | 8;
  /** @internal Marks tensors for describe() without importing this class. */
  readonly [TENSOR_BRAND] = true as const;
  #ptr: number;
  #base: Tensor | null;
  #disposed = false;
  /** Writes to the memory this tensor owns (kept on the owner: see `version`). */
  #writes = 0;
  #attachment: Attachment | null = null;
  /** On the owner: the views that hold an attachment, released when the owner is disposed. */
  #attachedViews: Set<Tensor> | null = null;

  /** @internal Use tl.tensor / tl.zeros / ... to make tensors. A view takes its base's dtype. */
  constructor(ptr: number, shape: Shape, base: Tensor | null = null, dtype: DType = "float32") {
    this.#ptr = ptr;
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.#base = base;
    this.dtype = base === null ? dtype : base.dtype;
    this.itemBytes = bytesPerElement(this.dtype);
    live.add(this);
    if (base === null) runtime.tensors.bytes += this.size * this.itemBytes;
    if (scopes.length > 0) scopes[scopes.length - 1].push(this);
  }

  /** True once this tensor (or the tensor whose memory it views) was disposed. */
  get isDisposed(): boolean {
    return this.#disposed || this.#base?.isDisposed === true;
  }

  /** @internal The tensor that owns the memory: this one, or the base of a view. */
  get storage(): Tensor {
    return this.#base ?? this;
  }

  /**
   * A number that changes whenever the library writes this tensor's memory: set(), the update
   * rules, the Solver's updates, loads of parameters and checkpoints, fills, and every call of
   * view() (the caller may write through it). The count is kept by the tensor that owns the
   * memory, so a view's version changes when any part of its base is written, through any view.
   * Derived data (packed weights) is valid while the version it was made from is current.
   */
  get version(): number {
    return (this.#base ?? this).#writes;
  }

  /** @internal Records a write to this tensor's memory (bumps `version` for it, its base and all views). */
  markWritten(): void {
    (this.#base ?? this).#writes++;
  }

  /** @internal Data derived from this tensor's values, released with it (see Attachment). */
  get attachment(): Attachment | null {
    return this.#attachment;
  }

  /** @internal Sets the attachment (see the getter); a disposed tensor throws. */
  set attachment(value: Attachment | null) {
    this.#live("attachment");
    this.#attachment = value;
    const owner = this.#base;
    if (owner !== null) {
      owner.#attachedViews ??= new Set();
      if (value === null) owner.#attachedViews.delete(this);
      else owner.#attachedViews.add(this);
    }
  }

  /** Byte offset of the first element in wasm memory: what kernels take. */
  get ptr(): number {
    if (this.isDisposed) throw new TypeError(`tensor of shape ${shapeString(this.shape)} was disposed and cannot be used`);
    return this.#ptr;
  }

  // A method called on a disposed tensor names itself in the error.
  #live(fn: string): void {
    if (this.isDisposed) throw new TypeError(`${fn}: the tensor of shape ${shapeString(this.shape)} was disposed and cannot be used`);
  }

  /** Index of the first element in runtime.f32() (float32) or runtime.f64() (float64). */
  get offset(): number {
    return this.dtype === "float64" ? this.ptr >>> 3 : this.ptr >>> 2;
  }

  /**
   * The tensor's elements in place: a typed array over wasm memory holding exactly `size` values
   * (Float32Array, or Float64Array for float64), no copy, for reading or writing them. Valid until
   * wasm memory next grows, which any allocation may do: take a new one after creating tensors,
   * never keep one. Counts as a write (`version` changes): the caller may write through it.
   */
  view(): Float32Array | Float64Array {
    this.#live("view");
    this.markWritten();
    const start = this.offset;
    return this.#memory().subarray(start, start + this.size);
  }

  // The same view for the tensor's own reads (no version change).
  #memory(): Float32Array | Float64Array {
    return this.dtype === "float64" ? f64() : f32();
  }

  /** A copy of the values: a Float32Array, or a Float64Array for float64. Safe to keep: it does not point into wasm memory. */
  toArray(): Float32Array | Float64Array {
    this.#live("toArray");
    const start = this.offset;
    return this.#memory().slice(start, start + this.size);
  }

  /** The values as nested plain arrays, following the shape. */
  toNested(): NestedArray {
    this.#live("toNested");
    const values = Array.from(this.toArray());
    if (this.shape.length === 0) return values[0];
    const build = (dim: number, start: number): NestedArray[] => {
      const n = this.shape[dim];
      if (dim === this.shape.length - 1) return values.slice(start, start + n);
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: n }, (_, i) => build(dim + 1, start + i * stride));
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    this.#live("item");
    if (this.size !== 1) throw new RangeError(`item: tensor must have exactly one element (got shape ${shapeString(this.shape)})`);
    return this.#memory()[this.offset];
  }

  /**
   * Copies values in (a tensor, or any array of the same size: number[], Float32Array,
   * Float64Array). Values of the other precision are converted (rounded to nearest when going to
   * float32). Returns this tensor.
   */
  set(values: Tensor | ArrayLike<number>): this {
    this.#live("set");
    const start = this.offset;
    if (values instanceof Tensor) {
      checkTensor("set", "values", values);
      if (values.size !== this.size) {
        throw new RangeError(`set: values must have ${this.size} elements (got ${describe(values)})`);
      }
      this.markWritten();
      if (values.dtype === this.dtype) kernels().copy_bytes(this.ptr, values.ptr, this.size * this.itemBytes);
      else this.#memory().set(values.toArray(), this.offset);
      return this;
    }
    if (values === null || typeof values !== "object" || typeof (values as ArrayLike<number>).length !== "number") {
      throw new TypeError(`set: values must be a Tensor, an array, a Float32Array or a Float64Array (got ${describe(values)})`);
    }
    if (values.length !== this.size) {
      throw new RangeError(`set: values must have ${this.size} elements to fill shape ${shapeString(this.shape)} (got ${values.length})`);
    }
    if (!ArrayBuffer.isView(values)) checkAllNumbers("set", "values", values);
    this.markWritten();
    this.#memory().set(values as ArrayLike<number>, start);
    return this;
  }

  /** A view with another shape over the same memory (no copy). One dimension may be -1. */
  reshape(shape: Shape): Tensor {
    this.#live("reshape");
    const resolved = resolveShape("reshape", shape, this.size);
    return new Tensor(this.ptr, resolved, this.#base ?? this);
  }

  /** A view of `shape` over this tensor's memory starting at element `start` (no copy). */
  sliceView(start: number, shape: Shape): Tensor {
    this.#live("sliceView");
    checkInteger("sliceView", "start", start, 0);
    const resolved = resolveShape("sliceView", shape);
    if (start + sizeOf(resolved) > this.size) {
      throw new RangeError(`sliceView: elements [${start}, ${start + sizeOf(resolved)}) do not fit in a tensor of ${this.size} elements`);
    }
    return new Tensor(this.ptr + start * this.itemBytes, resolved, this.#base ?? this);
  }

  /** A new tensor holding a copy of the values. */
  clone(): Tensor {
    this.#live("clone");
    const out = empty(this.shape, "clone", this.dtype);
    kernels().copy_bytes(out.ptr, this.ptr, this.size * this.itemBytes);
    return out;
  }

  /** Frees the memory now. Idempotent. A view only marks itself disposed. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    live.delete(this);
    this.#release();
    if (this.#base === null) {
      // Views that hold derived data lose it with the memory it was derived from.
      for (const view of this.#attachedViews ?? []) view.#release();
      this.#attachedViews = null;
      runtime.tensors.bytes -= this.size * this.itemBytes;
      freeBytes(this.#ptr);
    } else this.#base.#attachedViews?.delete(this);
  }

  #release(): void {
    const attachment = this.#attachment;
    this.#attachment = null;
    attachment?.release();
  }

  /** "Tensor(shape (2, 3), [[...]])" with every value, "float64" when it is; a disposed tensor says so. */
  toString(): string {
    if (this.isDisposed) return `Tensor(disposed, shape ${shapeString(this.shape)})`;
    const dtype = this.dtype === "float64" ? ", float64" : "";
    return `Tensor(shape ${shapeString(this.shape)}${dtype}, ${JSON.stringify(this.toNested())})`;
  }
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Validates a shape (non-negative integers) and resolves one -1 against `total` when given. */
export function resolveShape(fn: string, shape: unknown, total?: number): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${fn}: shape must be an array of integers (got ${describe(shape)})`);
  let inferred = -1;
  let known = 1;
  // A plain loop (no closure, no spread): every tensor made goes through here.
  const out: number[] = new Array(shape.length);
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    out[i] = d as number;
    if (d === -1 && total !== undefined && inferred < 0) inferred = i;
    else if (typeof d !== "number" || !Number.isInteger(d) || d < 0) {
      throw new RangeError(`${fn}: shape must contain non-negative integers (got ${listString(shape)}, bad entry at ${i})`);
    } else if (d > MAX_TENSOR_SIZE) {
      // Checked per entry too: [1e200, 1e200, 0] would otherwise multiply to NaN.
      throw new RangeError(`${fn}: shape entries must be at most ${MAX_TENSOR_SIZE}, the most one tensor holds (got ${listString(shape)})`);
    } else known *= d;
  }
  if (inferred >= 0) {
    if (known === 0 || total! % known !== 0) {
      throw new RangeError(`${fn}: cannot reshape ${total} elements into ${listString(shape)}`);
    }
    out[inferred] = total! / known;
  } else if (total !== undefined && known !== total) {
    throw new RangeError(`${fn}: cannot reshape ${total} elements into shape ${shapeString(out)} (${known} elements)`);
  }
  if (sizeOf(out) > MAX_TENSOR_SIZE) {
    throw new RangeError(`${fn}: shape ${shapeString(out)} has ${sizeOf(out)} elements; one tensor holds at most ${MAX_TENSOR_SIZE}`);
  }
  return out;
}

/** An uninitialized tensor (internal: the contents are whatever the allocator left). */
export function empty(shape: Shape, fn = "tensor", dtype: DType = "float32"): Tensor {
  requireDtype(fn, dtype); // float64 before init({ float64: true }): say so, before anything is allocated
  const resolved = resolveShape(fn, shape);
  const bytes = bytesPerElement(dtype);
  if (sizeOf(resolved) * bytes > MAX_ALLOCATION_BYTES) {
    throw new RangeError(
      `${fn}: shape ${shapeString(resolved)} has ${sizeOf(resolved)} elements; one ${dtype} tensor holds at most ${Math.floor(MAX_ALLOCATION_BYTES / bytes)}`,
    );
  }
  const ptr = allocBytes(sizeOf(resolved) * bytes, fn);
  return new Tensor(ptr, resolved, null, dtype);
}

/**
 * Checks that tensors taking part in one call share a dtype; returns it. Mixing float32 and
 * float64 is a TypeError naming both tensors: nothing is converted silently.
 */
export function checkSameDtype(fn: string, tensors: ReadonlyArray<readonly [string, Tensor]>): DType {
  const [firstName, first] = tensors[0];
  for (const [name, t] of tensors) {
    if (t.dtype !== first.dtype) {
      throw new TypeError(
        `${fn}: ${firstName} is ${first.dtype} but ${name} is ${t.dtype}; every tensor in one call must have the same dtype (convert with tl.tensor(t.toArray(), t.shape, { dtype }))`,
      );
    }
  }
  return first.dtype;
}

function checkAllNumbers(fn: string, name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] !== "number") throw new TypeError(`${fn}: ${name}[${i}] must be a number (got ${describe(values[i])})`);
  }
}

/** Infers the shape of nested arrays, checking they are rectangular and hold numbers. */
function inferShape(data: unknown): number[] {
  const shape: number[] = [];
  let level: unknown = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  return shape;
}

function flatten(data: readonly NestedArray[], shape: number[], out: Float32Array | Float64Array): void {
  let o = 0;
  const walk = (node: unknown, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (typeof node !== "number") throw new TypeError(`tensor: data${path} must be a number (got ${describe(node)})`);
      out[o++] = node;
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[dim]) {
      throw new RangeError(`tensor: data is not rectangular: data${path} should be an array of length ${shape[dim]} (got ${describe(node)})`);
    }
    for (let i = 0; i < node.length; i++) walk(node[i], dim + 1, `${path}[${i}]`);
  };
  walk(data, 0, "");
}

/**
 * A tensor in wasm memory from nested arrays, a flat number[] or a typed array: float32 unless
 * `options.dtype` is "float64". With a shape, flat data must have exactly that many elements;
 * without one, nested arrays give their own shape and flat data is 1-D. `tensor(data, { dtype })`
 * works too.
 */
export function tensor(data: TensorData, shape?: Shape | DTypeOptions, options: DTypeOptions = {}): Tensor {
  if (shape !== undefined && shape !== null && !Array.isArray(shape) && typeof shape === "object") {
    options = shape as DTypeOptions;
    shape = undefined;
  }
  const dtype = checkDtype("tensor", "options.dtype", checkOptions("tensor", "options", options, ["dtype"]).dtype);
  let values: Float32Array | Float64Array;
  const Values = dtype === "float64" ? Float64Array : Float32Array;
  let dataShape: number[];
  if (typeof data === "number") {
    values = Values.of(data);
    dataShape = [];
  } else if (ArrayBuffer.isView(data)) {
    if (data instanceof DataView || data instanceof BigInt64Array || data instanceof BigUint64Array) {
      throw new TypeError(`tensor: data must be a number, a (nested) array of numbers or a numeric typed array (got ${describe(data)})`);
    }
    values = data instanceof Values ? data : Values.from(data as unknown as ArrayLike<number>);
    dataShape = [values.length];
  } else if (Array.isArray(data)) {
    dataShape = inferShape(data);
    values = new Values(sizeOf(dataShape));
    flatten(data as NestedArray[], dataShape, values);
  } else {
    throw new TypeError(`tensor: data must be a number, a (nested) array of numbers or a Float32Array/Float64Array (got ${describe(data)})`);
  }
  let finalShape = dataShape;
  // An explicit shape reinterprets the values (sizes must agree), like a reshape.
  if (shape !== undefined) finalShape = resolveShape("tensor", shape, values.length);
  const t = empty(finalShape, "tensor", dtype);
  f32or64(dtype).set(values, t.offset);
  return t;
}

/** A tensor of zeros (float32 unless options.dtype is "float64"). */
export function zeros(shape: Shape, options: DTypeOptions = {}): Tensor {
  return full(shape, 0, options, "zeros");
}

/** A tensor of ones (float32 unless options.dtype is "float64"). */
export function ones(shape: Shape, options: DTypeOptions = {}): Tensor {
  return full(shape, 1, options, "ones");
}

/** A tensor filled with `value` (float32 unless options.dtype is "float64"). */
export function full(shape: Shape, value: number, options: DTypeOptions = {}, fn = "full"): Tensor {
  if (typeof value !== "number") throw new TypeError(`${fn}: value must be a number (got ${describe(value)})`);
  const dtype = checkDtype(fn, "options.dtype", checkOptions(fn, "options", options, ["dtype"]).dtype);
  const t = empty(shape, fn, dtype);
  fillTensor(t, value);
  return t;
}

/** t[i] = value, in t's dtype. */
export function fillTensor(t: Tensor, value: number): void {
  t.markWritten();
  realKernels(t.dtype).fill(t.ptr, t.size, value);
}

// The typed array over wasm memory for a dtype (a fresh tensor's first write is no write to count).
function f32or64(dtype: DType): Float32Array | Float64Array {
  return dtype === "float64" ? f64() : f32();
}

export interface RandomOptions extends DTypeOptions {
  /** Integer in [0, 2^32). The same seed gives the same values in every runtime. */
  seed?: number;
}

/**
 * Normal samples, computed in wasm. With a seed, element i is a pure function of (seed, i);
 * without one, values come from the global stream (see setSeed).
 */
export function randn(shape: Shape, options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const opts = checkOptions("randn", "options", options, ["seed", "mean", "std", "dtype"]);
  const dtype = checkDtype("randn", "options.dtype", opts.dtype);
  const float32 = dtype === "float32";
  const mean = opts.mean === undefined ? 0 : checkNumber("randn", "options.mean", opts.mean, { float32 });
  const std = opts.std === undefined ? 1 : checkNumber("randn", "options.std", opts.std, { min: 0, float32 });
  const given = opts.seed === undefined ? undefined : checkSeed("randn", "options.seed", opts.seed); // before allocating
  const t = empty(shape, "randn", dtype);
  const [seed, offset] = given === undefined ? drawSeed(t.size) : [given, 0];
  fillNormalAt(t, seed, offset, mean, std);
  return t;
}

/** Uniform samples in [0, 1), computed in wasm; seeding as for randn. */
export function rand(shape: Shape, options: RandomOptions = {}): Tensor {
  const opts = checkOptions("rand", "options", options, ["seed", "dtype"]);
  const dtype = checkDtype("rand", "options.dtype", opts.dtype);
  const given = opts.seed === undefined ? undefined : checkSeed("rand", "options.seed", opts.seed); // before allocating
  const t = empty(shape, "rand", dtype);
  const [seed, offset] = given === undefined ? drawSeed(t.size) : [given, 0];
  realKernels(dtype).rand_uniform(t.ptr, t.size, seed, offset, 0, 1);
  return t;
}

/** t[i] = mean + std * normal at counter offset + i of stream `seed`, in t's dtype (the same draws for both dtypes). */
export function fillNormalAt(t: Tensor, seed: number, offset: number, mean: number, std: number): void {
  t.markWritten();
  realKernels(t.dtype).rand_normal(t.ptr, t.size, seed, offset, mean, std);
}

/**
 * Runs fn and disposes every tensor it created, except those it returns (a tensor, or arrays and
 * plain objects of tensors, searched deeply). Kept tensors move to the enclosing tidy, if any.
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== "function") throw new TypeError(`tidy: fn must be a function (got ${describe(fn)})`);
  const [result, scope] = runScoped(fn);
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new TypeError("tidy: fn must be synchronous (it returned a Promise); tensors it made were disposed");
  }
  const kept = new Set<Tensor>();
  // A number or a typed array (what toArray() gives) holds no tensor: skip the walk.
  if (result !== null && typeof result === "object" && !ArrayBuffer.isView(result)) collectTensors(result, kept, new Set());
  const parent = scopes.length > 0 ? scopes[scopes.length - 1] : null;
  for (const t of scope) {
    if (kept.has(t) || keepsBaseAlive(t, kept)) parent?.push(t);
    else t.dispose();
  }
  return result;
}

/**
 * Runs fn; if it throws, every tensor fn created (and did not keep()) is disposed before the error
 * propagates. So a call that fails midway (out of memory at its third buffer, a check after an
 * allocation) gives back what it took. On success nothing changes: the tensors belong to the
 * caller, and to the enclosing tidy if there is one.
 */
export function allOrNothing<T>(fn: () => T): T {
  const [result, scope] = runScoped(fn);
  const parent = scopes.length > 0 ? scopes[scopes.length - 1] : null;
  if (parent) for (const t of scope) if (!t.isDisposed) parent.push(t);
  return result;
}

/**
 * Runs fn with a fresh scope that records every tensor it creates (except keep()s). If fn throws,
 * those tensors are disposed before the error propagates; otherwise the scope is returned.
 */
function runScoped<T>(fn: () => T): [T, Tensor[]] {
  const scope: Tensor[] = [];
  scopes.push(scope);
  try {
    return [fn(), scope];
  } catch (error) {
    for (const t of scope) t.dispose();
    throw error;
  } finally {
    scopes.pop();
  }
}

/** Removes a tensor from the enclosing tidy so it survives it. */
export function keep<T extends Tensor>(t: T): T {
  for (const scope of scopes) {
    const i = scope.indexOf(t);
    if (i >= 0) scope.splice(i, 1);
  }
  return t;
}

// A kept view needs its base's memory: the base must not be freed.
function keepsBaseAlive(t: Tensor, kept: Set<Tensor>): boolean {
  for (const k of kept) if (k !== t && k.storage === t) return true;
  return false;
}

function collectTensors(value: unknown, out: Set<Tensor>, seen: Set<unknown>): void {
  if (value instanceof Tensor) {
    out.add(value);
    return;
  }
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value)) for (const v of value) collectTensors(v, out, seen);
  else if (value instanceof Map) for (const v of value.values()) collectTensors(v, out, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collectTensors(v, out, seen);
}

/**
 * What live tensors hold now: the bytes they own (4 per float32 element, 8 per float64; views own none) and how many tensors are not yet
 * disposed, views included. A view ends with its base: disposing the base is enough.
 */
export function memory(): {
  /** Bytes owned by live tensors (4 per float32 element, 8 per float64; views own none). */
  bytes: number;
  /** Number of tensors not yet disposed, views included. */
  liveTensors: number;
} {
  for (const t of live) if (t.isDisposed) live.delete(t); // views whose base was disposed
  return { bytes: runtime.tensors.bytes, liveTensors: live.size };
}

/** Checks that `value` is a live tensor, optionally of a given rank (or one of several ranks). */
export function checkTensor(fn: string, name: string, value: unknown, rank?: number | readonly number[]): Tensor {
  if (!(value instanceof Tensor)) throw new TypeError(`${fn}: ${name} must be a Tensor (got ${describe(value)})`);
  if (value.isDisposed) throw new TypeError(`${fn}: ${name} was disposed and cannot be used`);
  if (rank !== undefined) {
    const ranks = typeof rank === "number" ? [rank] : rank;
    if (!ranks.includes(value.shape.length)) {
      throw new RangeError(`${fn}: ${name} must have ${ranks.join(" or ")} dimensions (got shape ${shapeString(value.shape)})`);
    }
  }
  return value;
}

/** Checks that a tensor has exactly the expected shape. */
export function checkShape(fn: string, name: string, t: Tensor, expected: readonly number[], why = ""): void {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new RangeError(`${fn}: ${name} must have shape ${shapeString(expected)}${why ? ` (${why})` : ""} (got ${shapeString(t.shape)})`);
  }
}
