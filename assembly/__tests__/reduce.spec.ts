import { FLOAT32, SHIFT } from "../real";
import { sum_squares, sum_abs, add_sign, argmax_rows, gather_rows } from "../reduce";
import { sum_rows } from "./whole";
import {
  sum_rows__scalar, sum_squares__scalar, sum_abs__scalar, add_sign__scalar, argmax_rows__scalar, gather_rows__scalar,
} from "../reference/reduce";
import { DTYPE, LENGTHS, pattern, buffer, firstDifference, firstIntDifference, guardIntact, ints, intsGuardIntact } from "./helpers";

// Row/column counts for the 2-D kernels: below, at and above the 4-lane width, odd, and 17.
const DIMS: i32[] = [1, 2, 3, 4, 5, 7, 17];

function copyOf(src: usize, n: i32): usize {
  const p = buffer(n);
  memory.copy(p, src, <usize>n << SHIFT);
  return p;
}

function agree(name: string, fast: usize, slow: usize, n: i32): void {
  const at = firstDifference(fast, slow, n);
  let detail = "";
  if (at >= 0) {
    detail = " kernel " + load<real>(fast + (<usize>at << SHIFT)).toString() + " twin " + load<real>(slow + (<usize>at << SHIFT)).toString();
  }
  expect<i32>(at).toBe(-1, DTYPE + " " + name + " differs at " + at.toString() + detail);
  expect<bool>(guardIntact(fast, n)).toBe(true, DTYPE + " " + name + " wrote past the end");
}

function agreeInts(name: string, fast: usize, slow: usize, n: i32): void {
  const at = firstIntDifference(fast, slow, n);
  expect<i32>(at).toBe(-1, DTYPE + " " + name + " differs at " + at.toString());
  expect<bool>(intsGuardIntact(fast, n)).toBe(true, DTYPE + " " + name + " wrote past the end");
}

function near(name: string, got: f64, want: f64, tol: f64): void {
  const err = Math.abs(got - want);
  expect<bool>(err <= tol).toBe(true, DTYPE + " " + name + ": got " + got.toString() + " want " + want.toString() + " err " + err.toString() + " tol " + tol.toString());
}

function setReals(p: usize, values: real[]): void {
  for (let i = 0; i < values.length; i++) store<real>(p + (<usize>i << SHIFT), values[i]);
}

function realAt(p: usize, i: i32): real {
  return load<real>(p + (<usize>i << SHIFT));
}

