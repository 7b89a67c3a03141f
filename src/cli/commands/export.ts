/**
 * `faceprior export`: a face model (encoder and heads; the bundled one by default) or a bare ViT
 * checkpoint -> one ONNX model (opset 17), for onnxruntime and other ONNX runtimes. A face model
 * also gets `<name>.json` beside it: input size, alignment template and each head's labels.
 */
import { readSafetensors } from "../../checkpoint/safetensors.js";
import { readVitCheckpoint, type HostVitCheckpoint } from "../../checkpoint/vit-checkpoint.js";
import { exportFaceModel, manifestPathFor } from "../../inference/export-face-model.js";
import { DEFAULT_MODEL_PATH } from "../../inference/face-analyzer.js";
import { isFaceModelMetadata, readFaceModel } from "../../face-model/face-model.js";
import { buildFaceOnnx, FEATURES_OUTPUT, IMAGE_INPUT } from "../../face-model/onnx-vit.js";
import { ONNX_OPSET } from "../../engine/onnx-proto.js";
import { writeFileAtomic } from "../../io/atomic-write.js";
import { defineCommand } from "../command.js";
import { CHECKPOINT_SHAPE_OPTIONS, MODEL_OR_ENCODER_OPTION } from "../model-option.js";
import { usageError } from "../errors.js";

/** A bare encoder (no heads, no manifest) as ONNX. */
async function exportEncoder(
  ckpt: Pick<HostVitCheckpoint, "tensors" | "cfg" | "normalization">,
  onnxPath: string,
  source: string,
): Promise<{ onnxBytes: number }> {
  const bytes = buildFaceOnnx({ ...ckpt, source });
  await writeFileAtomic(onnxPath, bytes);
  return { onnxBytes: bytes.byteLength };
}

export const exportOnnx = defineCommand({
  name: "export",
  summary: "Export a face model (encoder and heads) or a ViT checkpoint as an ONNX model.",
  details: [
    `Input "${IMAGE_INPUT}": float32 [N, 3, S, S], RGB in [0, 1], any batch size N; the checkpoint's mean/std are applied inside the graph.`,
    `Output "${FEATURES_OUTPUT}": [N, D], the class token or the mean of the patch tokens, as the checkpoint's global_pool says.`,
  ],
  options: {
    model: MODEL_OR_ENCODER_OPTION,
    onnx: { type: "string", required: true, placeholder: "out.onnx", description: "ONNX file to write (atomically)." },
    ...CHECKPOINT_SHAPE_OPTIONS,
  },
  examples: ["faceprior export --onnx faceprior.onnx", "faceprior export --model encoder.safetensors --onnx encoder.onnx"],
  async run(options, _inputs, ctx) {
    if (!options.onnx.endsWith(".onnx")) throw usageError(`--onnx: "${options.onnx}" must end in .onnx.`);
    const modelPath = options.model ?? DEFAULT_MODEL_PATH;
    const { metadata } = await readSafetensors(modelPath);
    const faceModel = isFaceModelMetadata(metadata) ? await readFaceModel(modelPath) : null;
    if (faceModel && (options.arch || options.imgSize))
      throw usageError(`--arch and --img-size apply to bare checkpoints; ${modelPath} is a face model with heads.`);
    const ckpt = faceModel ?? (await readVitCheckpoint(modelPath, { arch: options.arch, imgSize: options.imgSize }));
    for (const note of "notes" in ckpt ? ckpt.notes : []) ctx.stderr.write(`note: ${modelPath}: ${note}\n`);
    const written = faceModel ? await exportFaceModel(faceModel, options.onnx) : await exportEncoder(ckpt, options.onnx, modelPath);
    const { cfg } = ckpt;
    const pooled = cfg.globalPool === "token" ? "class token" : "mean of patch tokens";
    ctx.stdout.write(
      [
        `Wrote ${options.onnx}: ViT width ${cfg.embedDim}, depth ${cfg.depth}, ONNX opset ${ONNX_OPSET}, ${(written.onnxBytes / 1e6).toFixed(1)} MB.`,
        `Input "${IMAGE_INPUT}" float32 [N, 3, ${cfg.imgSize}, ${cfg.imgSize}], RGB in [0, 1]; output "${FEATURES_OUTPUT}" [N, ${cfg.embedDim}] (${pooled}).`,
        ...(faceModel
          ? [`Heads: ${faceModel.heads.map((h) => h.name).join(", ")}; labels and alignment template in ${manifestPathFor(options.onnx)}.`]
          : []),
        `Next: python -c "import onnxruntime as ort; print(ort.InferenceSession('${options.onnx}').get_outputs()[0].shape)"`,
      ].join("\n") + "\n",
    );
  },
});
