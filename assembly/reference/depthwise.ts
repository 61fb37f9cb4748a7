// Naive scalar twins of the depthwise kernels (assembly/depthwise.ts), written from the header's
// definitions and summation order over `real`: PyTorch's Conv2d with groups = C, the padding
// zeros multiplied and added like pixels. The weight sums follow the documented lane order (lane l
// takes the output columns ow ≡ l mod LANES), so the kernels can be checked bit for bit; the spec
// also checks them against a plain f64 sum. Used only by the specs.
import { FLOAT32, LANES, SHIFT } from "../real";

function at(p: usize, i: i32): usize {
  return p + (<usize>i << SHIFT);
}

export function depthwise_forward__scalar(
  out: usize, x: usize, w: usize, b: usize, N: i32, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, Ho: i32, Wo: i32,
): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let oh = 0; oh < Ho; oh++) {
        for (let ow = 0; ow < Wo; ow++) {
          let acc: real = b ? load<real>(at(b, c)) : 0;
          for (let ki = 0; ki < kh; ki++) {
            for (let kj = 0; kj < kw; kj++) {
              const ih = oh * sh - ph + ki, iw = ow * sw - pw + kj;
              const v: real = ih < 0 || ih >= H || iw < 0 || iw >= W ? 0 : load<real>(at(x, ((n * C + c) * H + ih) * W + iw));
              acc += load<real>(at(w, (c * kh + ki) * kw + kj)) * v;
            }
          }
          store<real>(at(out, ((n * C + c) * Ho + oh) * Wo + ow), acc);
        }
      }
    }
  }
}

export function depthwise_dx__scalar(
  dx: usize, dout: usize, w: usize, N: i32, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, Ho: i32, Wo: i32,
): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let ih = 0; ih < H; ih++) {
        for (let iw = 0; iw < W; iw++) {
          // The outputs covering (ih, iw), oh then ow ascending: taps ki, then kj, descending.
          let acc: real = 0;
          for (let ki = kh - 1; ki >= 0; ki--) {
            const t = ih + ph - ki;
            if (t % sh != 0) continue;
            for (let kj = kw - 1; kj >= 0; kj--) {
              const u = iw + pw - kj;
              if (u % sw != 0) continue;
              const oh = t / sh, ow = u / sw;
              const g: real = oh < 0 || oh >= Ho || ow < 0 || ow >= Wo ? 0 : load<real>(at(dout, ((n * C + c) * Ho + oh) * Wo + ow));
              acc += load<real>(at(w, (c * kh + ki) * kw + kj)) * g;
            }
          }
          store<real>(at(dx, ((n * C + c) * H + ih) * W + iw), acc);
        }
      }
    }
  }
}

function reduceLanes(lanes: StaticArray<real>): real {
  if (FLOAT32) return ((lanes[0] + lanes[1]) + lanes[2]) + lanes[3];
  return lanes[0] + lanes[1];
}

/** One chunk's slice: dw (C, K) then db (C), over images [n0, n1). */
export function depthwise_weight_sums__scalar(
  slice: usize, dout: usize, x: usize, n0: i32, n1: i32, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, Ho: i32, Wo: i32,
): void {
  const L = <i32>LANES;
  const K = kh * kw;
  for (let c = 0; c < C; c++) {
    for (let t = -1; t < K; t++) { // t = -1: db
      const lanes = new StaticArray<real>(L);
      for (let n = n0; n < n1; n++) {
        for (let oh = 0; oh < Ho; oh++) {
          for (let ow = 0; ow < Wo; ow++) {
            const g = load<real>(at(dout, ((n * C + c) * Ho + oh) * Wo + ow));
            let term: real;
            if (t < 0) {
              term = g;
            } else {
              const ih = oh * sh - ph + t / kw, iw = ow * sw - pw + t % kw;
              const v: real = ih < 0 || ih >= H || iw < 0 || iw >= W ? 0 : load<real>(at(x, ((n * C + c) * H + ih) * W + iw));
              term = g * v;
            }
            lanes[ow % L] += term;
          }
        }
      }
      store<real>(at(slice, t < 0 ? C * K + c : c * K + t), reduceLanes(lanes));
    }
  }
}
