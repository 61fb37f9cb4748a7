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
  f64_batchnorm_forward_train as batchnorm_forward_train, f64_batchnorm_forward_test as batchnorm_forward_test,
  f64_batchnorm_backward as batchnorm_backward, f64_spatial_batchnorm_forward_train as spatial_batchnorm_forward_train,
  f64_spatial_batchnorm_forward_test as spatial_batchnorm_forward_test, f64_spatial_batchnorm_backward as spatial_batchnorm_backward,
} from "./f64/batchnorm";
export { f64_maxpool_forward as maxpool_forward, f64_maxpool_backward as maxpool_backward } from "./f64/pool";
export {
  gemm_work_bytes, gemm_nn, gemm_tn, gemm_nt, gemm_nn_range, gemm_tn_range, gemm_nt_range,
  gemm_packed_b_bytes, gemm_pack_b, gemm_pack_b_blocks, gemm_nn_rows_packed, gemm_tn_rows_packed,
} from "./gemm";
export {
  conv_forward_work_bytes, conv_forward, conv_forward_images, conv_backward_work_bytes, conv_backward_chunks, sum_chunks,
} from "./conv";
