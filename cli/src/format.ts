// Numbers and counts in the CLI's messages, as a person writes them.

/** A number without float noise: 0.00081, not 0.0008100000000000001. */
export function formatNumber(x: number): string {
  return String(Number(x.toPrecision(6)));
}

/** "1 epoch", "3 epochs". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** A path as a shell argument: as is when it is plain, else in single quotes. */
export function shellArg(text: string): string {
  return /^[\w./@:=+-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}
