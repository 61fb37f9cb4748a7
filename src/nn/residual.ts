// A residual block: y = body(x) + shortcut(x), shortcut the identity unless given (a projection,
// e.g. a strided 1x1 Conv2d and a BatchNorm2d, when the body changes the shape). The ReLU that
// ResNet applies after the sum is the next module of the Sequential. Children are named as a
// PyTorch module with attributes `body` and `shortcut` (nn.Sequential) names them in its
// state_dict: "4.body.0.weight", "4.shortcut.1.running_mean".
//   backward: dy flows into both branches; dx = dx_body + dx_shortcut (dy itself for the identity).
import { add } from "../ops/elementwise.js";
import type { Tensor } from "../core/tensor.js";
import { shapeString } from "../core/validate.js";
import { backwardChain, checkModules, forwardChain, Module, type ModulePlan, type Pass, type PlanChain } from "./module.js";

/**
 * A residual block y = body(x) + shortcut(x) (ResNet's skip connection); the shortcut is the
 * identity when empty. Children are named "body.i" and "shortcut.i" in the state_dict. Made by
 * tl.nn.residual(body, shortcut); a RangeError when the two branches' output shapes differ.
 */
export class Residual extends Module {
  readonly type = "Residual";
  readonly args = {};
  /** The main branch, run in order (at least one module). */
  readonly body: readonly Module[];
  /** The projection branch (e.g. a strided 1x1 Conv2d and a BatchNorm2d); empty for the identity. */
  readonly shortcut: readonly Module[];

  constructor(body: Module[], shortcut: Module[] = []) {
    super();
    this.body = Object.freeze([...checkModules("nn.residual", "body", body)]);
    if (this.body.length === 0) throw new RangeError("nn.residual: body must hold at least one module");
    this.shortcut = Object.freeze([...checkModules("nn.residual", "shortcut", shortcut)]);
  }

  override children(): ReadonlyArray<readonly [string, readonly Module[]]> {
    return this.shortcut.length > 0
      ? [
          ["body", this.body],
          ["shortcut", this.shortcut],
        ]
      : [["body", this.body]];
  }

  override describe(): string {
    return this.shortcut.length > 0 ? "Residual(body + shortcut)" : "Residual(body + identity)";
  }

  plan(input: readonly number[], chain: PlanChain): ModulePlan {
    const out = chain("body", this.body, input);
    const side = this.shortcut.length > 0 ? chain("shortcut", this.shortcut, input) : [...input];
    if (out.length !== side.length || out.some((d, i) => d !== side[i])) {
      const fix =
        this.shortcut.length > 0
          ? "make the shortcut's output match"
          : "give a shortcut (e.g. a strided 1x1 conv2d and a batchNorm2d) that maps the input to the body's output";
      throw new RangeError(
        `Residual: the body outputs ${shapeString(out)} but the shortcut ${this.shortcut.length > 0 ? "outputs" : "passes the input"} ${shapeString(side)}: ${fix}`,
      );
    }
    return { output: out };
  }

  forward(x: Tensor, pass: Pass): Tensor {
    const a = forwardChain(this.body, x, pass);
    const b = this.shortcut.length > 0 ? forwardChain(this.shortcut, x, pass) : x;
    const y = pass.ws.get(this.key("y"), [pass.n, ...this.outputShape], pass.dtype);
    add(y.ptr, a.ptr, b.ptr, y.size, pass.dtype);
    return y;
  }

  backward(dy: Tensor, pass: Pass): Tensor | null {
    const dBody = backwardChain(this.body, dy, pass);
    const dSide = this.shortcut.length > 0 ? backwardChain(this.shortcut, dy, pass) : dy;
    if (!this.needsInputGrad) return null;
    const dx = pass.ws.get(this.key("dx"), [pass.n, ...this.inputShape], pass.dtype);
    add(dx.ptr, dBody!.ptr, dSide!.ptr, dx.size, pass.dtype);
    return dx;
  }

  override dispose(): void {
    for (const m of [...this.body, ...this.shortcut]) m.dispose();
  }
}
