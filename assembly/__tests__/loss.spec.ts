import { softmax_loss_soft } from "../loss";
import { FLOAT32, SHIFT } from "../real";
import { softmax_loss, softmax_loss_smoothed, svm_loss } from "./whole";
import { softmax_loss__f64, softmax_loss_smoothed__f64, softmax_loss_soft__f64, svm_loss__scalar } from "../reference/loss";
import { DTYPE, pattern, buffer, firstDifference, guardIntact, ints } from "./helpers";

// Rows (N) and classes (C): below, at and above the 4-lane width, odd, and 17.
const DIMS: i32[] = [1, 2, 3, 4, 5, 7, 17];
/** The unit roundoff of `real`: 2^-24 (f32) or 2^-53 (f64). */
const UNIT: f64 = FLOAT32 ? 5.960464477539063e-8 : 1.1102230246251565e-16;

function near(name: string, got: f64, want: f64, tol: f64): void {
  const err = Math.abs(got - want);
  expect<bool>(err <= tol).toBe(true, DTYPE + " " + name + ": got " + got.toString() + " want " + want.toString() + " err " + err.toString() + " tol " + tol.toString());
}

/** Scores in [-scale, scale) plus a per-row shift (shift * ((i mod 3) - 1)). scores: (n, c) */
function scoresOf(n: i32, c: i32, salt: i32, scale: real, shift: real): usize {
  const p = pattern(n * c, salt);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) {
      const o = <usize>(i * c + j) << SHIFT;
      store<real>(p + o, load<real>(p + o) * scale + shift * <real>(i % 3 - 1));
    }
  }
  return p;
}

/** Scores that are multiples of 0.5 in [-2, 2]: many margins s_j - s_y + 1 are exactly 0. */
function coarseScores(n: i32, c: i32, salt: i32): usize {
  const p = pattern(n * c, salt);
  for (let k = 0; k < n * c; k++) store<real>(p + (<usize>k << SHIFT), <real>Math.round(<f64>load<real>(p + (<usize>k << SHIFT)) * 4) / 2);
  return p;
}

/** Labels y[i] = (7 i + 3) mod c: every class position, first and last included. y: i32 (n) */
function labelsOf(n: i32, c: i32): usize {
  const y = ints(n);
  for (let i = 0; i < n; i++) store<i32>(y + (<usize>i << 2), (7 * i + 3) % c);
  return y;
}

function setReals(p: usize, values: real[]): void {
  for (let i = 0; i < values.length; i++) store<real>(p + (<usize>i << SHIFT), values[i]);
}

function realAt(p: usize, k: i32): f64 {
  return <f64>load<real>(p + (<usize>k << SHIFT));
}

/**
 * Softmax kernel (in `real`, musl's exp/log) against the f64 twin. Error budget, per row, in units
 * of UNIT (2^-24 in float32; in float64 the twin computes almost what the kernel does): the sum of c exponentials (each within 1 ulp) is off by at most about c + 1 relative,
 * log adds 1 ulp of log(sum), and s_y - max is rounded once (1 ulp of |s_y - max|); both of those
 * are at most the row's loss L_i. So |loss error| <= 2^-24 (c + 2 + 2 L), allowed twice that.
 * Gradient: exp(s - max) carries the rounding of s - max (relative 2^-24 |s - max| <= 2^-24 gap),
 * then the sum's error, the reciprocal, the product, the "- 1" and the 1/N scaling: at most about
 * 2^-24 (c + 6 + gap) / N per element; allowed twice that.
 */
function softmaxCase(n: i32, c: i32, salt: i32, scale: real, shift: real): void {
  const tag = " n=" + n.toString() + " c=" + c.toString() + " scale=" + scale.toString() + " shift=" + shift.toString();
  const s = scoresOf(n, c, salt, scale, shift), y = labelsOf(n, c);
  const da = buffer(n * c), db = buffer(n * c);
  const got = softmax_loss(da, s, y, n, c);
  const want = softmax_loss__f64(db, s, y, n, c);
  near("softmax loss" + tag, got, want, 2 * UNIT * (<f64>c + 2 + 2 * want));
  const gap: f64 = 2 * <f64>scale;
  const tol = 2 * UNIT * (<f64>c + 6 + gap) / <f64>n;
  let worst: f64 = 0, at = -1;
  for (let k = 0; k < n * c; k++) {
    const e = Math.abs(realAt(da, k) - realAt(db, k));
    if (!(e <= worst)) { worst = e; at = k; }
  }
  expect<bool>(worst <= tol).toBe(true, DTYPE + " softmax dscores" + tag + " max err " + worst.toString() + " at " + at.toString() + " tol " + tol.toString());
  expect<bool>(guardIntact(da, n * c)).toBe(true, "softmax dscores" + tag + " wrote past the end");
  // Without a gradient buffer the loss is the same number.
  expect<f64>(softmax_loss(0, s, y, n, c)).toBe(got, "softmax loss without dscores" + tag);
}

