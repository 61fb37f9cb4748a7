// Modules: the parts a composed model (tl.sequential) is made of. Each module is one layer kind
// with the course's explicit forward/backward (no autograd): forward saves what backward needs in
// named fields, backward takes the upstream gradient and returns the input's.
//
// A module is created unbound (tl.nn.conv2d(1, 32, 3)); the model that receives it plans it for
// its input shape (checking that shape and computing the output's), lays its parameters out in
// the model's flat parameter region under PyTorch's state_dict names ("3.weight",
// "4.body.0.weight"), then binds them: from then on `module.params.weight` is that tensor.
// Activations and caches live in the model's workspace, so a training step allocates nothing
// after the first.
import type { DType } from "../core/dtype.js";
import type { Tensor } from "../core/tensor.js";
import type { Workspace } from "../core/workspace.js";
import { describe, shapeString } from "../core/validate.js";

/** How a parameter or buffer starts. */
export type Init =
  | {
      /** Uniform U(-bound, bound): PyTorch's default for Linear and Conv2d. */
      kind: "uniform";
      /** Half-width of the interval: values lie between -bound and bound. */
      bound: number;
    }
  | {
      /** Normal N(0, std²). */
      kind: "normal";
      /** Standard deviation of the normal distribution (its mean is 0). */
      std: number;
    }
  | {
      /** Every element set to `value` (BatchNorm's weight 1 and bias 0, running statistics). */
      kind: "constant";
      /** The value every element starts at. */
      value: number;
    };

/** A parameter or buffer a module needs, by its local name ("weight", "running_mean"). */
export interface TensorSpec {
  /** Local name within the module ("weight", "bias", "running_mean"), the PyTorch attribute name. */
  name: string;
  /** Full shape of the tensor, e.g. (out_channels, in_channels / groups, kH, kW) for a Conv2d weight. */
  shape: number[];
  /** How the tensor is filled when the model is created (from the model's seed). */
  init: Init;
}

/** What a module needs for an input shape (without the batch dimension). */
export interface ModulePlan {
  /** The output shape (without the batch dimension). */
  output: number[];
  /** Trainable parameters the module needs (weight, bias); none when omitted. */
  params?: TensorSpec[];
  /** Non-trainable state saved in checkpoints (running_mean, running_var); none when omitted. */
  buffers?: TensorSpec[];
}

/** What every module sees during one pass of a model. */
export interface Pass {
  /** Training mode: batch statistics, dropout. Test mode: running statistics, identity dropout. */
  readonly train: boolean;
  /** Element type of the model's tensors in this pass ("float32" or "float64"). */
  readonly dtype: DType;
  /** The batch size. */
  readonly n: number;
  /** The model's reused buffers (a module names its own with module.key(...)). */
  readonly ws: Workspace;
  /** Reserves `count` counters of the model's random stream (dropout): [seed, offset]. */
  draw(count: number): [number, number];
  /**
   * True when no backward follows this forward (a model's test-mode loss(X)): modules may then
   * fuse with the next ones in test mode and skip writing what only backward reads.
   */
  readonly infer?: boolean;
}

/** A module as data: its type and constructor arguments (what checkpoints store). */
export interface ModuleSpec {
  /** The module's PyTorch class name ("Conv2d", "BatchNorm2d", "Residual", ...). */
  type: string;
  /** Constructor arguments by PyTorch's names (in_channels, kernel_size, ...), JSON-serializable. */
  args: Record<string, unknown>;
  /** A container's children (Residual: body and shortcut), as specs. */
  children?: Record<string, ModuleSpec[]>;
}

/**
 * Base class of every tl.nn module (PyTorch's torch.nn.Module): one layer with an explicit
 * forward and backward. Create modules with the tl.nn factories (tl.nn.conv2d(1, 32, 3)) and pass
 * them to tl.sequential; a module belongs to one model only.
 */
