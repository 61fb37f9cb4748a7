// Data augmentation on image batches (N, C, H, W), seeded and counter-based (see random.ts). The
// image kernels are written over `real` (f32 or f64, see real.ts); the draws do not depend on the
// element type, so a float32 and a float64 batch given the same stream get the same flips, crops,
// squares and partners. i32_random_permutation and f64_random_beta are dtype-neutral (core only).
//
// Image i of a call draws exactly one 64-bit word, counter offset + i of stream `seed`: what
// happens to an image is a pure function of (seed, offset + i), whichever thread or call order
// computes it. Mixup's partner permutation and its λ are per batch: the permutation draws
// counters offset + 1 .. offset + n - 1 (one per Fisher-Yates step), λ its own sub-stream.
//
// Every kernel writes a new batch: `out` and `x` must not overlap. All sizes >= 0; n = 0 is a no-op.
import { cosBounded } from "./cos";
import { FLOAT32, LANES, SHIFT } from "./real";
import { mix64, randomBits, streamKey } from "./random";

// ---------------------------------------------------------------------------------------------
// The per-image draws (shared with the scalar twins in reference/augment.ts, which check the
// geometry, not the stream).

/** An integer in [0, bound) from 32 random bits (multiply-high: unbiased to 2^-32 / bound). */
@inline export function below(bits32: u64, bound: u32): i32 {
  return <i32>((bits32 * <u64>bound) >> 32);
}

/** True when image `i` is flipped: its uniform (24 bits, as uniformAt) is below p (f32 in both dtypes). */
@inline export function flipDraw(key: u64, ctr: u64, p: f32): bool {
  return <f32>(randomBits(key, ctr) >> 40) * (1.0 / 16777216.0) < p;
}

/** Crop shift dy in [-pad, pad]: the word's high 32 bits. */
@inline export function cropDy(key: u64, ctr: u64, pad: i32): i32 {
  return below(randomBits(key, ctr) >> 32, <u32>(2 * pad + 1)) - pad;
}

/** Crop shift dx in [-pad, pad]: the word's low 32 bits. */
@inline export function cropDx(key: u64, ctr: u64, pad: i32): i32 {
  return below(randomBits(key, ctr) & 0xffffffff, <u32>(2 * pad + 1)) - pad;
}

/** Cutout centre row in [0, h): the word's high 32 bits. */
@inline export function cutoutCy(key: u64, ctr: u64, h: i32): i32 {
  return below(randomBits(key, ctr) >> 32, <u32>h);
}

/** Cutout centre column in [0, w): the word's low 32 bits. */
@inline export function cutoutCx(key: u64, ctr: u64, w: i32): i32 {
  return below(randomBits(key, ctr) & 0xffffffff, <u32>w);
}

// ---------------------------------------------------------------------------------------------
// Flip

/**
 * out[i] = x[i] mirrored left-right (column j <- column w-1-j in every row and channel) when
 * image i's uniform is below p, else a copy. out, x: (n, c, h, w), not overlapping.
 */
export function random_flip(out: usize, x: usize, n: i32, c: i32, h: i32, w: i32, p: f32, seed: u32, offset: f64): void {
  const key = streamKey(seed);
  const base = <u64>offset;
  const rowBytes = <usize>w << SHIFT;
  const rows = <usize>c * <usize>h;
  const imageBytes = rows * rowBytes;
  for (let i = 0; i < n; i++) {
    const src = x + <usize>i * imageBytes;
    const dst = out + <usize>i * imageBytes;
    if (!flipDraw(key, base + <u64>i, p)) {
      memory.copy(dst, src, imageBytes);
      continue;
    }
    for (let r: usize = 0; r < rows; r++) reverseRow(dst + r * rowBytes, src + r * rowBytes, w);
  }
}

/** The lanes of v in reverse order (4 f32 or 2 f64). */
@inline function reverseLanes(v: v128): v128 {
  return FLOAT32 ? i32x4.shuffle(v, v, 3, 2, 1, 0) : v128.shuffle<u64>(v, v, 1, 0);
}

// dst[j] = src[w-1-j]: LANES values at a time from the row's end, reversed with one shuffle.
@inline function reverseRow(dst: usize, src: usize, w: i32): void {
  const lanes = <i32>LANES;
  let j = 0;
  for (; j + lanes <= w; j += lanes) {
    const v = v128.load(src + (<usize>(w - lanes - j) << SHIFT));
    v128.store(dst + (<usize>j << SHIFT), reverseLanes(v));
  }
  for (; j < w; j++) store<real>(dst + (<usize>j << SHIFT), load<real>(src + (<usize>(w - 1 - j) << SHIFT)));
}

// ---------------------------------------------------------------------------------------------
// Crop

/**
 * Random crop of the zero-padded image: out[i][ch][r][col] = x[i][ch][r + dy][col + dx] where
 * that is inside the image, else 0, with (dy, dx) uniform in [-pad, pad]^2 per image (the H x W
 * window at offset (pad + dy, pad + dx) of the image padded by pad zeros). out, x: (n, c, h, w),
 * not overlapping. Precondition: 0 <= pad < 2^30.
 */
