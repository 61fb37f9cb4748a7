// The float64 module's exports (build/tensorlane-f64.wasm, built with real = f64): the
// floating-point kernels under the same names as the core module's float32 ones. It imports the
// core's memory and has no allocator and no static data (scripts/build-wasm.mjs checks), so
// instantiating it writes nothing into the core's heap.
export { fill, scale, mul, axpy, relu, relu_backward } from "./elementwise";
export { f64_tanh as tanh, f64_tanh_backward as tanh_backward } from "./f64/activation";
export { f64_rand_uniform as rand_uniform, f64_rand_normal as rand_normal, f64_dropout_mask as dropout_mask } from "./f64/random";
export {
  f64_sum_rows as sum_rows, f64_sum_squares as sum_squares, f64_sum_abs as sum_abs, f64_add_sign as add_sign,
  f64_argmax_rows as argmax_rows, f64_gather_rows as gather_rows,
} from "./f64/reduce";
export { f64_softmax_loss as softmax_loss, f64_svm_loss as svm_loss } from "./f64/loss";
export { f64_sgd as sgd, f64_sgd_momentum as sgd_momentum, f64_adagrad as adagrad, f64_rmsprop as rmsprop, f64_adam as adam } from "./f64/optim";
export {
  batchnorm_forward_train_range, batchnorm_forward_test_range, batchnorm_backward_range,
  spatial_batchnorm_forward_train_range, spatial_batchnorm_forward_test_range, spatial_batchnorm_backward_range,
  spatial_bn_sums_chunks, spatial_bn_squares_chunks, spatial_bn_normalize_chunks, spatial_bn_backward_sums_chunks, spatial_bn_backward_dx_chunks,
} from "./batchnorm";
export { maxpool_forward, maxpool_backward } from "./pool";
export { random_flip, random_crop, cutout, mix_rows, one_hot, convert_u8_lut } from "./augment";
export { f64_im2col as im2col, f64_col2im as col2im, f64_fill_rows as fill_rows, f64_conv_bias_backward as conv_bias_backward } from "./f64/conv";
export { f64_gemm_work_bytes as gemm_work_bytes, f64_gemm_nn as gemm_nn, f64_gemm_tn as gemm_tn, f64_gemm_nt as gemm_nt } from "./f64/gemm";