export abstract class Module {
  /** PyTorch's class name of the same layer ("Conv2d", "BatchNorm2d", ...). */
  abstract readonly type: string;
  /** The constructor arguments, JSON-serializable, with defaults filled in. */
  abstract readonly args: Readonly<Record<string, unknown>>;
  /** The module's place in its model: "3" or "4.body.0" (empty until a model plans it). */
  path = "";
  /** Input and output shapes without the batch dimension (set when planned). */
  inputShape: readonly number[] = [];
  /** Output shape without the batch dimension, e.g. [C, H, W] (empty until a model plans the module). */
  outputShape: readonly number[] = [];
  /** Parameters, their gradients and buffers by local name (views into the model's regions once bound). */
  params: Record<string, Tensor> = {};
  /** Gradients of `params` by the same local names and shapes, overwritten by each backward. */
  grads: Record<string, Tensor> = {};
  /** Non-trainable state by local name (BatchNorm's running_mean and running_var), saved in checkpoints; empty for most modules. */
  buffers: Record<string, Tensor> = {};
  /** Whether backward must compute the parameter gradients (false once every parameter is frozen). */
  trainable = true;
  /** Whether backward must return the input's gradient (something before this module trains). */
  needsInputGrad = true;
  #owner: object | null = null;

  /**
   * The output shape and tensors needed for an input shape; a RangeError naming what fits
   * otherwise. A container plans its children through `chain`.
   */
  abstract plan(input: readonly number[], chain: PlanChain): ModulePlan;

  /** The output for x (N, ...inputShape), saving what backward needs. */
  abstract forward(x: Tensor, pass: Pass): Tensor;

  /**
   * The output of this module followed by `next` in one step (e.g. Linear + ReLU: the ReLU in the
   * product's store), with the bits and the saved state of the two forwards; null when this module
   * does not fuse with `next` (the default).
   */
  forwardFused(_x: Tensor, _next: Module, _pass: Pass): Tensor | null {
    return null;
  }

  /**
   * The output of this module followed by `next` and `after` in one step (e.g. Conv2d, BatchNorm2d
   * in test mode and ReLU in inference: both in the conv's epilogue), with the bits of the three
   * forwards; null when they do not fuse (the default). Tried before forwardFused.
   */
  forwardFused3(_x: Tensor, _next: Module, _after: Module, _pass: Pass): Tensor | null {
    return null;
  }

  /**
   * Parameter gradients (overwritten) when `trainable`, and the input's gradient when
   * needsInputGrad (else null). dy: (N, ...outputShape), the gradient of the last forward's output.
   */
  abstract backward(dy: Tensor, pass: Pass): Tensor | null;

  /** Frees what the module holds itself (views, not the model's buffers). */
  dispose(): void {}

  /** Sub-module lists of a container, by name (Residual: "body", "shortcut"). */
  children(): ReadonlyArray<readonly [string, readonly Module[]]> {
    return [];
  }

  /** A short description for summary(): "Conv2d(1, 32, kernel_size=3, padding=1)". */
  describe(): string {
    const args = Object.entries(this.args)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `${k}=${Array.isArray(v) ? `(${v.join(", ")})` : String(v)}`);
    return `${this.type}(${args.join(", ")})`;
  }

  /** The module as data (checkpoint config). */
  spec(): ModuleSpec {
    const children = this.children();
    const spec: ModuleSpec = { type: this.type, args: { ...this.args } };
    if (children.length > 0) spec.children = Object.fromEntries(children.map(([name, list]) => [name, list.map((m) => m.spec())]));
    return spec;
  }

  /** A workspace key of this module's own. */
  key(name: string): string {
    return `${this.path}:${name}`;
  }

  /** @internal Claims the module for a model: a module belongs to one model only. */
  claim(owner: object, fn: string, where: string): void {
    if (this.#owner !== null && this.#owner !== owner) {
      throw new TypeError(`${fn}: ${where} (${this.type}) already belongs to another model; create a new module for each model`);
    }
    this.#owner = owner;
  }

  /** @internal Gives the module back (a model whose construction failed). */
  release(owner: object): void {
    if (this.#owner === owner) this.#owner = null;
    for (const [, list] of this.children()) for (const m of list) m.release(owner);
  }
}

/** A module's input shape does not fit: the error names the module, what it expects and what it got. */
export function shapeError(module: Module, expected: string, got: readonly number[]): RangeError {
  return new RangeError(`${module.describe()} expects ${expected} (got ${shapeString(got)})`);
}

/** Checks a module list: an array of Module objects. */
export function checkModules(fn: string, name: string, value: unknown): Module[] {
  if (!Array.isArray(value)) throw new TypeError(`${fn}: ${name} must be an array of modules (tl.nn.linear(...), ...) (got ${describe(value)})`);
  value.forEach((m, i) => {
    if (!(m instanceof Module)) throw new TypeError(`${fn}: ${name}[${i}] must be a module such as tl.nn.linear(4, 2) (got ${describe(m)})`);
  });
  return value as Module[];
}

