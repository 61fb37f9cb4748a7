// Parsers for option values: each turns the text the user typed into a value, or throws
// commander's InvalidArgumentError with what was expected (commander adds the option's name).
import { InvalidArgumentError } from "commander";
import type { Augmentation } from "tensorlane";

export function positiveInt(text: string): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("Expected a positive integer, e.g. 10.");
  return n;
}

export function nonNegativeInt(text: string): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n)) throw new InvalidArgumentError("Expected an integer >= 0, e.g. 0.");
  return n;
}

export function seed(text: string): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n >= 2 ** 32) throw new InvalidArgumentError("Expected an integer in [0, 4294967295], e.g. 0.");
  return n;
}

function number(text: string, what: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError(`Expected ${what}.`);
  return n;
}

export function nonNegativeNumber(text: string): number {
  const n = number(text, "a number >= 0, e.g. 1e-4");
  if (n < 0) throw new InvalidArgumentError("Expected a number >= 0, e.g. 1e-4.");
  return n;
}

export function positiveNumber(text: string): number {
  const n = number(text, "a number > 0, e.g. 1e-3");
  if (n <= 0) throw new InvalidArgumentError("Expected a number > 0, e.g. 1e-3.");
  return n;
}

/** A dropout probability: the fraction of hidden units dropped, in [0, 1). */
export function probability(text: string): number {
  const n = number(text, "a probability in [0, 1), e.g. 0.2");
  if (n < 0 || n >= 1) throw new InvalidArgumentError("Expected a probability in [0, 1), e.g. 0.2 (the fraction of hidden units dropped).");
  return n;
}

/** Label smoothing: the share of the target spread over all classes, in [0, 1). */
export function labelSmoothing(text: string): number {
  const n = number(text, "a number in [0, 1), e.g. 0.1");
  if (n < 0 || n >= 1) throw new InvalidArgumentError("Expected a number in [0, 1), e.g. 0.1 (the share of the target spread over all classes).");
  return n;
}

/** A moving average's decay per step, in (0, 1). */
export function emaDecay(text: string): number {
  const n = number(text, "a number in (0, 1), e.g. 0.999");
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError("Expected a number in (0, 1), e.g. 0.999 (the weight the average keeps at every step).");
  return n;
}

/** "0,1,2" or "0-4" -> distinct class indices, at least two. */
export function classList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(",").map((s) => s.trim())) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    const [from, to] = range ? [Number(range[1]), Number(range[2])] : /^\d+$/.test(part) ? [Number(part), Number(part)] : [NaN, NaN];
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || to < from)
      throw new InvalidArgumentError("Expected class indices or ranges, e.g. 0-4 or 0,2,5.");
    for (let c = from; c <= to; c++) out.push(c);
  }
  if (new Set(out).size !== out.length) throw new InvalidArgumentError("Expected each class once, e.g. 0-4 or 0,2,5.");
  if (out.length < 2) throw new InvalidArgumentError("Expected at least two classes, e.g. 0-4.");
  return out;
}

/** A learning-rate multiplier per epoch, in (0, 1]. */
export function decay(text: string): number {
  const n = number(text, "a number in (0, 1], e.g. 0.95");
  if (n <= 0 || n > 1) throw new InvalidArgumentError("Expected a number in (0, 1], e.g. 0.95 (the learning rate is multiplied by it after every epoch).");
  return n;
}

/** "100,100" -> [100, 100]. */
export function intList(text: string): number[] {
  const parts = text.split(",").map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1 || !Number.isSafeInteger(Number(p)))) {
    throw new InvalidArgumentError("Expected comma-separated positive integers, e.g. 100,100.");
  }
  return parts.map(Number);
}

/** "0,1" -> [0, 1]; "" or "none" -> []. */
export function indexList(text: string): number[] {
  if (text.trim() === "" || text.trim() === "none") return [];
  const parts = text.split(",").map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) throw new InvalidArgumentError("Expected comma-separated layer indices from 0, e.g. 0,1, or none.");
  return parts.map(Number);
}

/** "kaiming", "xavier" or a standard deviation. */
export function weightScale(text: string): "kaiming" | "xavier" | number {
  if (text === "kaiming" || text === "xavier") return text;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('Expected "kaiming", "xavier" or a standard deviation > 0, e.g. 1e-2.');
  return n;
}

/** --threads: a positive integer or "auto" (the host's core count). */
export function threads(text: string): number | "auto" {
  if (text.trim() === "auto") return "auto";
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > 256)
    throw new InvalidArgumentError('Expected a thread count from 1 to 256 or "auto", e.g. 2.');
  return n;
}

/**
 * "flip,crop:2,cutout:8,mixup:0.2" -> the Solver's augment list, in that order. flip takes an
 * optional probability (flip:0.3, default 0.5); crop a padding, cutout a square side, mixup a
 * Beta alpha, all required. "none" -> [].
 */
export function augmentList(text: string): Augmentation[] {
  const EXAMPLE = "e.g. flip,crop:2,cutout:8,mixup:0.2";
  if (text.trim() === "none") return [];
  return text.split(",").map((item) => {
    const [name, value, ...rest] = item
      .trim()
      .split(":")
      .map((s) => s.trim());
    const param = (what: string, check: (n: number) => boolean, expected: string): number => {
      if (value === undefined || value === "") throw new InvalidArgumentError(`${name} needs ${what} (${name}:${expected.split(" ").at(-1)}), ${EXAMPLE}.`);
      const n = Number(value);
      if (!Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`${name}:${value}: expected ${expected}.`);
      return n;
    };
    if (rest.length > 0) throw new InvalidArgumentError(`"${item.trim()}" has more than one value; expected name or name:value, ${EXAMPLE}.`);
    switch (name) {
      case "flip":
        return value === undefined
          ? { type: "randomFlip" }
          : { type: "randomFlip", p: param("a probability", (n) => n >= 0 && n <= 1, "a flip probability in [0, 1], e.g. 0.5") };
      case "crop":
        return {
          type: "randomCrop",
          padding: param("a padding", (n) => Number.isInteger(n) && n >= 0 && n <= 1024, "a padding in pixels, an integer in [0, 1024], e.g. 2"),
        };
      case "cutout":
        return {
          type: "cutout",
          size: param("a square size", (n) => Number.isInteger(n) && n >= 1 && n <= 1024, "a square side in pixels, an integer in [1, 1024], e.g. 8"),
        };
      case "mixup":
        return { type: "mixup", alpha: param("an alpha", (n) => n > 0 && n <= 1000, "a Beta(alpha, alpha) parameter > 0, e.g. 0.2") };
      default:
        throw new InvalidArgumentError(`unknown augmentation "${item.trim()}": expected flip[:p], crop:padding, cutout:size, mixup:alpha or none, ${EXAMPLE}.`);
    }
  });
}
