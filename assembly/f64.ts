// The float64 module's exports (build/tensorlane-f64.wasm, built with real = f64): the
// floating-point kernels under the same names as the core module's float32 ones. It imports the
// core's memory and has no allocator and no static data (scripts/build-wasm.mjs checks), so
// instantiating it writes nothing into the core's heap.
export { fill, scale, mul, axpy, relu, relu_backward, add, leaky_relu, leaky_relu_backward } from "./elementwise";
export { tanh, tanh_backward, sigmoid, sigmoid_backward, gelu, gelu_backward } from "./activation";
export { avgpool_forward, avgpool_backward, global_avgpool_forward, global_avgpool_backward } from "./avgpool";
export { depthwise_work_bytes, depthwise_forward, depthwise_backward_chunks, depthwise_sum_chunks } from "./depthwise";
export { rand_uniform, rand_normal, dropout_mask } from "./random";
export { sum_rows_range, sum_squares_chunks, sum_abs_chunks, add_sign, argmax_rows, gather_rows } from "./reduce";
export { softmax_loss_soft, softmax_loss_rows, svm_loss_rows } from "./loss";
export { sgd, sgd_momentum, adagrad, rmsprop, adam } from "./optim";
export {
  f64_batchnorm_forward_train as batchnorm_forward_train, f64_batchnorm_forward_test as batchnorm_forward_test,
  f64_batchnorm_backward as batchnorm_backward, f64_spatial_batchnorm_forward_train as spatial_batchnorm_forward_train,
  f64_spatial_batchnorm_forward_test as spatial_batchnorm_forward_test, f64_spatial_batchnorm_backward as spatial_batchnorm_backward,
} from "./f64/batchnorm";
export { f64_maxpool_forward as maxpool_forward, f64_maxpool_backward as maxpool_backward } from "./f64/pool";
export { f64_im2col as im2col, f64_col2im as col2im, f64_fill_rows as fill_rows, f64_conv_bias_backward as conv_bias_backward } from "./f64/conv";
export { f64_gemm_work_bytes as gemm_work_bytes, f64_gemm_nn as gemm_nn, f64_gemm_tn as gemm_tn, f64_gemm_nt as gemm_nt } from "./f64/gemm";
