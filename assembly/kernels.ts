// The floating-point kernels: every export here is compiled into both modules from the same
// source, over the element type `real` (real.ts): f32 in the core module (index.ts), f64 in the
// float64 module (f64.ts), under the same names. Pointers and sizes only: the host owns all memory.
export { fill, scale, mul, axpy, add, relu, relu_backward, leaky_relu, leaky_relu_backward } from "./elementwise";
export { tanh, tanh_backward, sigmoid, sigmoid_backward, gelu, gelu_backward } from "./activation";
export { rand_uniform, rand_normal, dropout_mask } from "./random";
export { sum_rows_range, sum_squares_chunks, sum_abs_chunks, add_sign, argmax_rows, gather_rows } from "./reduce";
export { softmax_loss_soft, softmax_loss_rows, softmax_loss_smoothed_rows, svm_loss_rows } from "./loss";
export { sgd, sgd_momentum, sgd_nesterov, adagrad, rmsprop, adam, ema_update } from "./optim";
export {
  gemm_work_bytes, gemm_nn, gemm_tn, gemm_nt, gemm_nn_range, gemm_tn_range, gemm_nt_range,
  gemm_packed_b_bytes, gemm_pack_b, gemm_pack_b_blocks, gemm_nn_rows_packed, gemm_tn_rows_packed, gemv_nn_range, gemv_packed_range,
} from "./gemm";
export {
  conv_forward_work_bytes, conv_forward, conv_forward_images, conv_forward_images_bn, conv_bn_table, conv_forward_pack, conv_forward_packed_reals,
  conv_forward_images_work_bytes, conv_backward_work_bytes, conv_backward, conv_backward_chunks, conv_backward_pack, conv_backward_packed_reals,
  sum_chunks,
} from "./conv";
export { conv_forward_blocks } from "./conv";
export { conv3x3_winograd_dw, conv3x3_winograd_dw_chunks, conv3x3_winograd_dw_work_bytes } from "./winograd-dw";
export { conv3x3_winograd, conv3x3_winograd_pack, conv3x3_winograd_pack_flipped, conv3x3_winograd_packed_reals, conv3x3_winograd_work_bytes } from "./winograd";
export {
  batchnorm_forward_train_range, batchnorm_forward_test_range, batchnorm_backward_range,
  spatial_batchnorm_forward_train_range, spatial_batchnorm_forward_test_range, spatial_batchnorm_backward_range,
  spatial_bn_sums_chunks, spatial_bn_squares_chunks, spatial_bn_normalize_chunks, spatial_bn_backward_sums_chunks, spatial_bn_backward_dx_chunks,
} from "./batchnorm";
export { maxpool_forward, maxpool_backward } from "./pool";
export { random_flip, random_crop, cutout, mix_rows, one_hot, convert_u8_lut } from "./augment";
export { avgpool_forward, avgpool_backward, global_avgpool_forward, global_avgpool_backward } from "./avgpool";
export { depthwise_work_bytes, depthwise_forward, depthwise_backward_chunks, depthwise_sum_chunks } from "./depthwise";
