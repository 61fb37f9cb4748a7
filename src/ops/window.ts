// The sizes every windowed op over (N, C, H, W) planes takes (average pooling, depthwise conv):
// checked once here, so each op adds only its own rules.

/**
 * Throws a RangeError naming `fn` unless N, C, H, W, the window kh x kw and the strides sh, sw are
 * integers >= 1 and the paddings ph, pw integers >= 0.
 */
export function checkWindowSizes(
  fn: string,
  N: number,
  C: number,
  H: number,
  W: number,
  kh: number,
  kw: number,
  sh: number,
  sw: number,
  ph: number,
  pw: number,
): void {
  for (const [name, v, least] of [
    ["N", N, 1],
    ["C", C, 1],
    ["H", H, 1],
    ["W", W, 1],
    ["kh", kh, 1],
    ["kw", kw, 1],
    ["sh", sh, 1],
    ["sw", sw, 1],
    ["ph", ph, 0],
    ["pw", pw, 0],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < least) throw new RangeError(`${fn}: ${name} must be an integer >= ${least} (got ${v})`);
  }
}
