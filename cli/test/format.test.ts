// The CLI's numbers and counts as a person writes them.
import { describe, expect, it } from "vitest";
import { formatNumber, plural } from "../src/format.js";

describe("CLI formatting", () => {
  it("learning rates without float noise, counts with the right plural", () => {
    expect(formatNumber(1e-3 * 0.9 * 0.9)).toBe("0.00081"); // was 0.0008100000000000001
    expect(formatNumber(0.1 + 0.2)).toBe("0.3");
    expect(formatNumber(1e-3)).toBe("0.001");
    expect(formatNumber(2.5e-7)).toBe("2.5e-7");
    expect(plural(1, "epoch")).toBe("1 epoch");
    expect(plural(3, "epoch")).toBe("3 epochs");
    expect(plural(1, "batch", "batches")).toBe("1 batch");
    expect(plural(25, "batch", "batches")).toBe("25 batches");
  });
});
