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
  gemm_work_bytes, gemm_nn, gemm_tn, gemm_nt, gemm_nn_range, gemm_tn_range, gemm_nt_range,
  gemm_packed_b_bytes, gemm_pack_b, gemm_pack_b_blocks, gemm_nn_rows_packed, gemm_tn_rows_packed,
} from "./gemm";
export {
  f32_sum_rows_range as sum_rows_range, f32_sum_squares_chunks as sum_squares_chunks, f32_sum_abs_chunks as sum_abs_chunks,
  f32_add_sign as add_sign, f32_argmax_rows as argmax_rows, f32_gather_rows as gather_rows,
} from "./reduce";
export { f32_softmax_loss_soft as softmax_loss_soft, f32_softmax_loss_rows as softmax_loss_rows, f32_svm_loss_rows as svm_loss_rows } from "./loss";
export { f32_sgd as sgd, f32_sgd_momentum as sgd_momentum, f32_adagrad as adagrad, f32_rmsprop as rmsprop, f32_adam as adam } from "./optim";
export {
  f32_batchnorm_forward_train_range as batchnorm_forward_train_range, f32_batchnorm_forward_test_range as batchnorm_forward_test_range,
  f32_batchnorm_backward_range as batchnorm_backward_range,
  f32_spatial_batchnorm_forward_train_range as spatial_batchnorm_forward_train_range,
  f32_spatial_batchnorm_forward_test_range as spatial_batchnorm_forward_test_range,
  f32_spatial_batchnorm_backward_range as spatial_batchnorm_backward_range,
  f32_spatial_bn_sums_chunks as spatial_bn_sums_chunks, f32_spatial_bn_squares_chunks as spatial_bn_squares_chunks,
  f32_spatial_bn_normalize_chunks as spatial_bn_normalize_chunks, f32_spatial_bn_backward_sums_chunks as spatial_bn_backward_sums_chunks,
  f32_spatial_bn_backward_dx_chunks as spatial_bn_backward_dx_chunks,
} from "./batchnorm";
export { f32_tanh as tanh, f32_tanh_backward as tanh_backward } from "./activation";
export {
  conv_forward_work_bytes, conv_forward, conv_forward_images, conv_backward_work_bytes, conv_backward_chunks, sum_chunks,
} from "./conv";
export { f32_maxpool_forward as maxpool_forward, f32_maxpool_backward as maxpool_backward } from "./pool";
export {
  f32_random_flip as random_flip, f32_random_crop as random_crop, f32_cutout as cutout, f32_mix_rows as mix_rows,
  f32_one_hot as one_hot, f32_convert_u8_lut as convert_u8_lut,
} from "./augment";
