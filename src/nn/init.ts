// How a module's parameters start. The default is PyTorch's for nn.Linear and nn.Conv2d
// (kaiming_uniform with a = sqrt(5), i.e. U(±1/sqrt(fanIn)) for the weight, and the same bound for
// the bias), so a net composed here starts like the same net in PyTorch (in distribution: the
// numbers come from tensorlane's own seeded streams). The course's schemes are there too.
import { kernels } from "../core/runtime.js";
import { checkNumber, describe } from "../core/validate.js";
import type { Init } from "./module.js";

/** "pytorch" (default), "kaiming" (normal, std sqrt(2/fanIn), for ReLU nets), "xavier" (std sqrt(1/fanIn)), or a number (the std of a normal). */
export type InitOption = "pytorch" | "kaiming" | "xavier" | number;

export function checkInitOption(fn: string, value: unknown): InitOption {
  if (value === undefined) return "pytorch";
  if (value === "pytorch" || value === "kaiming" || value === "xavier") return value;
  if (typeof value === "number") return checkNumber(fn, "options.init", value, { min: 0 });
  throw new TypeError(`${fn}: options.init must be "pytorch", "kaiming", "xavier" or a number (a std) (got ${describe(value)})`);
}

/** PyTorch's default for a layer with this fan-in: U(±1/sqrt(fanIn)). */
export function defaultInit(fanIn: number): Init {
  return { kind: "uniform", bound: kernels().f64_sqrt(1 / fanIn) };
}

/** The weight's Init for an option and fan-in (`pytorch` gives `fallback`). */
export function paramInit(option: InitOption, fanIn: number, fallback: Init): Init {
  if (option === "pytorch") return fallback;
  if (typeof option === "number") return { kind: "normal", std: option };
  return { kind: "normal", std: kernels().f64_sqrt((option === "kaiming" ? 2 : 1) / fanIn) };
}