/** SVM kernel against its twin in `real`: same margins, same f64 summation order, so bit-exact. */
function svmCase(n: i32, c: i32, s: usize, label: string): void {
  const tag = " " + label + " n=" + n.toString() + " c=" + c.toString();
  const y = labelsOf(n, c);
  const da = buffer(n * c), db = buffer(n * c);
  const got = svm_loss(da, s, y, n, c);
  const want = svm_loss__scalar(db, s, y, n, c);
  expect<f64>(got).toBe(want, "svm loss" + tag);
  const at = firstDifference(da, db, n * c);
  expect<i32>(at).toBe(-1, "svm dscores" + tag + " differs at " + at.toString());
  expect<bool>(guardIntact(da, n * c)).toBe(true, "svm dscores" + tag + " wrote past the end");
  expect<f64>(svm_loss(0, s, y, n, c)).toBe(got, "svm loss without dscores" + tag);
}

describe("softmax loss vs f64 twin, " + DTYPE, () => {
  it("n, c in 1, 2, 3, 4, 5, 7, 17; n = 64 c = 10; n = 3 c = 1000", () => {
    for (let a = 0; a < DIMS.length; a++) {
      for (let b = 0; b < DIMS.length; b++) softmaxCase(DIMS[a], DIMS[b], a * 13 + b, 4, 0);
    }
    softmaxCase(64, 10, 1, 4, 0);
    softmaxCase(3, 1000, 2, 4, 0);
  });
  it("numerically stable: rows shifted by +-1000 (exp would overflow without the row max)", () => {
    softmaxCase(6, 5, 3, 4, 1000);
    softmaxCase(17, 17, 4, 4, 1000);
  });
  it("huge gaps: probabilities below the f32 range still give a finite loss", () => {
    // Gaps up to 120: exp(-120) is 0 in f32 (tiny in f64), yet the loss is log(sum) - (s_y - max), never log(0).
    softmaxCase(7, 5, 5, 60, 0);
    softmaxCase(17, 3, 6, 60, 0);
  });
  it("2 x 3 by hand", () => {
    // scores = [[1, 2, 3], [1, 1, 1]], y = [2, 0].
    // Row 0: subtract max 3 -> [-2, -1, 0]; exp -> [0.135335283, 0.367879441, 1], sum 1.503214724;
    //        p = [0.0900305732, 0.244728471, 0.665240956]; loss_0 = log(1.503214724) - 0 = 0.407605964.
    // Row 1: all equal -> p = 1/3 each; loss_1 = log 3 = 1.098612289.
    // loss = (0.407605964 + 1.098612289) / 2 = 0.753109127.
    // dscores = (p - onehot(y)) / 2 = [[0.0450152866, 0.122364236, -0.167379522],
    //                                  [-0.333333333, 0.166666667, 0.166666667]].
    const s = buffer(6), y = ints(2), d = buffer(6);
    setReals(s, [1, 2, 3, 1, 1, 1]);
    store<i32>(y, 2); store<i32>(y + 4, 0);
    near("loss", softmax_loss(d, s, y, 2, 3), 0.753109127, 1e-6);
    const want: f64[] = [0.0450152866, 0.122364236, -0.167379522, -0.333333333, 0.166666667, 0.166666667];
    for (let k = 0; k < 6; k++) near("dscores[" + k.toString() + "]", realAt(d, k), want[k], 1e-7);
    expect<bool>(guardIntact(d, 6)).toBe(true);
  });
});

