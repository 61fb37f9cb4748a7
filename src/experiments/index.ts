/**
 * tensorlane/experiments: the course notes' weight-initialization experiment (per-layer
 * activation statistics of a deep tanh or ReLU stack for several weight scales).
 *
 * @packageDocumentation
 */
// tensorlane/experiments: the seed's weight-initialization experiment (per-layer activation
// statistics of a deep tanh / ReLU net for several weight scales), an entry of its own.
export { runInitExperiment, INIT_SCHEMES, type InitScheme, type InitExperimentResult, type InitExperimentOptions, type LayerStats } from "./weight-init.js";
