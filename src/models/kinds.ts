// The model classes a checkpoint can name, by their public class name. A checkpoint stores the
// kind and the model's normalised `config`; loading calls `new MODEL_KINDS[kind](config)`.
// A new model class joins by one line here (it needs `config`, `params`, `loss`, `dispose`, and
// optionally `paramStore`, `buffers`, `rngState`).
import type { CheckpointableModel } from "./contract.js";
import { DeepConvNet } from "./deep-conv-net.js";
import { FullyConnectedNet } from "./fully-connected-net.js";
import { Sequential } from "./sequential.js";

export type { CheckpointableModel } from "./contract.js";

export type ModelClass = new (config: never) => CheckpointableModel;

// A plain literal (read-only by type), not Object.freeze(...): a call at module scope would keep
// this registry, and with it every model class, in bundles of apps that never load a checkpoint.
export const MODEL_KINDS: Readonly<Record<string, ModelClass>> = {
  FullyConnectedNet: FullyConnectedNet as unknown as ModelClass,
  DeepConvNet: DeepConvNet as unknown as ModelClass,
  Sequential: Sequential as unknown as ModelClass,
};

/** The kind name of a model instance, or undefined for a class not in MODEL_KINDS. */
export function modelKindOf(model: unknown): string | undefined {
  for (const [kind, cls] of Object.entries(MODEL_KINDS)) if (model instanceof cls) return kind;
  return undefined;
}
