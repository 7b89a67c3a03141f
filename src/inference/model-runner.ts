/**
 * A face model (face-model.ts) ready to run on aligned crops: pixels [N, 3, S, S] RGB in [0, 1]
 * in, pooled `features` [N, D] and each head's predictions out. onnxruntime-node runs the graph
 * export builds when it is installed; otherwise jax-js runs the same computation.
 */
import { jit, nn, numpy as np, tree, type Array } from "../engine/jax.js";
import { vitParamsFromTensors } from "../checkpoint/vit-checkpoint.js";
import { buildFaceOnnx, FEATURES_OUTPUT, LUMA_WEIGHTS } from "../export/onnx-vit.js";
import { linear, poolTokens, vitFeatures, type Linear, type VitParams } from "../model/vit.js";
import { expectedAge } from "../transfer/tasks/age.js";
import { onnxHeads, type FaceModel } from "./face-model.js";
import { OnnxSession, type InferenceEngine } from "./onnx-session.js";

export type ModelOutputs = Record<string, Float32Array>;

export type ModelRunner = {
  engine: InferenceEngine;
  /** `n` crops, [n, 3, S, S] RGB in [0, 1] -> `features` and one output per head, flat. */
  run(pixels: Float32Array, n: number): Promise<ModelOutputs>;
  dispose(): Promise<void>;
};

async function onnxRunner(model: FaceModel, threads: number): Promise<ModelRunner> {
  const session = await OnnxSession.create(buildFaceOnnx({ ...model, heads: onnxHeads(model), source: model.source }), { threads });
  return { engine: "onnx", run: (pixels, n) => session.run(pixels, n), dispose: () => session.dispose() };
}

type HeadParams = Linear;

function jaxRunner(model: FaceModel): ModelRunner {
  const { cfg, normalization } = model;
  const params = vitParamsFromTensors(model.tensors, cfg);
  const heads: HeadParams[] = model.heads.map((h) => ({
    weight: np.array(h.weight, { shape: [h.bias.length, cfg.embedDim] }),
    bias: np.array(h.bias),
  }));
  const mean = np.array(Float32Array.from(normalization.mean)).reshape([1, 3, 1, 1]);
  const std = np.array(Float32Array.from(normalization.std)).reshape([1, 3, 1, 1]);
  const grey = model.heads.some((h) => h.greyInput);
  const luma = np.array(Float32Array.from(LUMA_WEIGHTS)).reshape([1, 3, 1, 1]);
  // As the ONNX graph (onnx-vit.ts): grey-input heads read the features of the grey copies, run in one batch with the colour ones.
  const forward = jit((p: VitParams, hs: HeadParams[], m: Array, s: Array, w: Array, x: Array) => {
    const n = x.shape[0]!;
    const greyCopy = () => np.broadcastTo(x.ref.mul(w).sum(1, { keepdims: true }), x.shape);
    const pixels = grey ? np.concatenate([x, greyCopy()], 0) : (w.dispose(), x);
    const pooled = poolTokens(vitFeatures(p, pixels.sub(m).div(s), cfg), cfg.globalPool);
    const features = grey ? pooled.ref.slice([0, n], []) : pooled.ref;
    const greyFeatures = grey ? pooled.ref.slice([n, 2 * n], []) : pooled.ref;
    pooled.dispose();
    const outputs = model.heads.map((spec, i) => {
      const logits = linear(hs[i]!, (spec.greyInput ? greyFeatures : features).ref);
      return spec.activation === "sigmoid"
        ? nn.sigmoid(logits)
        : spec.activation === "softmax"
          ? nn.softmax(logits, -1)
          : expectedAge(logits);
    });
    greyFeatures.dispose();
    return [features, ...outputs];
  });
  return {
    engine: "jax",
    async run(pixels, n) {
      const size = cfg.imgSize;
      const arrays = forward(
        tree.ref(params),
        tree.ref(heads),
        mean.ref,
        std.ref,
        luma.ref,
        np.array(pixels).reshape([n, 3, size, size]),
      ) as Array[];
      const values = await Promise.all(arrays.map(async (a) => (await a.data()) as Float32Array));
      return Object.fromEntries([[FEATURES_OUTPUT, values[0]!], ...model.heads.map((h, i) => [h.name, values[i + 1]!])]);
    },
    async dispose() {
      forward.dispose();
      tree.dispose([params, heads, mean, std, luma]);
    },
  };
}

/** Runs `model` with `engine` (onnx needs onnxruntime-node; see chooseEngine). */
export async function createModelRunner(model: FaceModel, engine: InferenceEngine, threads: number): Promise<ModelRunner> {
  return engine === "onnx" ? onnxRunner(model, threads) : jaxRunner(model);
}
