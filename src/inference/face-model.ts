/**
 * A face model file: one encoder and its heads in one safetensors file. The bundled default model
 * ships in this format; `analyze`, `export` and the browser demo read it, and `finetune` can add
 * a head trained on a user's photos.
 *
 *   tensors   the encoder's, with timm's names (F16 or F32);
 *             per head `heads.<name>.weight` [K, D] and `heads.<name>.bias` [K], on pooled features
 *   metadata  the encoder's architecture and normalisation (vit-metadata.ts), and
 *             `faceprior.heads`: JSON [{ name, activation, labels, about? }] in output order, where
 *             `labels` names the K outputs (["age"] for an expected-age head), and optionally
 *             `faceprior.model`: JSON, free-form provenance (data, protocol, held-out metrics)
 */
import { z } from "zod";
import { readSafetensors, writeSafetensors, type HostTensor, type TensorMap } from "../checkpoint/safetensors.js";
import { checkVitTensors, type HostVitCheckpoint } from "../checkpoint/vit-checkpoint.js";
import { normalizationFromMetadata, vitConfigFromMetadata, vitMetadata } from "../checkpoint/vit-metadata.js";
import { parseConfig } from "../config-schema.js";
import { FacepriorError } from "../errors.js";
import type { HeadActivation, OnnxHead } from "../export/onnx-vit.js";

const HEADS_KEY = "faceprior.heads";
const MODEL_KEY = "faceprior.model";
const HEAD_PREFIX = "heads.";

const HeadSpecSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/i, "letters, digits and _, starting with a letter"),
  activation: z.enum(["sigmoid", "softmax", "expected-age"]),
  labels: z.array(z.string()).min(1),
  about: z.string().optional(),
});

/** What one head predicts: `labels[k]` names output k. */
export type HeadSpec = z.output<typeof HeadSpecSchema> & { activation: HeadActivation };
export type ModelHead = HeadSpec & { weight: Float32Array; bias: Float32Array };

export type FaceModel = Pick<HostVitCheckpoint, "cfg" | "normalization" | "tensors"> & {
  source: string;
  heads: ModelHead[];
  /** Provenance, as stored. */
  about: Record<string, unknown>;
};

function headTensors(tensors: TensorMap, spec: HeadSpec, dim: number, source: string): ModelHead {
  const weight = tensors[`${HEAD_PREFIX}${spec.name}.weight`];
  const bias = tensors[`${HEAD_PREFIX}${spec.name}.bias`];
  const k = spec.activation === "expected-age" ? bias?.shape[0] : spec.labels.length;
  if (!weight || !bias || weight.shape.join() !== `${k},${dim}` || bias.shape.join() !== `${k}`) {
    const found = weight && bias ? `weight ${JSON.stringify(weight.shape)} and bias ${JSON.stringify(bias.shape)}` : "no tensors";
    throw new FacepriorError("BAD_CHECKPOINT", `${source}: head "${spec.name}" has ${found}; it needs weight [${k}, ${dim}] and bias [${k}] for its ${spec.labels.length} labels. Re-export the model.`);
  }
  return { ...spec, weight: weight.data as Float32Array, bias: bias.data as Float32Array };
}

/** Whether a safetensors file's metadata describes heads (a face model) rather than a bare encoder. */
export function isFaceModelMetadata(metadata: Record<string, string>): boolean {
  return metadata[HEADS_KEY] !== undefined;
}

/** What a runtime outside Node (the browser demo) needs to use an exported face model. */
export function faceModelManifest(model: Pick<FaceModel, "cfg" | "heads">, onnxFile: string, alignmentTemplate: readonly number[]) {
  return {
    format: "faceprior-onnx-manifest/1",
    onnx: onnxFile,
    input: { name: "image", shape: ["N", 3, model.cfg.imgSize, model.cfg.imgSize], range: [0, 1], layout: "RGB, aligned: the five points (eye centres, nose tip, mouth corners) moved onto `alignment`" },
    alignment: { size: model.cfg.imgSize, fivePoints: alignmentTemplate },
    outputs: { features: model.cfg.embedDim, heads: model.heads.map(({ name, activation, labels }) => ({ name, activation, labels })) },
  };
}

export type FaceModelManifest = ReturnType<typeof faceModelManifest>;

/** Reads and checks a face model file; the encoder part is checked like any checkpoint. */
export async function readFaceModel(path: string): Promise<FaceModel> {
  const { tensors, metadata } = await readSafetensors(path);
  const cfg = vitConfigFromMetadata(metadata, path);
  if (!cfg || metadata[HEADS_KEY] === undefined) {
    throw new FacepriorError("BAD_CHECKPOINT", `${path}: not a face model (no ${cfg ? HEADS_KEY : "architecture"} in its metadata). Pass a model written by faceprior (the bundled one, or finetune --add-to), or use an encoder checkpoint with embed.`);
  }
  let specsJson: unknown;
  try {
    specsJson = JSON.parse(metadata[HEADS_KEY]!);
  } catch {
    throw new FacepriorError("BAD_CHECKPOINT", `${path}: __metadata__.${HEADS_KEY} is not JSON. Re-export the model.`);
  }
  const specs = parseConfig(z.array(HeadSpecSchema), specsJson, `${path}: ${HEADS_KEY}`);
  const encoder = Object.fromEntries(Object.entries(tensors).filter(([name]) => !name.startsWith(HEAD_PREFIX)));
  checkVitTensors(encoder, cfg, path, "its __metadata__");
  const heads = specs.map((spec) => headTensors(tensors, spec, cfg.embedDim, path));
  const normalization = normalizationFromMetadata(metadata, path, []);
  return { source: path, cfg, normalization, tensors: encoder, heads, about: metadata[MODEL_KEY] ? JSON.parse(metadata[MODEL_KEY]) : {} };
}

/** Writes a face model atomically; the encoder in `dtype` on disk, heads in float32. */
export async function writeFaceModel(path: string, model: Omit<FaceModel, "source">, dtype: "F16" | "F32" = "F16"): Promise<void> {
  const tensors: TensorMap = {};
  for (const [name, t] of Object.entries(model.tensors)) tensors[name] = { ...t, dtype } satisfies HostTensor;
  const dim = model.cfg.embedDim;
  for (const head of model.heads) {
    const k = head.bias.length;
    tensors[`${HEAD_PREFIX}${head.name}.weight`] = { dtype: "F32", shape: [k, dim], data: head.weight };
    tensors[`${HEAD_PREFIX}${head.name}.bias`] = { dtype: "F32", shape: [k], data: head.bias };
  }
  const specs = model.heads.map(({ name, activation, labels, about }) => ({ name, activation, labels, ...(about ? { about } : {}) }));
  await writeSafetensors(path, tensors, { ...vitMetadata(model.cfg, model.normalization), [HEADS_KEY]: JSON.stringify(specs), [MODEL_KEY]: JSON.stringify(model.about) });
}

/** The heads in the form the ONNX graph builder takes. */
export function onnxHeads(model: Pick<FaceModel, "heads">): OnnxHead[] {
  return model.heads.map(({ name, weight, bias, activation }) => ({ name, weight, bias, activation }));
}