describe("SVM loss vs scalar twin (bit-exact), " + DTYPE, () => {
  it("n, c in 1, 2, 3, 4, 5, 7, 17, smooth and coarse (exact-zero margins); n = 64 c = 10; n = 3 c = 1000", () => {
    for (let a = 0; a < DIMS.length; a++) {
      for (let b = 0; b < DIMS.length; b++) {
        const n = DIMS[a], c = DIMS[b];
        svmCase(n, c, scoresOf(n, c, a * 13 + b, 2, 0), "smooth");
        svmCase(n, c, coarseScores(n, c, a * 13 + b), "coarse");
      }
    }
    svmCase(64, 10, coarseScores(64, 10, 7), "coarse");
    svmCase(3, 1000, scoresOf(3, 1000, 8, 2, 0), "smooth");
  });
  it("2 x 3 by hand, with a margin exactly 0 (inactive)", () => {
    // Row 0: s = [3, 2, 5], y = 0: margins j=1: 2 - 3 + 1 = 0 (inactive), j=2: 5 - 3 + 1 = 3 -> loss_0 = 3
    // Row 1: s = [1.5, -1, 2], y = 2: margins j=0: 1.5 - 2 + 1 = 0.5, j=1: -1 - 2 + 1 = -2 -> loss_1 = 0.5
    // loss = (3 + 0.5) / 2 = 1.75
    // dscores: 1/N on each active margin, -(active count)/N on the label:
    //   [[-0.5, 0, 0.5], [0.5, 0, -0.5]]
    const s = buffer(6), y = ints(2), d = buffer(6);
    setReals(s, [3, 2, 5, 1.5, -1, 2]);
    store<i32>(y, 0); store<i32>(y + 4, 2);
    expect<f64>(svm_loss(d, s, y, 2, 3)).toBe(1.75);
    const want: f64[] = [-0.5, 0, 0.5, 0.5, 0, -0.5];
    for (let k = 0; k < 6; k++) expect<f64>(realAt(d, k)).toBe(want[k], "dscores[" + k.toString() + "]");
    expect<bool>(guardIntact(d, 6)).toBe(true);
  });
});

/** Soft labels: row i mixes classes (7i + 3) mod c and (3i + 1) mod c with weights w, 1 - w. y: (n, c) */
function softLabelsOf(n: i32, c: i32, w: real): usize {
  const y = buffer(n * c);
  for (let i = 0; i < n; i++) {
    const a = (7 * i + 3) % c, b = (3 * i + 1) % c;
    const o = <usize>i * <usize>c;
    store<real>(y + ((o + <usize>a) << SHIFT), load<real>(y + ((o + <usize>a) << SHIFT)) + w);
    store<real>(y + ((o + <usize>b) << SHIFT), load<real>(y + ((o + <usize>b) << SHIFT)) + (1 - w));
  }
  return y;
}

describe("softmax loss with soft labels, " + DTYPE, () => {
  it("vs f64 twin: n, c in 1, 2, 3, 4, 5, 7, 17, mixing weight 0.3; n = 64 c = 10", () => {
    for (let a = 0; a < DIMS.length; a++) {
      for (let b = 0; b < DIMS.length; b++) {
        const n = DIMS[a], c = DIMS[b];
        const tag = " n=" + n.toString() + " c=" + c.toString();
        const s = scoresOf(n, c, a * 13 + b, 4, 0), y = softLabelsOf(n, c, 0.3);
        const da = buffer(n * c), db = buffer(n * c);
        const got = softmax_loss_soft(da, s, y, n, c);
        const want = softmax_loss_soft__f64(db, s, y, n, c);
        // As for integer labels, with the row's loss a weighted sum of two such terms.
        near("soft loss" + tag, got, want, 2 * UNIT * (<f64>c + 4 + 2 * want));
        let worst: f64 = 0;
        for (let k = 0; k < n * c; k++) worst = Math.max(worst, Math.abs(realAt(da, k) - realAt(db, k)));
        expect<bool>(worst <= 2 * UNIT * (<f64>c + 8 + 8) / <f64>n).toBe(true, "soft dscores" + tag + " err " + worst.toString());
        expect<bool>(guardIntact(da, n * c)).toBe(true);
        expect<f64>(softmax_loss_soft(0, s, y, n, c)).toBe(got, "without dscores" + tag);
      }
    }
  });
  it("one-hot soft labels give exactly the integer-label bits (loss and dscores)", () => {
    for (let a = 0; a < DIMS.length; a++) {
      const n = DIMS[a], c = 10;
      const s = scoresOf(n, c, a, 4, 0), y = labelsOf(n, c), soft = softLabelsOf(n, c, 1);
      // softLabelsOf with w = 1 puts 1 at (7i + 3) mod c and 0 at the other class: labelsOf's class.
      const da = buffer(n * c), db = buffer(n * c);
      expect<f64>(softmax_loss_soft(da, s, soft, n, c)).toBe(softmax_loss(db, s, y, n, c));
      expect<i32>(firstDifference(da, db, n * c)).toBe(-1);
    }
  });
  it("1 x 3 by hand: scores [1, 2, 3], y = [0.25, 0, 0.75]", () => {
    // log softmax = [-2.407605964, -1.407605964, -0.407605964]
    // loss = 0.25 * 2.407605964 + 0.75 * 0.407605964 = 0.907605964
    // dscores = p - y = [0.0900305732 - 0.25, 0.244728471, 0.665240956 - 0.75]
    const s = buffer(3), y = buffer(3), d = buffer(3);
    setReals(s, [1, 2, 3]);
    setReals(y, [0.25, 0, 0.75]);
    near("loss", softmax_loss_soft(d, s, y, 1, 3), 0.907605964, 1e-6);
    const want: f64[] = [-0.1599694268, 0.244728471, -0.084759044];
    for (let k = 0; k < 3; k++) near("dscores[" + k.toString() + "]", realAt(d, k), want[k], 1e-7);
  });
});