// ---------------------------------------------------------------------------------------------
// Chains: a list of modules run one after another (a model's top level, a residual's body).

/** One planned tensor: its full name ("3.weight"), owner and local name. */
export interface PlannedTensor extends TensorSpec {
  fullName: string;
  module: Module;
}

/**
 * Plans a container's child list `name` ("body") for an input shape; returns its output shape.
 *
 * @inline
 */
export type PlanChain = (name: string, modules: readonly Module[], input: readonly number[]) => number[];

/** Every module of a planned tree with its depth, in order (for summary()). */
export interface PlannedModule {
  module: Module;
  depth: number;
}

/** What planning a model gathers. */
export interface Plan {
  params: PlannedTensor[];
  buffers: PlannedTensor[];
  modules: PlannedModule[];
}

/**
 * Plans `modules` in order for `input` (no batch dimension), naming them `${prefix}${i}`; returns
 * the chain's output shape. A module whose input does not fit is a RangeError naming its index.
 */
export function planChain(
  fn: string,
  owner: object,
  modules: readonly Module[],
  input: readonly number[],
  prefix: string,
  plan: Plan,
  depth: number,
): number[] {
  let shape = [...input];
  modules.forEach((m, i) => {
    const path = `${prefix}${i}`;
    m.claim(owner, fn, `module ${path}`);
    m.path = path;
    m.inputShape = Object.freeze([...shape]);
    plan.modules.push({ module: m, depth });
    let planned: ModulePlan;
    const chain: PlanChain = (name, list, childInput) => planChain(fn, owner, list, childInput, `${path}.${name}.`, plan, depth + 1);
    try {
      planned = m.plan(shape, chain);
    } catch (error) {
      // A child's error already names its own path (it is the innermost module that did not fit).
      if ((error instanceof RangeError || error instanceof TypeError) && !error.message.startsWith(`${fn}: module `)) {
        const E = error instanceof RangeError ? RangeError : TypeError;
        throw new E(`${fn}: module ${path}: ${error.message}`, { cause: error });
      }
      throw error;
    }
    for (const p of planned.params ?? []) plan.params.push({ ...p, fullName: `${path}.${p.name}`, module: m });
    for (const b of planned.buffers ?? []) plan.buffers.push({ ...b, fullName: `${path}.${b.name}`, module: m });
    shape = [...planned.output];
    m.outputShape = Object.freeze([...shape]);
  });
  return shape;
}

/** Runs the chain forward, fusing a module with the next two or the next where it can (forwardFused3, forwardFused). */
export function forwardChain(modules: readonly Module[], x: Tensor, pass: Pass): Tensor {
  const n = modules.length;
  for (let i = 0; i < n; i++) {
    const m = modules[i];
    if (i + 2 < n) {
      const fused = m.forwardFused3(x, modules[i + 1], modules[i + 2], pass);
      if (fused !== null) {
        x = fused;
        i += 2;
        continue;
      }
    }
    const fused = i + 1 < n ? m.forwardFused(x, modules[i + 1], pass) : null;
    if (fused !== null) {
      x = fused;
      i++;
    } else x = m.forward(x, pass);
  }
  return x;
}

/**
 * Runs the chain backward from dy, stopping at the first module (from the end) that neither
 * trains nor has to pass a gradient on: nothing before it needs one. Returns the chain input's
 * gradient, or null when nothing upstream needs it.
 */
export function backwardChain(modules: readonly Module[], dy: Tensor, pass: Pass): Tensor | null {
  let d: Tensor | null = dy;
  for (let i = modules.length - 1; i >= 0 && d !== null; i--) {
    const m = modules[i];
    if (!m.trainable && !m.needsInputGrad) return null;
    d = m.backward(d, pass);
  }
  return d;
}

/**
 * Marks which modules compute parameter gradients and which pass a gradient to their input:
 * `upstream` says whether the chain's input gradient is needed (something before the chain
 * trains). Returns whether anything in the chain trains.
 */
export function markChain(modules: readonly Module[], upstream: boolean, trains: (m: Module) => boolean): boolean {
  let before = upstream;
  let any = false;
  for (const m of modules) {
    m.needsInputGrad = before;
    let inner = trains(m);
    for (const [, list] of m.children()) inner = markChain(list, before, trains) || inner;
    m.trainable = inner;
    before = before || inner;
    any = any || inner;
  }
  return any;
}
