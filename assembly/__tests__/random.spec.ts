import { cosBounded } from "../cos";
import { rand_uniform, rand_normal, dropout_mask, i32_rand_below, randomBits, streamKey } from "../random";
import { FLOAT32, SHIFT } from "../real";
import { DTYPE, LENGTHS, buffer, firstDifference, firstIntDifference, guardIntact, ints, intsGuardIntact } from "./helpers";

// The streams are deterministic (a pure function of seed and counter), so every statistical check
// below has one fixed outcome: it cannot flake, and a 5-sigma (or p = 0.001) threshold still fails
// for any real bias (an inverted comparison, a keep probability of p instead of 1 - p, a skewed
// integer map). 100k draws keep the whole file well under a second.
const DRAWS = 100000;

/** One ulp of 1 in `real`. */
const EPSILON: f64 = FLOAT32 ? 1.1920928955078125e-7 : 2.220446049250313e-16;

function realAt(p: usize, i: i32): real {
  return load<real>(p + (<usize>i << SHIFT));
}

function i32At(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

describe("dropout_mask, " + DTYPE, () => {
  it("drops a fraction p (within 5 sigma over 100k draws) and keeps exactly 1/(1-p), p in 0.1, 0.3, 0.5, 0.9", () => {
    const ps: real[] = [0.1, 0.3, 0.5, 0.9];
    const mask = buffer(DRAWS);
    for (let q = 0; q < ps.length; q++) {
      const p = ps[q];
      const tag = " p=" + p.toString();
      dropout_mask(mask, DRAWS, p, 42, 0);
      // The kept value is 1/(1-p) rounded to `real` (1 - p is rounded first: within 2 ulp of the true value).
      const keep: real = <real>1 / (<real>1 - p);
      const exact: f64 = 1.0 / (1.0 - <f64>p);
      expect<bool>(Math.abs(<f64>keep - exact) <= 2 * EPSILON * exact).toBe(true, "keep value" + tag);
      let dropped = 0, other = 0;
      for (let i = 0; i < DRAWS; i++) {
        const v = realAt(mask, i);
        if (v == 0) dropped++;
        else if (v != keep) other++;
      }
      expect<i32>(other).toBe(0, "values other than 0 and 1/(1-p)" + tag);
      const frac = <f64>dropped / <f64>DRAWS;
      const sigma = Math.sqrt(<f64>p * (1 - <f64>p) / <f64>DRAWS);
      expect<bool>(Math.abs(frac - <f64>p) <= 5 * sigma).toBe(true, "dropped fraction " + frac.toString() + tag);
      expect<bool>(guardIntact(mask, DRAWS)).toBe(true);
    }
  });
  it("p = 0 keeps everything, with value exactly 1", () => {
    const mask = buffer(DRAWS);
    dropout_mask(mask, DRAWS, 0, 7, 0);
    let bad = 0;
    for (let i = 0; i < DRAWS; i++) if (realAt(mask, i) != 1) bad++;
    expect<i32>(bad).toBe(0);
  });
  it("drops exactly where the 24-bit uniform of the same seed and offset is below p (the seed's rand > p keeps), in both dtypes", () => {
    const n = 10000, p: real = 0.37;
    const mask = buffer(n), u = buffer(n);
    dropout_mask(mask, n, p, 1234, 99);
    rand_uniform(u, n, 1234, 99, 0, 1);
    let bad = 0;
    // The float64 uniform has 53 bits; its top 24 are the float32 uniform the masks compare.
    for (let i = 0; i < n; i++) if ((realAt(mask, i) == 0) != (<real><f32>(Math.floor(<f64>realAt(u, i) * 16777216.0) / 16777216.0) < p)) bad++;
    expect<i32>(bad).toBe(0);
  });
  it("element i depends only on (seed, offset + i): offset 7 is the tail of offset 0; another seed differs", () => {
    const n = 1000, p: real = 0.5;
    const a = buffer(n + 7), b = buffer(n), c = buffer(n);
    dropout_mask(a, n + 7, p, 5, 0);
    dropout_mask(b, n, p, 5, 7);
    expect<i32>(firstDifference(a + (7 << SHIFT), b, n)).toBe(-1);
    // A large offset (above 2^32) works the same way.
    const big: f64 = 1099511627776; // 2^40
    dropout_mask(a, n + 7, p, 5, big);
    dropout_mask(b, n, p, 5, big + 7);
    expect<i32>(firstDifference(a + (7 << SHIFT), b, n)).toBe(-1);
    // Seed 6 agrees with seed 5 on about half the positions, not all.
    dropout_mask(b, n, p, 5, 0);
    dropout_mask(c, n, p, 6, 0);
    let same = 0;
    for (let i = 0; i < n; i++) if (realAt(b, i) == realAt(c, i)) same++;
    expect<bool>(same > 400 && same < 600).toBe(true, "positions equal across seeds: " + same.toString());
  });
  it("writes exactly n values (n in 0, 1, 3, 4, 5, 17, 1000)", () => {
    for (let k = 0; k < LENGTHS.length; k++) {
      const n = LENGTHS[k];
      const mask = buffer(n);
      dropout_mask(mask, n, 0.5, 3, 0);
      expect<bool>(guardIntact(mask, n)).toBe(true, "n=" + n.toString());
    }
  });
});

describe("i32_rand_below", () => {
  it("always in [0, bound) for bound in 1, 2, 3, 10, 1000, 2^31 - 1", () => {
    const bounds: u32[] = [1, 2, 3, 10, 1000, 0x7fffffff];
    const out = ints(DRAWS);
    for (let q = 0; q < bounds.length; q++) {
      const bound = bounds[q];
      i32_rand_below(out, DRAWS, bound, 11, 0);
      let bad = 0;
      for (let i = 0; i < DRAWS; i++) if (<u32>i32At(out, i) >= bound) bad++;
      expect<i32>(bad).toBe(0, "out of range for bound " + bound.toString());
      expect<bool>(intsGuardIntact(out, DRAWS)).toBe(true);
    }
  });
  it("roughly uniform: chi-square over 100k draws below the p = 0.001 point (bound 3: 13.82, bound 10: 27.88)", () => {
    const bounds: u32[] = [3, 10];
    const limits: f64[] = [13.82, 27.88];
    const out = ints(DRAWS);
    for (let q = 0; q < bounds.length; q++) {
      const bound = <i32>bounds[q];
      i32_rand_below(out, DRAWS, bound, 12, 0);
      const counts = new Array<i32>(bound).fill(0);
      for (let i = 0; i < DRAWS; i++) counts[i32At(out, i)]++;
      const expected = <f64>DRAWS / <f64>bound;
      let chi2: f64 = 0;
      for (let k = 0; k < bound; k++) chi2 += (<f64>counts[k] - expected) * (<f64>counts[k] - expected) / expected;
      expect<bool>(chi2 < limits[q]).toBe(true, "bound " + bound.toString() + " chi-square " + chi2.toString());
    }
  });
  it("bound 2^31 - 1 uses the whole range: mean within 5 sigma of the middle, both halves hit", () => {
    const bound: f64 = 2147483647;
    const out = ints(DRAWS);
    i32_rand_below(out, DRAWS, <u32>bound, 13, 0);
    let sum: f64 = 0, high = 0;
    for (let i = 0; i < DRAWS; i++) {
      const v = <f64>i32At(out, i);
      sum += v;
      if (v >= bound / 2) high++;
    }
    const mean = sum / <f64>DRAWS;
    const sigma = bound / Math.sqrt(12 * <f64>DRAWS);
    expect<bool>(Math.abs(mean - (bound - 1) / 2) <= 5 * sigma).toBe(true, "mean " + mean.toString());
    expect<bool>(high > 49000 && high < 51000).toBe(true, "upper half count " + high.toString());
  });
  it("bound 1 gives only 0; element i depends only on (seed, offset + i)", () => {
    const n = 1000;
    const a = ints(n + 5), b = ints(n);
    i32_rand_below(a, n, 1, 9, 0);
    let nonzero = 0;
    for (let i = 0; i < n; i++) if (i32At(a, i) != 0) nonzero++;
    expect<i32>(nonzero).toBe(0);
    i32_rand_below(a, n + 5, 1000, 9, 0);
    i32_rand_below(b, n, 1000, 9, 5);
    expect<i32>(firstIntDifference(a + 20, b, n)).toBe(-1);
  });
});

describe("rand_uniform and rand_normal, " + DTYPE + " (statistics are tested from the host)", () => {
  it("uniform stays in [0, 1); normal is finite and within the Box-Muller bound |z| < 6.7", () => {
    const u = buffer(DRAWS), z = buffer(DRAWS);
    rand_uniform(u, DRAWS, 21, 0, 0, 1);
    rand_normal(z, DRAWS, 21, 0, 0, 1);
    let badU = 0, badZ = 0;
    for (let i = 0; i < DRAWS; i++) {
      const x = realAt(u, i);
      if (!(x >= 0 && x < 1)) badU++;
      const y = realAt(z, i);
      if (!(abs(y) < 6.7)) badZ++;
    }
    expect<i32>(badU).toBe(0);
    expect<i32>(badZ).toBe(0);
    expect<bool>(guardIntact(u, DRAWS) && guardIntact(z, DRAWS)).toBe(true);
  });
  it("low + (high - low) * u: [0, 1) gives u bit for bit; [-b, b) stays inside and is the same map of the same draws", () => {
    const n = 1001;
    const u = buffer(n), v = buffer(n);
    rand_uniform(u, n, 99, 5, 0, 1);
    rand_uniform(v, n, 99, 5, -0.25, 0.25);
    let bad = -1;
    for (let i = 0; i < n && bad < 0; i++) {
      const want: real = <real>-0.25 + <real>0.5 * realAt(u, i);
      if (realAt(v, i) != want || !(realAt(v, i) >= -0.25 && realAt(v, i) < 0.25)) bad = i;
    }
    expect<i32>(bad).toBe(-1, "element " + bad.toString());
    expect<bool>(guardIntact(v, n)).toBe(true);
  });
  it("both dtypes draw the same numbers: the uniform is the draw's top 24 (f32) or 53 (f64) bits; the normal is f64 Box-Muller rounded to real, then mean + std * z", () => {
    const n = 4097;
    const u = buffer(n), z = buffer(n), w = buffer(n);
    const key = streamKey(1234);
    for (let offset = 0; offset < 3; offset++) {
      const base = <f64>(offset * 1000);
      rand_uniform(u, n, 1234, base, 0, 1);
      rand_normal(z, n, 1234, base, 0, 1);
      rand_normal(w, n, 1234, base, 0.5, 2);
      let bad = -1;
      for (let i = 0; i < n && bad < 0; i++) {
        const bits = randomBits(key, <u64>base + <u64>i);
        const uniform = FLOAT32 ? <real>(<f64>(bits >> 40) / 16777216.0) : <real>(<f64>(bits >> 11) / 9007199254740992.0);
        const u1 = (<f64>(bits >> 32) + 1.0) * (1.0 / 4294967296.0);
        const u2 = <f64>(bits & 0xffffffff) * (1.0 / 4294967296.0);
        const normal = <real>(Math.sqrt(-2.0 * Math.log(u1)) * cosBounded(6.283185307179586 * u2));
        if (realAt(u, i) != uniform || realAt(z, i) != normal || realAt(w, i) != <real>0.5 + <real>2 * normal) bad = i;
      }
      expect<i32>(bad).toBe(-1, "offset " + offset.toString() + " differs at " + bad.toString());
    }
    expect<bool>(guardIntact(u, n) && guardIntact(z, n) && guardIntact(w, n)).toBe(true);
  });
});
