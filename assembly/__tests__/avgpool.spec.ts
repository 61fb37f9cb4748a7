import { avgpool_forward, avgpool_backward, global_avgpool_forward, global_avgpool_backward } from "../avgpool";
import { SHIFT } from "../real";
import {
  avgpool_forward__scalar, avgpool_backward__scalar, global_avgpool_forward__scalar, global_avgpool_backward__scalar,
} from "../reference/avgpool";
import { DTYPE, pattern, buffer, firstDifference, guardIntact } from "./helpers";

// Each case runs the kernel and its twin on the same data and requires identical bits and an
// untouched guard after the output; then the same call split into two plane ranges (as the host's
// threads run it) must give the whole call's bits.

function agree(name: string, fast: usize, slow: usize, n: i32): void {
  const at = firstDifference(fast, slow, n);
  let detail = "";
  if (at >= 0) detail = " kernel " + load<real>(fast + (<usize>at << SHIFT)).toString() + " twin " + load<real>(slow + (<usize>at << SHIFT)).toString();
  expect<i32>(at).toBe(-1, DTYPE + " " + name + " differs at " + at.toString() + detail);
  expect<bool>(guardIntact(fast, n)).toBe(true, DTYPE + " " + name + " wrote past the end");
}

/** Windows: kh, kw, sh, sw, ph, pw. */
const WINDOWS: i32[][] = [
  [2, 2, 2, 2, 0, 0], // AvgPool2d(2): the tiled backward, SIMD for kw = 2
  [3, 3, 2, 2, 1, 1], // the ResNet-style k3 s2 p1
  [3, 3, 1, 1, 1, 1], // stride 1, overlapping
  [2, 2, 1, 1, 0, 0],
  [3, 3, 3, 3, 0, 0], // tiled, kw = 3 (scalar tiled path)
  [1, 1, 1, 1, 0, 0],
  [3, 2, 2, 1, 1, 1], // unequal kernel, stride and padding per axis
  [5, 5, 2, 2, 2, 2],
  [3, 3, 3, 3, 1, 1], // stride = kernel but padded: the gather path
  [2, 3, 1, 3, 1, 0],
];
const SIZES: i32[] = [1, 2, 3, 5, 7, 8, 9, 13, 17];
const PLANES: i32[] = [1, 3, 5];

function runCase(planes: i32, H: i32, W: i32, win: i32[], includePad: bool, salt: i32): void {
  const kh = win[0], kw = win[1], sh = win[2], sw = win[3], ph = win[4], pw = win[5];
  if (H + 2 * ph < kh || W + 2 * pw < kw) return;
  const Ho = (H + 2 * ph - kh) / sh + 1, Wo = (W + 2 * pw - kw) / sw + 1;
  const tag = " planes=" + planes.toString() + " H=" + H.toString() + " W=" + W.toString() + " k=" + kh.toString() + "x" + kw.toString() +
    " s=" + sh.toString() + "," + sw.toString() + " p=" + ph.toString() + "," + pw.toString() + (includePad ? " incpad" : " excpad");
  const nIn = planes * H * W, nOut = planes * Ho * Wo;
  const x = pattern(nIn, salt), dout = pattern(nOut, salt + 1);
  const a = buffer(nOut), b = buffer(nOut);
  avgpool_forward(a, x, planes, H, W, kh, kw, sh, sw, ph, pw, includePad, Ho, Wo);
  avgpool_forward__scalar(b, x, planes, H, W, kh, kw, sh, sw, ph, pw, includePad, Ho, Wo);
  agree("avgpool_forward" + tag, a, b, nOut);
  const c = buffer(nIn), d = buffer(nIn);
  memory.fill(c, 0x7f, <usize>nIn << SHIFT); // stale values must be overwritten
  avgpool_backward(c, dout, planes, H, W, kh, kw, sh, sw, ph, pw, includePad, Ho, Wo);
  avgpool_backward__scalar(d, dout, planes, H, W, kh, kw, sh, sw, ph, pw, includePad, Ho, Wo);
  agree("avgpool_backward" + tag, c, d, nIn);
  if (planes > 1) {
    // Planes [0, 1) and [1, planes) as two tasks.
    const e = buffer(nOut), f = buffer(nIn);
    const inB = <usize>(H * W) << SHIFT, outB = <usize>(Ho * Wo) << SHIFT;
    avgpool_forward(e, x, 1, H, W, kh, kw, sh, sw, ph, pw, includePad, Ho, Wo);
    avgpool_forward(e + outB, x + inB, planes - 1, H, W, kh, kw, sh, sw, ph, pw, includePad, Ho, Wo);
    agree("avgpool_forward split" + tag, e, a, nOut);
    avgpool_backward(f, dout, 1, H, W, kh, kw, sh, sw, ph, pw, includePad, Ho, Wo);
    avgpool_backward(f + inB, dout + outB, planes - 1, H, W, kh, kw, sh, sw, ph, pw, includePad, Ho, Wo);
    agree("avgpool_backward split" + tag, f, c, nIn);
  }
}

