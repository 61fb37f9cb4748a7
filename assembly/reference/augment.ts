// Naive scalar twins of the augmentation kernels (assembly/augment.ts), written per output element
// from the definitions, over `real` (both dtypes). They take the per-image draws from the same
// functions (the stream is random.ts's, tested there): what they check is the geometry and the
// arithmetic.
import { cropDx, cropDy, cutoutCx, cutoutCy, flipDraw } from "../augment";
import { SHIFT } from "../real";
import { streamKey } from "../random";

@inline function at(n: i32, c: i32, h: i32, w: i32, i: i32, ch: i32, r: i32, col: i32): usize {
  return <usize>(((i * c + ch) * h + r) * w + col) << SHIFT;
}

/** out[i][ch][r][col] = x[i][ch][r][flip ? w-1-col : col]. */
export function random_flip__scalar(out: usize, x: usize, n: i32, c: i32, h: i32, w: i32, p: f32, seed: u32, offset: f64): void {
  const key = streamKey(seed);
  for (let i = 0; i < n; i++) {
    const flip = flipDraw(key, <u64>offset + <u64>i, p);
    for (let ch = 0; ch < c; ch++) for (let r = 0; r < h; r++) for (let col = 0; col < w; col++) {
      store<real>(out + at(n, c, h, w, i, ch, r, col), load<real>(x + at(n, c, h, w, i, ch, r, flip ? w - 1 - col : col)));
    }
  }
}

/** out[i][ch][r][col] = padded[i][ch][r + pad + dy][col + pad + dx], padded = x with pad zeros around. */
export function random_crop__scalar(out: usize, x: usize, n: i32, c: i32, h: i32, w: i32, pad: i32, seed: u32, offset: f64): void {
  const key = streamKey(seed);
  for (let i = 0; i < n; i++) {
    const ctr = <u64>offset + <u64>i;
    const oy = cropDy(key, ctr, pad) + pad, ox = cropDx(key, ctr, pad) + pad; // window offset in [0, 2 pad]
    for (let ch = 0; ch < c; ch++) for (let r = 0; r < h; r++) for (let col = 0; col < w; col++) {
      const pr = r + oy, pc = col + ox; // position in the padded image, (h + 2 pad) x (w + 2 pad)
      const inside = pr >= pad && pr < pad + h && pc >= pad && pc < pad + w;
      store<real>(out + at(n, c, h, w, i, ch, r, col), inside ? load<real>(x + at(n, c, h, w, i, ch, pr - pad, pc - pad)) : 0);
    }
  }
}

/** out = x, except 0 in every channel at rows [cy - floor(size/2), + size) x the same for columns. */
export function cutout__scalar(out: usize, x: usize, n: i32, c: i32, h: i32, w: i32, size: i32, seed: u32, offset: f64): void {
  const key = streamKey(seed);
  for (let i = 0; i < n; i++) {
    const ctr = <u64>offset + <u64>i;
    const cy = cutoutCy(key, ctr, h), cx = cutoutCx(key, ctr, w);
    for (let ch = 0; ch < c; ch++) for (let r = 0; r < h; r++) for (let col = 0; col < w; col++) {
      // Inside the square: the offsets from its first row and column are in [0, size).
      const dr = r - (cy - size / 2), dc = col - (cx - size / 2);
      const cut = dr >= 0 && dr < size && dc >= 0 && dc < size;
      const o = at(n, c, h, w, i, ch, r, col);
      store<real>(out + o, cut ? 0 : load<real>(x + o));
    }
  }
}

/** out[i][k] = real(lam) x[i][k] + real(1 - lam) x[partner[i]][k], one element at a time. */
export function mix_rows__scalar(out: usize, x: usize, partner: usize, n: i32, rowSize: i32, lam: f64): void {
  for (let i = 0; i < n; i++) {
    const j = load<i32>(partner + (<usize>i << 2));
    for (let k = 0; k < rowSize; k++) {
      const a = <real>lam, b = <real>(1.0 - lam);
      store<real>(out + (<usize>(i * rowSize + k) << SHIFT), a * load<real>(x + (<usize>(i * rowSize + k) << SHIFT)) + b * load<real>(x + (<usize>(j * rowSize + k) << SHIFT)));
    }
  }
}

/**
 * The images idx[0..n) of a u8 set, each value v of channel ch as real((v / 255 - mean[ch]) / std[ch])
 * computed here in f64 (the host's lookup table is defined by the same expression); with idx =
 * 0..n-1 it is what convert_u8_lut must give.
 * mean, std: f64 (c).
 */
export function gather_u8_normalize__scalar(out: usize, bytes: usize, idx: usize, n: i32, c: i32, plane: i32, mean: usize, std: usize): void {
  for (let i = 0; i < n; i++) {
    const src = load<i32>(idx + (<usize>i << 2));
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < plane; p++) {
      const v = <f64>load<u8>(bytes + <usize>((src * c + ch) * plane + p));
      const m = load<f64>(mean + (<usize>ch << 3)), s = load<f64>(std + (<usize>ch << 3));
      store<real>(out + (<usize>((i * c + ch) * plane + p) << SHIFT), <real>((v / 255 - m) / s));
    }
  }
}
