// The float64 module's exports (build/tensorlane-f64.wasm, built with real = f64): the
// floating-point kernels under the same names as the core module's float32 ones. It imports the
// core's memory and has no allocator and no static data (scripts/build-wasm.mjs checks), so
// instantiating it writes nothing into the core's heap.
export { fill, scale, mul, axpy, relu, relu_backward } from "./elementwise";
export { tanh, tanh_backward } from "./activation";
export { rand_uniform, rand_normal, dropout_mask } from "./random";
export { sum_rows_range, sum_squares_chunks, sum_abs_chunks, add_sign, argmax_rows, gather_rows } from "./reduce";
export { softmax_loss_soft, softmax_loss_rows, softmax_loss_smoothed_rows, svm_loss_rows } from "./loss";
export { sgd, sgd_momentum, sgd_nesterov, adagrad, rmsprop, adam } from "./optim";
export {
  batchnorm_forward_train_range, batchnorm_forward_test_range, batchnorm_backward_range,
  spatial_batchnorm_forward_train_range, spatial_batchnorm_forward_test_range, spatial_batchnorm_backward_range,
  spatial_bn_sums_chunks, spatial_bn_squares_chunks, spatial_bn_normalize_chunks, spatial_bn_backward_sums_chunks, spatial_bn_backward_dx_chunks,
} from "./batchnorm";
export { maxpool_forward, maxpool_backward } from "./pool";
export { random_flip, random_crop, cutout, mix_rows, one_hot, convert_u8_lut } from "./augment";
export { f64_im2col as im2col, f64_col2im as col2im, f64_fill_rows as fill_rows, f64_conv_bias_backward as conv_bias_backward } from "./f64/conv";
export { f64_gemm_work_bytes as gemm_work_bytes, f64_gemm_nn as gemm_nn, f64_gemm_tn as gemm_tn, f64_gemm_nt as gemm_nt } from "./f64/gemm";
