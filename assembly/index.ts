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
export { f32_rand_uniform as rand_uniform, f32_rand_normal as rand_normal, f32_dropout_mask as dropout_mask } from "./random";
export { fill, scale, mul, axpy, relu, relu_backward } from "./elementwise";
export {
  f32_gemm_work_bytes as gemm_work_bytes, f32_gemm_nn as gemm_nn, f32_gemm_tn as gemm_tn, f32_gemm_nt as gemm_nt,
  f32_gemm_nn_range as gemm_nn_range, f32_gemm_tn_range as gemm_tn_range, f32_gemm_nt_range as gemm_nt_range,
  f32_gemm_packed_b_bytes as gemm_packed_b_bytes, f32_gemm_pack_b as gemm_pack_b, f32_gemm_pack_b_blocks as gemm_pack_b_blocks,
  f32_gemm_nn_rows_packed as gemm_nn_rows_packed, f32_gemm_tn_rows_packed as gemm_tn_rows_packed,
} from "./gemm";
export {
  f32_sum_rows_range as sum_rows_range, f32_sum_squares_chunks as sum_squares_chunks, f32_sum_abs_chunks as sum_abs_chunks,
  f32_add_sign as add_sign, f32_argmax_rows as argmax_rows, f32_gather_rows as gather_rows,
} from "./reduce";
export { f32_softmax_loss_soft as softmax_loss_soft, f32_softmax_loss_rows as softmax_loss_rows, f32_svm_loss_rows as svm_loss_rows } from "./loss";
export { f32_sgd as sgd, f32_sgd_momentum as sgd_momentum, f32_adagrad as adagrad, f32_rmsprop as rmsprop, f32_adam as adam } from "./optim";
export {
  batchnorm_forward_train_range, batchnorm_forward_test_range, batchnorm_backward_range,
  spatial_batchnorm_forward_train_range, spatial_batchnorm_forward_test_range, spatial_batchnorm_backward_range,
  spatial_bn_sums_chunks, spatial_bn_squares_chunks, spatial_bn_normalize_chunks, spatial_bn_backward_sums_chunks, spatial_bn_backward_dx_chunks,
} from "./batchnorm";
export { f32_tanh as tanh, f32_tanh_backward as tanh_backward } from "./activation";
export {
  f32_conv_forward_work_bytes as conv_forward_work_bytes, f32_conv_forward as conv_forward, f32_conv_forward_images as conv_forward_images,
  f32_conv_backward_work_bytes as conv_backward_work_bytes, f32_conv_backward_chunks as conv_backward_chunks, f32_sum_chunks as sum_chunks,
} from "./conv";
export { maxpool_forward, maxpool_backward } from "./pool";
export { random_flip, random_crop, cutout, mix_rows, one_hot, convert_u8_lut } from "./augment";
