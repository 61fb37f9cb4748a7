// A short description of a value for the Node entry's error messages. The Node and CLI code
// import the core only through its public entry (src/index.ts), so that the bundles share the
// core as dist/tensorlane.js instead of a hidden chunk: this small twin of validate.ts's
// describe() keeps that rule.
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (typeof value === "function") return "a function";
  return typeof value === "object" ? "an object" : typeof value;
}