export function random_crop(out: usize, x: usize, n: i32, c: i32, h: i32, w: i32, pad: i32, seed: u32, offset: f64): void {
  const key = streamKey(seed);
  const base = <u64>offset;
  const rowBytes = <usize>w << SHIFT;
  const planeBytes = <usize>h * rowBytes;
  for (let i = 0; i < n; i++) {
    const ctr = base + <u64>i;
    const dy = cropDy(key, ctr, pad);
    const dx = cropDx(key, ctr, pad);
    // Columns col with 0 <= col + dx < w: [c0, c1). Empty when |dx| >= w.
    const c0 = max(0, -dx);
    const c1 = min(w, w - dx);
    for (let ch = 0; ch < c; ch++) {
      const plane = <usize>(i * c + ch) * planeBytes;
      for (let r = 0; r < h; r++) {
        const dst = out + plane + <usize>r * rowBytes;
        const sr = r + dy;
        if (sr < 0 || sr >= h || c0 >= c1) {
          memory.fill(dst, 0, rowBytes);
          continue;
        }
        const src = x + plane + <usize>sr * rowBytes;
        if (c0 > 0) memory.fill(dst, 0, <usize>c0 << SHIFT);
        memory.copy(dst + (<usize>c0 << SHIFT), src + (<usize>(c0 + dx) << SHIFT), <usize>(c1 - c0) << SHIFT);
        if (c1 < w) memory.fill(dst + (<usize>c1 << SHIFT), 0, <usize>(w - c1) << SHIFT);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Cutout (DeVries and Taylor, 2017, "Improved Regularization of Convolutional Neural Networks
// with Cutout", arXiv:1708.04552)

/**
 * out[i] = x[i] with one size x size square set to 0 in every channel: rows
 * [cy - floor(size/2), cy - floor(size/2) + size) and the same for columns, clipped to the
 * image, centre (cy, cx) uniform over the h x w pixels (so squares near a border are partly
 * outside, as in the paper). out, x: (n, c, h, w), not overlapping. Precondition: h, w >= 1 when
 * n >= 1; 0 <= size < 2^30.
 */
export function cutout(out: usize, x: usize, n: i32, c: i32, h: i32, w: i32, size: i32, seed: u32, offset: f64): void {
  const key = streamKey(seed);
  const base = <u64>offset;
  const rowBytes = <usize>w << SHIFT;
  const planeBytes = <usize>h * rowBytes;
  const imageBytes = <usize>c * planeBytes;
  const half = size >> 1;
  memory.copy(out, x, <usize>n * imageBytes);
  for (let i = 0; i < n; i++) {
    const ctr = base + <u64>i;
    const top = cutoutCy(key, ctr, h) - half;
    const left = cutoutCx(key, ctr, w) - half;
    const r0 = max(0, top), r1 = min(h, top + size);
    const c0 = max(0, left), c1 = min(w, left + size);
    if (r0 >= r1 || c0 >= c1) continue;
    for (let ch = 0; ch < c; ch++) {
      const plane = out + <usize>i * imageBytes + <usize>ch * planeBytes;
      for (let r = r0; r < r1; r++) memory.fill(plane + <usize>r * rowBytes + (<usize>c0 << SHIFT), 0, <usize>(c1 - c0) << SHIFT);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Mixup (Zhang, Cisse, Dauphin, Lopez-Paz, 2018, "mixup: Beyond Empirical Risk Minimization")

/**
 * A uniformly random permutation of 0..n-1 (Fisher-Yates: step i = n-1 .. 1 swaps out[i] with
 * out[j], j uniform in [0, i] from counter offset + i). out: i32 (n)
 */
export function i32_random_permutation(out: usize, n: i32, seed: u32, offset: f64): void {
  const key = streamKey(seed);
  const base = <u64>offset;
  for (let i = 0; i < n; i++) store<i32>(out + (<usize>i << 2), i);
  for (let i = n - 1; i > 0; i--) {
    const j = below(randomBits(key, base + <u64>i) >> 32, <u32>(i + 1));
    const a = out + (<usize>i << 2), b = out + (<usize>j << 2);
    const t = load<i32>(a);
    store<i32>(a, load<i32>(b));
    store<i32>(b, t);
  }
}

// Uniform in (0, 1] with 53 bits: never 0, so its log is finite.
@inline function uniformOpen(key: u64, ctr: u64): f64 {
  return <f64>((randomBits(key, ctr) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

// Standard normal by Box-Muller in f64 from one 64-bit word. The cosine is cosBounded (Math.cos's
// bits for these arguments, test/cos-bounded.test.ts), as in random.ts: Math.cos would bring its
// large-argument table, a data segment the augment module (which imports the core's memory) may not have.
@inline function normal64(key: u64, ctr: u64): f64 {
  const bits = randomBits(key, ctr);
  const u1 = (<f64>(bits >> 32) + 1.0) * (1.0 / 4294967296.0); // (0, 1]
  const u2 = <f64>(bits & 0xffffffff) * (1.0 / 4294967296.0); // [0, 1)
  return Math.sqrt(-2.0 * Math.log(u1)) * cosBounded(6.283185307179586 * u2);
}

/**
 * log of a Gamma(a, 1) draw, a > 0, from the stream with key `key` (counters 0, 1, ...).
 * Marsaglia and Tsang (2000), "A simple method for generating gamma variables", for a >= 1; for
 * a < 1 their boost G(a) = G(a + 1) U^(1/a), kept in logs so tiny a cannot underflow to 0.
 */
export function logGamma(a: f64, key: u64): f64 {
  const boost = a < 1.0;
  const shape = boost ? a + 1.0 : a;
  const d = shape - 1.0 / 3.0;
  const c = 1.0 / Math.sqrt(9.0 * d);
  let ctr: u64 = 0;
  let logG: f64 = 0;
  while (true) {
    const z = normal64(key, ctr++);
    let v = 1.0 + c * z;
    if (v <= 0) continue;
    v = v * v * v;
    const u = uniformOpen(key, ctr++);
    const z2 = z * z;
    if (u < 1.0 - 0.0331 * z2 * z2 || Math.log(u) < 0.5 * z2 + d * (1.0 - v + Math.log(v))) {
      logG = Math.log(d) + Math.log(v);
      break;
    }
  }
  if (boost) logG += Math.log(uniformOpen(key, ctr)) / a;
  return logG;
}

/**
 * λ ~ Beta(alpha, alpha) for the batch at counter `offset` of stream `seed`: G1 / (G1 + G2) with
 * G1, G2 ~ Gamma(alpha) on two sub-streams keyed by (seed, offset), computed as
 * 1 / (1 + exp(log G2 - log G1)). Precondition: alpha > 0 and finite.
 */
export function f64_random_beta(alpha: f64, seed: u32, offset: f64): f64 {
  const word = randomBits(streamKey(seed), <u64>offset);
  const l1 = logGamma(alpha, mix64(word ^ 0x243f6a8885a308d3));
  const l2 = logGamma(alpha, mix64(word ^ 0x13198a2e03707344));
  return 1.0 / (1.0 + Math.exp(l2 - l1));
}

/**
 * out[i] = a x[i] + b x[partner[i]] with a = real(lam), b = real(1 - lam): mixup's images (and,
 * over one-hot rows, its labels, with the same lam and partner). out, x: (n, rowSize), not
 * overlapping; partner: i32 (n), each in [0, n).
 */
export function mix_rows(out: usize, x: usize, partner: usize, n: i32, rowSize: i32, lam: f64): void {
  const a = <real>lam;
  const b = <real>(1.0 - lam);
  const va = v128.splat<real>(a), vb = v128.splat<real>(b);
  const rowBytes = <usize>rowSize << SHIFT;
  for (let i = 0; i < n; i++) {
    const xi = x + <usize>i * rowBytes;
    const xj = x + <usize>load<i32>(partner + (<usize>i << 2)) * rowBytes;
    const o = out + <usize>i * rowBytes;
    let k = 0;
    for (; k + <i32>LANES <= rowSize; k += <i32>LANES) {
      const at = <usize>k << SHIFT;
      v128.store(o + at, v128.add<real>(v128.mul<real>(va, v128.load(xi + at)), v128.mul<real>(vb, v128.load(xj + at))));
    }
    for (; k < rowSize; k++) {
      const at = <usize>k << SHIFT;
      store<real>(o + at, a * load<real>(xi + at) + b * load<real>(xj + at));
    }
  }
}

/** out[i][j] = 1 if j == y[i] else 0. out: (n, c); y: i32 (n), each in [0, c). */
export function one_hot(out: usize, y: usize, n: i32, c: i32): void {
  memory.fill(out, 0, (<usize>n * <usize>c) << SHIFT);
  for (let i = 0; i < n; i++) store<real>(out + ((<usize>i * <usize>c + <usize>load<i32>(y + (<usize>i << 2))) << SHIFT), 1);
}

// ---------------------------------------------------------------------------------------------
// Bytes to normalized floats

/**
 * out[k] = lut[ch * 256 + bytes[k]] for the n images of c channels x plane pixels stored
 * contiguously at `bytes` (u8, NCHW; the host stages a batch's images there). lut: (c, 256) reals,
 * the normalized value of every byte per channel. out: (n, c, plane)
 */
export function convert_u8_lut(out: usize, bytes: usize, n: i32, c: i32, plane: i32, lut: usize): void {
  for (let i = 0; i < n; i++) {
    const image = <usize>i * <usize>c * <usize>plane;
    convertImage(out + (image << SHIFT), bytes + image, c, plane, lut);
  }
}

@inline function convertImage(dst: usize, src: usize, c: i32, plane: i32, lut: usize): void {
  for (let ch = 0; ch < c; ch++) {
    const table = lut + (<usize>ch << (8 + SHIFT)); // 256 values per channel
    const s = src + <usize>ch * <usize>plane;
    const d = dst + ((<usize>ch * <usize>plane) << SHIFT);
    for (let p = 0; p < plane; p++) store<real>(d + (<usize>p << SHIFT), load<real>(table + (<usize>load<u8>(s + <usize>p) << SHIFT)));
  }
}
