// Elementwise activations: ReLU and Tanh (the course's kernels). Each saves what its backward
// reads: ReLU its output (output > 0 exactly where input > 0), Tanh its output (1 - y²).
import { relu, reluBackward, tanh, tanhBackward } from "../ops/elementwise.js";
import type { Tensor } from "../tensor.js";
import { Module, type ModulePlan, type Pass } from "./module.js";

/** Shape-preserving modules: any input shape, the same output shape. */
abstract class Elementwise extends Module {
  readonly args = {};
  protected y: Tensor | null = null;

  plan(input: readonly number[]): ModulePlan {
    return { output: [...input] };
  }

  protected out(pass: Pass): Tensor {
    return pass.ws.get(this.key("y"), [pass.n, ...this.outputShape], pass.dtype);
  }

  protected dx(pass: Pass): Tensor {
    return pass.ws.get(this.key("dx"), [pass.n, ...this.inputShape], pass.dtype);
  }
}

export class ReLU extends Elementwise {
  readonly type = "ReLU";
  forward(x: Tensor, pass: Pass): Tensor {
    const y = this.out(pass);
    relu(y.ptr, x.ptr, y.size, pass.dtype);
    this.y = y;
    return y;
  }
  backward(dy: Tensor, pass: Pass): Tensor | null {
    if (!this.needsInputGrad) return null;
    const dx = this.dx(pass);
    reluBackward(dx.ptr, dy.ptr, this.y!.ptr, dx.size, pass.dtype);
    return dx;
  }
}

export class Tanh extends Elementwise {
  readonly type = "Tanh";
  forward(x: Tensor, pass: Pass): Tensor {
    const y = this.out(pass);
    tanh(y.ptr, x.ptr, y.size, pass.dtype);
    this.y = y;
    return y;
  }
  backward(dy: Tensor, pass: Pass): Tensor | null {
    if (!this.needsInputGrad) return null;
    const dx = this.dx(pass);
    tanhBackward(dx.ptr, dy.ptr, this.y!.ptr, dx.size, pass.dtype);
    return dx;
  }
}
