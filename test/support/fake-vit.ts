/** Host tensors shaped like a ViT encoder, with deterministic values: checkpoint files for tests. */
import type { TensorMap } from "../../src/checkpoint/safetensors.js";
import { vitTensorShapes } from "../../src/checkpoint/vit-checkpoint.js";
import { DEFAULT_NORMALIZATION } from "../../src/checkpoint/vit-metadata.js";
import type { FaceModel } from "../../src/face-model/face-model.js";
import { VitConfigSchema, type VitConfig } from "../../src/model/vit-presets.js";

/** A small custom architecture: 32x32 input, patch 16 (4 patches), width 64, depth 2. */
export const SMALL_CFG: VitConfig = VitConfigSchema.parse({ imgSize: 32, patchSize: 16, embedDim: 64, depth: 2, numHeads: 4 });

/** Values sin(seed + i) / 10, distinct per tensor. */
export function fakeVitTensors(cfg: VitConfig = SMALL_CFG, seed = 0): TensorMap {
  const tensors: TensorMap = {};
  Object.entries(vitTensorShapes(cfg)).forEach(([name, shape], t) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: count }, (_, i) => Math.sin(seed + 1000 * t + i) / 10);
    tensors[name] = { dtype: "F32", shape, data };
  });
  return tensors;
}

/** The same tensors under `prefix`, plus `extra` names of the given shapes (zeros). */
export function withPrefixAndExtras(tensors: TensorMap, prefix: string, extra: Record<string, number[]>): TensorMap {
  const out: TensorMap = {};
  for (const [name, t] of Object.entries(tensors)) out[prefix + name] = t;
  for (const [name, shape] of Object.entries(extra)) {
    out[name] = { dtype: "F32", shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
  }
  return out;
}

/** A face model on the fake encoder with one sigmoid head, "smile", ready for writeFaceModel. */
export function fakeFaceModel(cfg: VitConfig = SMALL_CFG): Omit<FaceModel, "source"> {
  const smile = {
    name: "smile",
    activation: "sigmoid" as const,
    labels: ["smile"],
    weight: new Float32Array(cfg.embedDim).fill(0.01),
    bias: new Float32Array(1),
  };
  return { cfg, normalization: DEFAULT_NORMALIZATION, tensors: fakeVitTensors(cfg), heads: [smile], about: {} };
}
