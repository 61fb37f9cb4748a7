// The core module's exports (build/tensorlane.wasm, built with real = f32). Pointers and sizes
// only: the host owns all memory. The floating-point kernels export the same names from the
// float64 module (f64.ts); the host picks the module by dtype (src/runtime.ts realKernels).
//
// Dtype-neutral: memory, integer and f64 scalar helpers (only here).
export { alloc, free, copy_bytes, heap_root } from "./memory";
export { i32_rand_below } from "./random";
export { f64_mean, f64_sum } from "./reduce";
export { f64_sqrt, f64_cos_pi } from "./scalar";
export { i32_random_permutation, f64_random_beta } from "./augment";
// float32 kernels.
export { rand_uniform, rand_normal, dropout_mask } from "./random";
export { fill, scale, mul, axpy, relu, relu_backward } from "./elementwise";
export {
  f32_gemm_work_bytes as gemm_work_bytes, f32_gemm_nn as gemm_nn, f32_gemm_tn as gemm_tn, f32_gemm_nt as gemm_nt,
  f32_gemm_nn_range as gemm_nn_range, f32_gemm_tn_range as gemm_tn_range, f32_gemm_nt_range as gemm_nt_range,
  f32_gemm_packed_b_bytes as gemm_packed_b_bytes, f32_gemm_pack_b as gemm_pack_b, f32_gemm_pack_b_blocks as gemm_pack_b_blocks,
  f32_gemm_nn_rows_packed as gemm_nn_rows_packed, f32_gemm_tn_rows_packed as gemm_tn_rows_packed,
} from "./gemm";
export { sum_rows_range, sum_squares_chunks, sum_abs_chunks, add_sign, argmax_rows, gather_rows } from "./reduce";
export { softmax_loss_soft, softmax_loss_rows, softmax_loss_smoothed_rows, svm_loss_rows } from "./loss";
export { sgd, sgd_momentum, sgd_nesterov, adagrad, rmsprop, adam } from "./optim";
export {
  batchnorm_forward_train_range, batchnorm_forward_test_range, batchnorm_backward_range,
  spatial_batchnorm_forward_train_range, spatial_batchnorm_forward_test_range, spatial_batchnorm_backward_range,
  spatial_bn_sums_chunks, spatial_bn_squares_chunks, spatial_bn_normalize_chunks, spatial_bn_backward_sums_chunks, spatial_bn_backward_dx_chunks,
} from "./batchnorm";
export { tanh, tanh_backward } from "./activation";
export {
  f32_conv_forward_work_bytes as conv_forward_work_bytes, f32_conv_forward as conv_forward, f32_conv_forward_images as conv_forward_images,
  f32_conv_backward_work_bytes as conv_backward_work_bytes, f32_conv_backward_chunks as conv_backward_chunks, f32_sum_chunks as sum_chunks,
} from "./conv";
export { maxpool_forward, maxpool_backward } from "./pool";
export { random_flip, random_crop, cutout, mix_rows, one_hot, convert_u8_lut } from "./augment";
