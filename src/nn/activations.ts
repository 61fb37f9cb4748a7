// Elementwise activations as PyTorch's modules. Each saves what its backward reads: ReLU, Tanh and
// Sigmoid their output (y > 0 exactly where x > 0; 1 - y²; y·(1 - y)), LeakyReLU and GELU their
// input.
import {
  gelu, geluBackward, leakyRelu, leakyReluBackward, relu, reluBackward, sigmoid, sigmoidBackward, tanh, tanhBackward, type GeluApproximate,
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

export class LeakyReLU extends Elementwise {
  readonly type = "LeakyReLU";
  override readonly args: { negative_slope: number };

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

export interface GeluOptions {
  /** "none": x·Φ(x) with the exact erf (PyTorch's default); "tanh": the tanh approximation. */
  approximate?: GeluApproximate;
}

export class GELU extends Elementwise {
  readonly type = "GELU";
  override readonly args: { approximate: GeluApproximate };

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
