// The float32 kernel families beyond the core, one wasm module each (scripts/kernel-families.mjs
// says which kernels each holds). The code that calls a family's kernels imports its descriptor and
// calls useFamily(descriptor) first; a bundle without such code drops the descriptor and the
// family's bytes (the calls below are marked pure for that), one with it registers the family when
// this module is evaluated (families.ts).
import { kernelFamily } from "./families.js";
import { WASM_ACTIVATION_DEFLATE_BASE64 } from "../generated/wasm-activation-base64.js";
import { WASM_AUGMENT_DEFLATE_BASE64 } from "../generated/wasm-augment-base64.js";
import { WASM_CONV_DEFLATE_BASE64 } from "../generated/wasm-conv-base64.js";
import { WASM_NORM_DEFLATE_BASE64 } from "../generated/wasm-norm-base64.js";
import { WASM_OPTIM_DEFLATE_BASE64 } from "../generated/wasm-optim-base64.js";
import { WASM_POOL_DEFLATE_BASE64 } from "../generated/wasm-pool-base64.js";
import { WASM_TRAIN_DEFLATE_BASE64 } from "../generated/wasm-train-base64.js";

export { useFamily } from "./families.js";

/** Convolution and depthwise convolution. */
export const CONV_KERNELS = /* @__PURE__ */ kernelFamily("conv", WASM_CONV_DEFLATE_BASE64);
/** Batch norm and spatial batch norm. */
export const NORM_KERNELS = /* @__PURE__ */ kernelFamily("norm", WASM_NORM_DEFLATE_BASE64);
/** Max, average and global average pooling. */
export const POOL_KERNELS = /* @__PURE__ */ kernelFamily("pool", WASM_POOL_DEFLATE_BASE64);
/** tanh, sigmoid, GELU and leaky ReLU. */
export const ACTIVATION_KERNELS = /* @__PURE__ */ kernelFamily("activation", WASM_ACTIVATION_DEFLATE_BASE64);
/** Augmentations (flip, crop, cutout, mixup) and byte-image conversion. */
export const AUGMENT_KERNELS = /* @__PURE__ */ kernelFamily("augment", WASM_AUGMENT_DEFLATE_BASE64);
/** The update rules beyond Adam (in the core): SGD, momentum, Nesterov, AdaGrad, RMSProp. */
export const OPTIM_KERNELS = /* @__PURE__ */ kernelFamily("optim", WASM_OPTIM_DEFLATE_BASE64);
/**
 * What models and the Solver use beyond the layers' kernels: L2/L1 penalties, dropout masks, the
 * SVM loss, argmax of scores (predictions), gathering rows (batches) and drawing indices (sampling).
 */
export const TRAIN_KERNELS = /* @__PURE__ */ kernelFamily("train", WASM_TRAIN_DEFLATE_BASE64);
