/**
 * `faceprior export`: a ViT checkpoint -> an ONNX model of the encoder (opset 17), for
 * onnxruntime and other ONNX runtimes. Task heads can be exported through the library
 * (`buildFaceOnnx({ heads })`); the CLI exports the encoder alone until heads have a file format.
 */
import { readVitCheckpoint } from "../../checkpoint/vit-checkpoint.js";
import { buildFaceOnnx, FEATURES_OUTPUT, IMAGE_INPUT } from "../../export/onnx-vit.js";
import { ONNX_OPSET } from "../../export/onnx-proto.js";
import { writeFileAtomic } from "../../io/atomic-write.js";
import { vitPresetNames } from "../../model/vit-presets.js";
import { defineCommand } from "../command.js";
import { usageError } from "../errors.js";

export const exportOnnx = defineCommand({
  name: "export",
  summary: "Export a ViT checkpoint's encoder as an ONNX model.",
  details: [
    `Input "${IMAGE_INPUT}": float32 [N, 3, S, S], RGB in [0, 1], any batch size N; the checkpoint's mean/std are applied inside the graph.`,
    `Output "${FEATURES_OUTPUT}": [N, D], the class token or the mean of the patch tokens, as the checkpoint's global_pool says.`,
  ],
  options: {
    model: { type: "string", required: true, placeholder: "encoder.safetensors", description: "ViT checkpoint to export." },
    onnx: { type: "string", required: true, placeholder: "out.onnx", description: "ONNX file to write (atomically)." },
    arch: { type: "choice", choices: vitPresetNames(), placeholder: "name", description: "Architecture, for a checkpoint without metadata or to override it." },
    imgSize: { type: "int", min: 8, placeholder: "pixels", description: "Input size S; the position embeddings are resampled.", defaultText: "the checkpoint's" },
  },
  examples: ["faceprior export --model encoder.safetensors --onnx encoder.onnx"],
  async run(options, _inputs, ctx) {
    if (!options.onnx.endsWith(".onnx")) throw usageError(`--onnx: "${options.onnx}" must end in .onnx.`);
    const ckpt = await readVitCheckpoint(options.model, { arch: options.arch, imgSize: options.imgSize });
    for (const note of ckpt.notes) ctx.stderr.write(`note: ${options.model}: ${note}\n`);
    const bytes = buildFaceOnnx({ ...ckpt, source: options.model });
    await writeFileAtomic(options.onnx, bytes);
    const { cfg } = ckpt;
    const pooled = cfg.globalPool === "token" ? "class token" : "mean of patch tokens";
    ctx.stdout.write(
      [
        `Wrote ${options.onnx}: ViT width ${cfg.embedDim}, depth ${cfg.depth}, ONNX opset ${ONNX_OPSET}, ${(bytes.byteLength / 1e6).toFixed(1)} MB.`,
        `Input "${IMAGE_INPUT}" float32 [N, 3, ${cfg.imgSize}, ${cfg.imgSize}], RGB in [0, 1]; output "${FEATURES_OUTPUT}" [N, ${cfg.embedDim}] (${pooled}).`,
        `Next: python -c "import onnxruntime as ort; print(ort.InferenceSession('${options.onnx}').get_outputs()[0].shape)"`,
      ].join("\n") + "\n",
    );
  },
});
