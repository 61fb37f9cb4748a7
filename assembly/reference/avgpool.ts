// Naive scalar twins of the average-pooling kernels (assembly/avgpool.ts), written from the
// definitions over `real`: PyTorch's AvgPool2d in floor mode, the sums in the documented order
// (forward: rows then columns of the window from 0; backward: the covering windows in order of oh
// then ow, from 0; global: four f64 lanes then the tail). Used only by the as-pect specs.
import { SHIFT } from "../real";

function at(p: usize, i: i32): usize {
  return p + (<usize>i << SHIFT);
}

function count(oh: i32, ow: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, includePad: bool): i32 {
  const hs = oh * sh - ph, ws = ow * sw - pw;
  const he = min(hs + kh, H + ph), we = min(ws + kw, W + pw);
  if (includePad) return (he - hs) * (we - ws);
  return (min(he, H) - max(hs, 0)) * (min(we, W) - max(ws, 0));
}

export function avgpool_forward__scalar(
  out: usize, x: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, includePad: bool, Ho: i32, Wo: i32,
): void {
  for (let p = 0; p < planes; p++) {
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++) {
        let acc: real = 0;
        for (let ih = max(oh * sh - ph, 0); ih < min(oh * sh - ph + kh, H); ih++) {
          for (let iw = max(ow * sw - pw, 0); iw < min(ow * sw - pw + kw, W); iw++) acc += load<real>(at(x, (p * H + ih) * W + iw));
        }
        store<real>(at(out, (p * Ho + oh) * Wo + ow), acc / <real>count(oh, ow, H, W, kh, kw, sh, sw, ph, pw, includePad));
      }
    }
  }
}

export function avgpool_backward__scalar(
  dx: usize, dout: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, includePad: bool, Ho: i32, Wo: i32,
): void {
  for (let p = 0; p < planes; p++) {
    for (let ih = 0; ih < H; ih++) {
      for (let iw = 0; iw < W; iw++) {
        let acc: real = 0;
        for (let oh = 0; oh < Ho; oh++) {
          if (ih < oh * sh - ph || ih >= oh * sh - ph + kh) continue;
          for (let ow = 0; ow < Wo; ow++) {
            if (iw < ow * sw - pw || iw >= ow * sw - pw + kw) continue;
            acc += load<real>(at(dout, (p * Ho + oh) * Wo + ow)) / <real>count(oh, ow, H, W, kh, kw, sh, sw, ph, pw, includePad);
          }
        }
        store<real>(at(dx, (p * H + ih) * W + iw), acc);
      }
    }
  }
}

export function global_avgpool_forward__scalar(out: usize, x: usize, planes: i32, HW: i32): void {
  for (let p = 0; p < planes; p++) {
    const lanes = new StaticArray<f64>(4);
    const body = HW - HW % 4;
    for (let i = 0; i < body; i++) lanes[i % 4] += <f64>load<real>(at(x, p * HW + i));
    let total = ((lanes[0] + lanes[1]) + lanes[2]) + lanes[3];
    for (let i = body; i < HW; i++) total += <f64>load<real>(at(x, p * HW + i));
    store<real>(at(out, p), <real>(total / <f64>HW));
  }
}

export function global_avgpool_backward__scalar(dx: usize, dout: usize, planes: i32, HW: i32): void {
  for (let p = 0; p < planes; p++) {
    for (let i = 0; i < HW; i++) store<real>(at(dx, p * HW + i), load<real>(at(dout, p)) / <real>HW);
  }
}
