// Scalar math the host needs for numbers that decide results (init scales, ...). Computed here,
// not with the host's Math, so every engine agrees on the bits.

/** sqrt(x), correctly rounded (the wasm instruction). */
export function f64_sqrt(x: f64): f64 {
  return Math.sqrt(x);
}
