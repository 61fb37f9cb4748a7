// tl.models: ready-made networks composed of tl.nn modules (each a Sequential).
export { resnet, basicBlock, type ResNetOptions } from "./resnet.js";