function i32At(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

/** pattern() rounded to multiples of 0.5 in [-1, 1]: few distinct values, so rows have ties. */
function coarse(n: i32, salt: i32): usize {
  const p = pattern(n, salt);
  for (let i = 0; i < n; i++) store<real>(p + (<usize>i << SHIFT), <real>Math.round(<f64>realAt(p, i) * 2) / 2);
  return p;
}

/** Runs sum_rows (both modes) and argmax on a rows x cols case against the twins. */
function sumRowsCase(rows: i32, cols: i32, salt: i32): void {
  const tag = " rows=" + rows.toString() + " cols=" + cols.toString();
  const x = pattern(rows * cols, salt);
  const a = buffer(cols), b = buffer(cols);
  // Stale values in y must be overwritten when accumulate is false.
  for (let j = 0; j < cols; j++) { store<real>(a + (<usize>j << SHIFT), 9); store<real>(b + (<usize>j << SHIFT), 9); }
  sum_rows(a, x, rows, cols, false); sum_rows__scalar(b, x, rows, cols, false);
  agree("sum_rows" + tag, a, b, cols);
  const y0 = pattern(cols, salt + 1);
  const c = copyOf(y0, cols), d = copyOf(y0, cols);
  sum_rows(c, x, rows, cols, true); sum_rows__scalar(d, x, rows, cols, true);
  agree("sum_rows accumulate" + tag, c, d, cols);
}

describe("reductions vs scalar twins, " + DTYPE, () => {
  it("sum_rows, bit-exact (same summation order: row by row per column), rows/cols in 1..17 and long", () => {
    for (let r = 0; r < DIMS.length; r++) {
      for (let c = 0; c < DIMS.length; c++) sumRowsCase(DIMS[r], DIMS[c], r * 31 + c);
    }
    sumRowsCase(3, 1000, 7);
    sumRowsCase(1000, 5, 8);
    sumRowsCase(0, 5, 9);
  });
  it("sum_rows by hand, with and without accumulate; rows = 0", () => {
    // x = [[1, 2, 3], [4, 5, 6]]: column sums [5, 7, 9]; accumulated onto [10, 20, 30]: [15, 27, 39].
    const x = buffer(6), y = buffer(3);
    setReals(x, [1, 2, 3, 4, 5, 6]);
    setReals(y, [10, 20, 30]);
    sum_rows(y, x, 2, 3, true);
    expect<real>(realAt(y, 0)).toBe(15); expect<real>(realAt(y, 1)).toBe(27); expect<real>(realAt(y, 2)).toBe(39);
    sum_rows(y, x, 2, 3, false);
    expect<real>(realAt(y, 0)).toBe(5); expect<real>(realAt(y, 1)).toBe(7); expect<real>(realAt(y, 2)).toBe(9);
    expect<bool>(guardIntact(y, 3)).toBe(true);
    // No rows: accumulate leaves y alone, overwrite gives zeros.
    sum_rows(y, x, 0, 3, true);
    expect<real>(realAt(y, 0)).toBe(5); expect<real>(realAt(y, 2)).toBe(9);
    sum_rows(y, x, 0, 3, false);
    expect<real>(realAt(y, 0)).toBe(0); expect<real>(realAt(y, 1)).toBe(0); expect<real>(realAt(y, 2)).toBe(0);
    expect<bool>(guardIntact(y, 3)).toBe(true);
  });

  it("sum_squares and sum_abs against exact-term f64 sums (n in 0, 1, 3, 4, 5, 17, 1000, 100000)", () => {
    // The kernel sums four lanes separately, so its f64 summation order differs from the twin's
    // sequential one: that costs at most about n * 2^-53 of the total (all terms are >= 0). The
    // kernel also rounds each square to `real` before widening (the twin's squares are exact in
    // float32): at most 2^-24 (2^-53 in float64) of each term, so of the total.
    const sizes: i32[] = [0, 1, 3, 4, 5, 17, 1000, 100000];
    for (let k = 0; k < sizes.length; k++) {
      const n = sizes[k];
      const x = pattern(n, 60 + k);
      const tag = " n=" + n.toString();
      const sq = sum_squares__scalar(x, n);
      near("sum_squares" + tag, sum_squares(x, n), sq, (Math.pow(2, FLOAT32 ? -24 : -53) + <f64>n * Math.pow(2, -52)) * sq);
      const ab = sum_abs__scalar(x, n);
      near("sum_abs" + tag, sum_abs(x, n), ab, <f64>n * Math.pow(2, -52) * ab);
    }
  });
  it("sum_squares and sum_abs by hand", () => {
    // 1^2 + 2^2 + ... + 17^2 = 17 * 18 * 35 / 6 = 1785, and 1 + ... + 17 = 153, exactly;
    // signs alternate so abs matters. Empty input gives 0.
    const x = buffer(17);
    for (let i = 0; i < 17; i++) store<real>(x + (<usize>i << SHIFT), <real>((i & 1) ? -(i + 1) : i + 1));
    expect<f64>(sum_squares(x, 17)).toBe(1785);
    expect<f64>(sum_abs(x, 17)).toBe(153);
    expect<f64>(sum_squares(x, 0)).toBe(0);
    expect<f64>(sum_abs(x, 0)).toBe(0);
    // [3, -4] -> 25 and 7.
    setReals(x, [3, -4]);
    expect<f64>(sum_squares(x, 2)).toBe(25);
    expect<f64>(sum_abs(x, 2)).toBe(7);
  });

  it("add_sign, bit-exact (n in 0, 1, 3, 4, 5, 17, 1000; alpha > 0 and < 0)", () => {
    const alphas: real[] = [1e-2, -0.3];
    for (let q = 0; q < alphas.length; q++) {
      for (let k = 0; k < LENGTHS.length; k++) {
        const n = LENGTHS[k];
        const x = pattern(n, 70 + k), y0 = pattern(n, 80 + k);
        const a = copyOf(y0, n), b = copyOf(y0, n);
        add_sign(a, x, n, alphas[q]); add_sign__scalar(b, x, n, alphas[q]);
        agree("add_sign n=" + n.toString() + " alpha=" + alphas[q].toString(), a, b, n);
      }
    }
  });
  it("add_sign by hand: sign(0) = sign(-0) = 0, NaN adds nothing, in the SIMD body and the tail", () => {
    // x = [-2, 0, 3, NaN, -0, 5, -1, 0, NaN], alpha 0.5, y = 1: [0.5, 1, 1.5, 1, 1, 1.5, 0.5, 1, 1]
    const x = buffer(9), y = buffer(9);
    setReals(x, [-2, 0, 3, NaN, -0.0, 5, -1, 0, NaN]);
    for (let i = 0; i < 9; i++) store<real>(y + (<usize>i << SHIFT), 1);
    add_sign(y, x, 9, 0.5);
    const want: real[] = [0.5, 1, 1.5, 1, 1, 1.5, 0.5, 1, 1];
    for (let i = 0; i < 9; i++) expect<real>(realAt(y, i)).toBe(want[i], "element " + i.toString());
    expect<bool>(guardIntact(y, 9)).toBe(true);
  });

  it("argmax_rows, exact (smooth and tied data), rows/cols in 1..17 and long", () => {
    for (let r = 0; r < DIMS.length; r++) {
      for (let c = 0; c < DIMS.length; c++) {
        const rows = DIMS[r], cols = DIMS[c];
        const tag = " rows=" + rows.toString() + " cols=" + cols.toString();
        for (let tied = 0; tied < 2; tied++) {
          const x = tied ? coarse(rows * cols, r * 17 + c) : pattern(rows * cols, r * 17 + c);
          const a = ints(rows), b = ints(rows);
          argmax_rows(a, x, rows, cols); argmax_rows__scalar(b, x, rows, cols);
          agreeInts("argmax" + (tied ? " tied" : "") + tag, a, b, rows);
        }
      }
    }
    const x = coarse(64 * 1000, 5), a = ints(64), b = ints(64);
    argmax_rows(a, x, 64, 1000); argmax_rows__scalar(b, x, 64, 1000);
    agreeInts("argmax rows=64 cols=1000", a, b, 64);
  });
  it("argmax_rows by hand: first maximum wins, NaN never wins", () => {
    const cols = 4;
    const rows: real[][] = [
      [1, 3, 3, 2],                         // tie between 1 and 2: first -> 1
      [-3, -1, -2, -1],                     // all negative, tie -> 1
      [NaN, 1, 2, 0],                       // NaN first -> 2
      [1, NaN, 1, 0],                       // NaN between tied maxima -> 0
      [NaN, NaN, NaN, NaN],                 // nothing comparable -> 0
      [-Infinity, -Infinity, -Infinity, -Infinity], // -> 0
      [-Infinity, 5, NaN, 5],               // -> 1
      [NaN, -Infinity, -Infinity, NaN],     // the only non-NaN values are -Infinity -> 1
      [0, -0.0, 0, 0],                      // 0 and -0 compare equal -> 0
    ];
    const want: i32[] = [1, 1, 2, 0, 0, 0, 1, 1, 0];
    const n = rows.length;
    const x = buffer(n * cols), out = ints(n);
    for (let i = 0; i < n; i++) setReals(x + (<usize>(i * cols) << SHIFT), rows[i]);
    argmax_rows(out, x, n, cols);
    for (let i = 0; i < n; i++) expect<i32>(i32At(out, i)).toBe(want[i], "row " + i.toString());
    expect<bool>(intsGuardIntact(out, n)).toBe(true);
  });

  it("gather_rows, exact, count in 0, 1, 3, 4, 5, 17, 1000 and row sizes 1, 3, 4, 5, 17", () => {
    const sizes: i32[] = [1, 3, 4, 5, 17];
    const sourceRows = 7;
    for (let s = 0; s < sizes.length; s++) {
      const rowSize = sizes[s];
      const x = pattern(sourceRows * rowSize, 90 + s);
      for (let k = 0; k < LENGTHS.length; k++) {
        const count = LENGTHS[k];
        // Indices in any order, with repeats, first and last source rows included.
        const idx = ints(count);
        for (let i = 0; i < count; i++) store<i32>(idx + (<usize>i << 2), (i * 5 + 6) % sourceRows);
        const a = buffer(count * rowSize), b = buffer(count * rowSize);
        gather_rows(a, x, idx, count, rowSize); gather_rows__scalar(b, x, idx, count, rowSize);
        agree("gather_rows count=" + count.toString() + " rowSize=" + rowSize.toString(), a, b, count * rowSize);
      }
    }
  });
  it("gather_rows by hand", () => {
    // x = [[0, 1], [10, 11], [20, 21]], idx = [2, 0, 2] -> [[20, 21], [0, 1], [20, 21]]
    const x = buffer(6), idx = ints(3), out = buffer(6);
    setReals(x, [0, 1, 10, 11, 20, 21]);
    store<i32>(idx, 2); store<i32>(idx + 4, 0); store<i32>(idx + 8, 2);
    gather_rows(out, x, idx, 3, 2);
    const want: real[] = [20, 21, 0, 1, 20, 21];
    for (let i = 0; i < 6; i++) expect<real>(realAt(out, i)).toBe(want[i], "element " + i.toString());
    expect<bool>(guardIntact(out, 6)).toBe(true);
  });
});