describe("softmax loss with label smoothing, " + DTYPE, () => {
  it("vs f64 twin: n, c in 1, 2, 3, 4, 5, 7, 17, eps 0.1 and 0.5; n = 64 c = 10", () => {
    const epss: real[] = [0.1, 0.5];
    for (let e = 0; e < epss.length; e++) {
      for (let a = 0; a < DIMS.length; a++) {
        for (let b = 0; b < DIMS.length; b++) {
          const n = DIMS[a], c = DIMS[b];
          const tag = " n=" + n.toString() + " c=" + c.toString() + " eps=" + epss[e].toString();
          const s = scoresOf(n, c, a * 13 + b, 4, 0), y = labelsOf(n, c);
          const da = buffer(n * c), db = buffer(n * c);
          const got = softmax_loss_smoothed(da, s, y, n, c, epss[e]);
          const want = softmax_loss_smoothed__f64(db, s, y, n, c, <f64>epss[e]);
          near("smoothed loss" + tag, got, want, 2 * UNIT * (<f64>c + 4 + 2 * want));
          let worst: f64 = 0;
          for (let k = 0; k < n * c; k++) worst = Math.max(worst, Math.abs(realAt(da, k) - realAt(db, k)));
          expect<bool>(worst <= 2 * UNIT * (<f64>c + 8 + 8) / <f64>n).toBe(true, DTYPE + " smoothed dscores" + tag + " err " + worst.toString());
          expect<bool>(guardIntact(da, n * c)).toBe(true);
          expect<f64>(softmax_loss_smoothed(0, s, y, n, c, epss[e])).toBe(got, "without dscores" + tag);
        }
      }
    }
  });
  it("eps 0 gives exactly the unsmoothed bits (loss and dscores)", () => {
    for (let a = 0; a < DIMS.length; a++) {
      const n = DIMS[a], c = 10;
      const s = scoresOf(n, c, a, 4, 0), y = labelsOf(n, c);
      const da = buffer(n * c), db = buffer(n * c);
      expect<f64>(softmax_loss_smoothed(da, s, y, n, c, 0)).toBe(softmax_loss(db, s, y, n, c));
      expect<i32>(firstDifference(da, db, n * c)).toBe(-1);
    }
  });
  it("1 x 3 by hand: scores [1, 2, 3], y = 2, eps 0.3: q = [0.1, 0.1, 0.8]", () => {
    // log p = [-2.407605964, -1.407605964, -0.407605964]; loss = 0.1 * 2.407605964 + 0.1 * 1.407605964 + 0.8 * 0.407605964 = 0.707605964
    const s = buffer(3), y = ints(1), d = buffer(3);
    setReals(s, [1, 2, 3]);
    store<i32>(y, 2);
    near("loss", softmax_loss_smoothed(d, s, y, 1, 3, 0.3), 0.707605964, 1e-6);
    const want: f64[] = [0.0900305732 - 0.1, 0.244728471 - 0.1, 0.665240956 - 0.8];
    for (let k = 0; k < 3; k++) near("dscores[" + k.toString() + "]", realAt(d, k), want[k], 1e-7);
  });
});
