// Elementwise activations as PyTorch's modules. Each saves what its backward reads: ReLU, Tanh and
// Sigmoid their output (y > 0 exactly where x > 0; 1 - y²; y·(1 - y)), LeakyReLU and GELU their
// input.
import {
  gelu,
  geluBackward,
  leakyRelu,
  leakyReluBackward,
  relu,
  reluBackward,
  sigmoid,
  sigmoidBackward,
  tanh,
  tanhBackward,
  type GeluApproximate,
} from "../ops/elementwise.js";
import type { Tensor } from "../core/tensor.js";
import { checkEnum, checkNumber, checkOptions } from "../core/validate.js";
import { Module, type ModulePlan, type Pass } from "./module.js";

/** Shape-preserving modules: any input shape, the same output shape. */
abstract class Elementwise extends Module {
  readonly args: Readonly<Record<string, unknown>> = {};
  /** What backward reads: the output or the input of the last forward. */
  protected saved: Tensor | null = null;

  plan(input: readonly number[]): ModulePlan {
    return { output: [...input] };
  }

  protected abstract apply(y: Tensor, x: Tensor, pass: Pass): Tensor;
  protected abstract gradient(dx: Tensor, dy: Tensor, saved: Tensor, pass: Pass): void;

  forward(x: Tensor, pass: Pass): Tensor {
    const y = pass.ws.get(this.key("y"), [pass.n, ...this.outputShape], pass.dtype);
    this.saved = this.apply(y, x, pass);
    return y;
  }

  backward(dy: Tensor, pass: Pass): Tensor | null {
    if (!this.needsInputGrad) return null;
    const dx = pass.ws.get(this.key("dx"), [pass.n, ...this.inputShape], pass.dtype);
    this.gradient(dx, dy, this.saved!, pass);
    return dx;
  }
}

/** ReLU max(0, x), elementwise (PyTorch's nn.ReLU): any input shape, the same output shape. Made by tl.nn.relu(). */
export class ReLU extends Elementwise {
  readonly type = "ReLU";

  /**
   * @internal The buffer forward would write, recorded as its output, for a module before this one
   * that applies the ReLU in its own store (Module.forwardFused); backward then runs as usual.
   */
  fusedOutput(pass: Pass): Tensor {
    const y = pass.ws.get(this.key("y"), [pass.n, ...this.outputShape], pass.dtype);
    this.saved = y;
    return y;
  }

  protected apply(y: Tensor, x: Tensor, pass: Pass): Tensor {
    relu(y.ptr, x.ptr, y.size, pass.dtype);
    return y;
  }
  protected gradient(dx: Tensor, dy: Tensor, y: Tensor, pass: Pass): void {
    reluBackward(dx.ptr, dy.ptr, y.ptr, dx.size, pass.dtype);
  }
}

/** Hyperbolic tangent, elementwise (PyTorch's nn.Tanh): any input shape, the same output shape. Made by tl.nn.tanh(). */
export class Tanh extends Elementwise {
  readonly type = "Tanh";
  protected apply(y: Tensor, x: Tensor, pass: Pass): Tensor {
    tanh(y.ptr, x.ptr, y.size, pass.dtype);
    return y;
  }
  protected gradient(dx: Tensor, dy: Tensor, y: Tensor, pass: Pass): void {
    tanhBackward(dx.ptr, dy.ptr, y.ptr, dx.size, pass.dtype);
  }
}

/** Logistic sigmoid 1 / (1 + e^-x), elementwise (PyTorch's nn.Sigmoid): any input shape, the same output shape. Made by tl.nn.sigmoid(). */
export class Sigmoid extends Elementwise {
  readonly type = "Sigmoid";
  protected apply(y: Tensor, x: Tensor, pass: Pass): Tensor {
    sigmoid(y.ptr, x.ptr, y.size, pass.dtype);
    return y;
  }
  protected gradient(dx: Tensor, dy: Tensor, y: Tensor, pass: Pass): void {
    sigmoidBackward(dx.ptr, dy.ptr, y.ptr, dx.size, pass.dtype);
  }
}

/**
 * Leaky ReLU: x for x > 0, negative_slope·x otherwise, elementwise (PyTorch's nn.LeakyReLU):
 * any input shape, the same output shape. Made by tl.nn.leakyRelu(negativeSlope).
 */
export class LeakyReLU extends Elementwise {
  readonly type = "LeakyReLU";
  /** The constructor argument by PyTorch's name. */
  override readonly args: {
    /** Slope for negative inputs (default 0.01). */
    negative_slope: number;
  };

  /** @param negativeSlope - Slope for x < 0; any finite number, default 0.01. A TypeError or RangeError otherwise. */
  constructor(negativeSlope = 0.01) {
    super();
    this.args = { negative_slope: checkNumber("nn.leakyRelu", "negativeSlope", negativeSlope, { float32: true }) };
  }
  protected apply(y: Tensor, x: Tensor, pass: Pass): Tensor {
    leakyRelu(y.ptr, x.ptr, y.size, this.args.negative_slope, pass.dtype);
    return x;
  }
  protected gradient(dx: Tensor, dy: Tensor, x: Tensor, pass: Pass): void {
    leakyReluBackward(dx.ptr, dy.ptr, x.ptr, dx.size, this.args.negative_slope, pass.dtype);
  }
}

/** Options of tl.nn.gelu (PyTorch's nn.GELU keyword arguments). */
export interface GeluOptions {
  /** "none": x·Φ(x) with the exact erf (PyTorch's default); "tanh": the tanh approximation. */
  approximate?: GeluApproximate;
}

/**
 * GELU x·Φ(x), elementwise (PyTorch's nn.GELU), exact (erf) or with the tanh approximation: any
 * input shape, the same output shape. Made by tl.nn.gelu(options).
 */
export class GELU extends Elementwise {
  readonly type = "GELU";
  /** The constructor option by PyTorch's name, default filled in. */
  override readonly args: {
    /** "none" (exact erf, the default) or "tanh" (the tanh approximation). */
    approximate: GeluApproximate;
  };

  /** @param options - See GeluOptions; an unknown key or value is a TypeError. */
  constructor(options: GeluOptions = {}) {
    super();
    const fn = "nn.gelu";
    const o = checkOptions(fn, "options", options, ["approximate"]);
    this.args = { approximate: o.approximate === undefined ? "none" : checkEnum(fn, "options.approximate", o.approximate, ["none", "tanh"] as const) };
  }
  protected apply(y: Tensor, x: Tensor, pass: Pass): Tensor {
    gelu(y.ptr, x.ptr, y.size, this.args.approximate, pass.dtype);
    return x;
  }
  protected gradient(dx: Tensor, dy: Tensor, x: Tensor, pass: Pass): void {
    geluBackward(dx.ptr, dy.ptr, x.ptr, dx.size, this.args.approximate, pass.dtype);
  }
}