describe("average pooling vs scalar twins, " + DTYPE, () => {
  it("avgpool forward and backward: 10 windows x H, W in 1..17 x planes 1, 3, 5, count_include_pad both ways; split by planes", () => {
    let salt = 0;
    for (let w = 0; w < WINDOWS.length; w++) {
      for (let i = 0; i < SIZES.length; i++) {
        for (let j = 0; j < SIZES.length; j += 2) {
          for (let q = 0; q < PLANES.length; q++) {
            runCase(PLANES[q], SIZES[i], SIZES[(i + j) % SIZES.length], WINDOWS[w], true, salt++);
            runCase(PLANES[q], SIZES[i], SIZES[(i + j) % SIZES.length], WINDOWS[w], false, salt++);
          }
        }
      }
    }
    runCase(2, 28, 28, WINDOWS[0], true, 1000);
    runCase(2, 28, 28, WINDOWS[1], false, 1001);
    runCase(2, 33, 40, WINDOWS[2], true, 1002);
  });
  it("avgpool by hand: 3x3 stride 2 pad 1 on a 3x3 plane of ones (corner windows divide by 9 or by 4)", () => {
    const x = buffer(9), inc = buffer(4), exc = buffer(4);
    for (let i = 0; i < 9; i++) store<real>(x + (<usize>i << SHIFT), 1.0);
    avgpool_forward(inc, x, 1, 3, 3, 3, 3, 2, 2, 1, 1, true, 2, 2);
    avgpool_forward(exc, x, 1, 3, 3, 3, 3, 2, 2, 1, 1, false, 2, 2);
    for (let i = 0; i < 4; i++) {
      expect<real>(load<real>(inc + (<usize>i << SHIFT))).toBe(<real>4.0 / <real>9.0);
      expect<real>(load<real>(exc + (<usize>i << SHIFT))).toBe(1.0);
    }
  });
  it("global average pooling forward and backward: planes 1, 3, 5, H·W in 1..50; split by planes", () => {
    const HWS: i32[] = [1, 2, 3, 4, 5, 7, 16, 49, 50];
    for (let q = 0; q < PLANES.length; q++) {
      for (let k = 0; k < HWS.length; k++) {
        const planes = PLANES[q], HW = HWS[k];
        const tag = " planes=" + planes.toString() + " HW=" + HW.toString();
        const x = pattern(planes * HW, 300 + k), dout = pattern(planes, 310 + k);
        const a = buffer(planes), b = buffer(planes);
        global_avgpool_forward(a, x, planes, HW);
        global_avgpool_forward__scalar(b, x, planes, HW);
        agree("global_avgpool_forward" + tag, a, b, planes);
        const c = buffer(planes * HW), d = buffer(planes * HW);
        global_avgpool_backward(c, dout, planes, HW);
        global_avgpool_backward__scalar(d, dout, planes, HW);
        agree("global_avgpool_backward" + tag, c, d, planes * HW);
        if (planes > 1) {
          const e = buffer(planes);
          global_avgpool_forward(e, x, 2, HW);
          global_avgpool_forward(e + (2 << SHIFT), x + (<usize>(2 * HW) << SHIFT), planes - 2, HW);
          agree("global_avgpool_forward split" + tag, e, a, planes);
        }
      }
    }
  });
});
