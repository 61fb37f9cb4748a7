// Scalar math the host needs for numbers that decide results (init scales, ...). Computed here,
// not with the host's Math, so every engine agrees on the bits.
import { cosBounded } from "./cos";

/** sqrt(x), correctly rounded (the wasm instruction). */
export function f64_sqrt(x: f64): f64 {
  return Math.sqrt(x);
}

/** cos(pi * x): the cosine learning-rate schedule's curve (x is the annealing progress in [0, 1]). */
export function f64_cos_pi(x: f64): f64 {
  return cosBounded(Math.PI * x);
}
