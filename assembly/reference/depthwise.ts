// Naive scalar twins of the depthwise kernels (assembly/depthwise.ts), written from the header's
// definitions and summation order over `real`: PyTorch's Conv2d with groups = C, zero padding
// skipped. The weight sums follow the documented lane order (the SIMD columns [owL, owV) in LANES
// lane accumulators, every other column in one scalar accumulator), so the kernels can be
// checked bit for bit; the spec also checks them against a plain f64 sum. Used only by the specs.
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
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              acc += load<real>(at(w, (c * kh + ki) * kw + kj)) * load<real>(at(x, ((n * C + c) * H + ih) * W + iw));
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
          let acc: real = 0;
          for (let ki = 0; ki < kh; ki++) {
            for (let kj = 0; kj < kw; kj++) {
              const t = ih + ph - ki, u = iw + pw - kj;
              if (t < 0 || u < 0 || t % sh != 0 || u % sw != 0 || t / sh >= Ho || u / sw >= Wo) continue;
              acc += load<real>(at(w, (c * kh + ki) * kw + kj)) * load<real>(at(dout, ((n * C + c) * Ho + t / sh) * Wo + u / sw));
            }
          }
          store<real>(at(dx, ((n * C + c) * H + ih) * W + iw), acc);
        }
      }
    }
  }
}

/** The SIMD columns [owL, owV) of the documented order. */
function simdColumns(W: i32, kw: i32, sw: i32, pw: i32, Wo: i32): i32[] {
  const L = <i32>LANES;
  let owL = (pw + sw - 1) / sw;
  if (owL > Wo) owL = Wo;
  // Inside columns: ow·sw - pw >= 0 and ow·sw - pw + kw <= W.
  let owR = owL;
  while (owR < Wo && owR * sw - pw + kw <= W) owR++;
  const owV = (sw == 1 || sw == 2) && owR - owL >= L ? owL + (owR - owL) / L * L : owL;
  return [owL, owV];
}

function reduceLanes(lanes: StaticArray<real>, scalar: real): real {
  if (FLOAT32) return (((lanes[0] + lanes[1]) + lanes[2]) + lanes[3]) + scalar;
  return (lanes[0] + lanes[1]) + scalar;
}

/** One chunk's slice: dw (C, K) then db (C), over images [n0, n1). */
export function depthwise_weight_sums__scalar(
  slice: usize, dout: usize, x: usize, n0: i32, n1: i32, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, Ho: i32, Wo: i32,
): void {
  const L = <i32>LANES;
  const cols = simdColumns(W, kw, sw, pw, Wo);
  const owL = cols[0], owV = cols[1];
  const K = kh * kw;
  for (let c = 0; c < C; c++) {
    for (let t = -1; t < K; t++) { // t = -1: db
      const lanes = new StaticArray<real>(L);
      let scalar: real = 0;
      for (let n = n0; n < n1; n++) {
        for (let oh = 0; oh < Ho; oh++) {
          for (let ow = 0; ow < Wo; ow++) {
            const g = load<real>(at(dout, ((n * C + c) * Ho + oh) * Wo + ow));
            let term: real;
            if (t < 0) {
              term = g;
            } else {
              const ih = oh * sh - ph + t / kw, iw = ow * sw - pw + t % kw;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              term = g * load<real>(at(x, ((n * C + c) * H + ih) * W + iw));
            }
            if (ow >= owL && ow < owV) lanes[(ow - owL) % L] += term;
            else scalar += term;
          }
        }
      }
      store<real>(at(slice, t < 0 ? C * K + c : c * K + t), reduceLanes(lanes, scalar));
    }
  }
}
