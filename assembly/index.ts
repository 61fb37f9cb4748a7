// Every entry point the wasm module exports. Pointers and sizes only: the host owns all memory.
export { alloc, free, copy_bytes, heap_root } from "./memory";
export { f32_rand_uniform, f32_rand_normal, f32_dropout_mask, i32_rand_below } from "./random";
export { f32_fill, f32_scale, f32_mul, f32_axpy, f32_relu, f32_relu_backward } from "./elementwise";
export {
  f32_gemm_work_bytes, f32_gemm_nn, f32_gemm_tn, f32_gemm_nt, f32_gemm_nn_range, f32_gemm_tn_range, f32_gemm_nt_range,
  f32_gemm_packed_b_bytes, f32_gemm_pack_b, f32_gemm_pack_b_blocks, f32_gemm_nn_rows_packed, f32_gemm_tn_rows_packed,
} from "./gemm";
export { f32_sum_rows_range, f64_mean, f64_sum, f32_sum_squares_chunks, f32_sum_abs_chunks, f32_add_sign, f32_argmax_rows, f32_gather_rows } from "./reduce";
export { f32_softmax_loss_soft, f32_softmax_loss_rows, f32_svm_loss_rows } from "./loss";
export { f32_sgd, f32_sgd_momentum, f32_adagrad, f32_rmsprop, f32_adam } from "./optim";
export { f64_sqrt, f64_cos_pi } from "./scalar";
export {
  f32_batchnorm_forward_train_range, f32_batchnorm_forward_test_range, f32_batchnorm_backward_range,
  f32_spatial_batchnorm_forward_train_range, f32_spatial_batchnorm_forward_test_range, f32_spatial_batchnorm_backward_range,
  f32_spatial_bn_sums_chunks, f32_spatial_bn_squares_chunks, f32_spatial_bn_normalize_chunks,
  f32_spatial_bn_backward_sums_chunks, f32_spatial_bn_backward_dx_chunks,
} from "./batchnorm";
export { f32_tanh, f32_tanh_backward } from "./activation";
export { f32_conv_forward_work_bytes, f32_conv_forward, f32_conv_forward_images, f32_conv_backward_work_bytes, f32_conv_backward_chunks, f32_sum_chunks } from "./conv";
export { f32_maxpool_forward, f32_maxpool_backward } from "./pool";
export { f32_random_flip, f32_random_crop, f32_cutout, i32_random_permutation, f64_random_beta, f32_mix_rows, f32_one_hot, f32_convert_u8_lut } from "./augment";
// float64 kernels (assembly/f64/): the same operations on f64 arrays, for the course's float64 mode.
export { f64_fill, f64_scale, f64_add, f64_mul, f64_axpy, f64_relu, f64_relu_backward } from "./f64/elementwise";
export { f64_tanh, f64_tanh_backward } from "./f64/activation";
export { f64_rand_uniform, f64_rand_normal, f64_dropout_mask } from "./f64/random";
export { f64_sum_rows, f64_sum_squares, f64_sum_abs, f64_add_sign, f64_argmax_rows, f64_gather_rows } from "./f64/reduce";
export { f64_softmax_loss, f64_svm_loss } from "./f64/loss";
export { f64_sgd, f64_sgd_momentum, f64_adagrad, f64_rmsprop, f64_adam } from "./f64/optim";
export { f64_batchnorm_forward_train, f64_batchnorm_forward_test, f64_batchnorm_backward, f64_spatial_batchnorm_forward_train, f64_spatial_batchnorm_forward_test, f64_spatial_batchnorm_backward } from "./f64/batchnorm";
export { f64_maxpool_forward, f64_maxpool_backward } from "./f64/pool";
export { f64_im2col, f64_col2im, f64_fill_rows, f64_conv_bias_backward } from "./f64/conv";
export { f64_gemm_work_bytes, f64_gemm_nn, f64_gemm_tn, f64_gemm_nt } from "./f64/gemm";
