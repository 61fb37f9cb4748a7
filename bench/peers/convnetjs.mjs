// ConvNetJS 0.3.0: one sample at a time through forward/backward (that is its API), gradients
// summed over the batch. Its Trainer has no Adam in 0.3.0, so the update below applies the course's
// Adam to the averaged gradients over net.getParamsAndGrads().
import convnetjs from "convnetjs";
import { ADAM, CONV, FC } from "../cases.mjs";
import { Unavailable, randomArray, randomLabels } from "../harness.mjs";

function fcNet() {
  const net = new convnetjs.Net();
  net.makeLayers([
    { type: "input", out_sx: 1, out_sy: 1, out_depth: FC.inputDim },
    ...FC.hiddenDims.map((h) => ({ type: "fc", num_neurons: h, activation: "relu" })),
    { type: "softmax", num_classes: FC.numClasses }, // ConvNetJS adds the final fc before softmax
  ]);
  return net;
}

function convNet() {
  const [c, h, w] = CONV.inputDims;
  const net = new convnetjs.Net();
  const blocks = CONV.numFilters.flatMap((f) => [
    { type: "conv", sx: 3, filters: f, stride: 1, pad: 1, activation: "relu" },
    { type: "pool", sx: 2, stride: 2 },
  ]);
  net.makeLayers([{ type: "input", out_sx: w, out_sy: h, out_depth: c }, ...blocks, { type: "softmax", num_classes: CONV.numClasses }]);
  return net;
}

/** A batch of Vols (ConvNetJS stores x, y, depth interleaved; the data is random anyway). */
function vols(n, sx, sy, depth, seed) {
  const data = randomArray(n * sx * sy * depth, seed);
  return Array.from({ length: n }, (_, i) => {
    const v = new convnetjs.Vol(sx, sy, depth, 0);
    v.w.set(data.subarray(i * v.w.length, (i + 1) * v.w.length));
    return v;
  });
}

/** The course's Adam over ConvNetJS's parameter list, on the batch-mean gradient; zeroes the grads. */
function adamUpdater(net, batch) {
  const groups = net.getParamsAndGrads();
  const state = groups.map((g) => ({ m: new Float64Array(g.params.length), v: new Float64Array(g.params.length) }));
  const { learningRate, beta1, beta2, epsilon } = ADAM;
  let t = 0;
  return () => {
    t++;
    const c1 = 1 - beta1 ** t;
    const c2 = 1 - beta2 ** t;
    groups.forEach(({ params, grads }, gi) => {
      const { m, v } = state[gi];
      for (let i = 0; i < params.length; i++) {
        const g = grads[i] / batch;
        m[i] = beta1 * m[i] + (1 - beta1) * g;
        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
        params[i] -= (learningRate * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + epsilon);
        grads[i] = 0;
      }
    });
  };
}

function trainer(net, xs, ys) {
  const update = adamUpdater(net, xs.length);
  return {
    step() {
      let loss = 0;
      for (let i = 0; i < xs.length; i++) {
        net.forward(xs[i], true);
        loss += net.backward(ys[i]);
      }
      update();
      return loss / xs.length;
    },
  };
}

function infer(net, xs) {
  return {
    step() {
      for (let i = 0; i < xs.length; i++) net.forward(xs[i], false);
    },
  };
}

function prepare(c) {
  if (c.kind === "fcTrain" || c.kind === "fcInfer") {
    const xs = vols(FC.batch, 1, 1, FC.inputDim, 21);
    const ys = randomLabels(FC.batch, FC.numClasses, 22);
    return c.kind === "fcTrain" ? trainer(fcNet(), xs, ys) : infer(fcNet(), xs);
  }
  if (c.kind === "convTrain" || c.kind === "convInfer") {
    const [ch, h, w] = CONV.inputDims;
    const xs = vols(CONV.batch, w, h, ch, 31);
    const ys = randomLabels(CONV.batch, CONV.numClasses, 32);
    return c.kind === "convTrain" ? trainer(convNet(), xs, ys) : infer(convNet(), xs);
  }
  throw new Unavailable("no matrix product API");
}

export async function load() {
  return [{ name: "convnetjs", note: "ConvNetJS 0.3.0, per-sample loops, Float64Array", kinds: ["fcTrain", "fcInfer", "convTrain", "convInfer"], prepare }];
}
