// model.summary(): a table of the modules in order (nested ones indented under their container),
// each with its output shape and parameter count, then the totals, as Keras prints a model.
import type { Plan } from "../nn/module.js";
import { sizeOf } from "../core/tensor.js";

interface Summarized {
  config: { inputShape: number[]; dtype: string; notes?: string[] };
  parameterNames: readonly string[];
}

export function formatSummary(model: Summarized, plan: Plan, frozen: ReadonlySet<string>): string {
  const rows: [string, string, string, string][] = [["#", "module", "output shape", "params"]];
  for (const { module, depth } of plan.modules) {
    const own = plan.params.filter((p) => p.module === module);
    const count = own.reduce((n, p) => n + sizeOf(p.shape), 0);
    const frozenHere = own.length > 0 && own.every((p) => frozen.has(p.fullName));
    rows.push([
      module.path,
      `${"  ".repeat(depth)}${module.describe()}${frozenHere ? " (frozen)" : ""}`,
      `(N, ${module.outputShape.join(", ")})`,
      own.length > 0 ? count.toLocaleString("en-US") : "",
    ]);
  }
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) =>
    r
      .map((cell, c) => (c === 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join("   ")
      .trimEnd();
  const rule = "-".repeat(line(rows[0]).length);
  const total = plan.params.reduce((n, p) => n + sizeOf(p.shape), 0);
  const frozenCount = plan.params.filter((p) => frozen.has(p.fullName)).reduce((n, p) => n + sizeOf(p.shape), 0);
  const buffers = plan.buffers.reduce((n, b) => n + sizeOf(b.shape), 0);
  return [
    `Sequential: input (N, ${model.config.inputShape.join(", ")}), ${model.config.dtype}`,
    rule,
    line(rows[0]),
    rule,
    ...rows.slice(1).map(line),
    rule,
    `parameters: ${total.toLocaleString("en-US")} (trainable ${(total - frozenCount).toLocaleString("en-US")}, frozen ${frozenCount.toLocaleString("en-US")}); buffers: ${buffers.toLocaleString("en-US")} values`,
    ...(model.config.notes ?? []).map((note) => `note: ${note}`),
  ].join("\n");
}
