/**
 * A face model file: one encoder and its heads in one safetensors file. The bundled default model
 * ships in this format; `analyze`, `export` and the browser demo read it, and `add-head` adds a
 * head trained on a user's photos (transfer/add-head/fit-head.ts).
 *
 *   tensors   the encoder's, with timm's names (F16 or F32);
 *             per head `heads.<name>.weight` [K, D] and `heads.<name>.bias` [K], on pooled features
 *   metadata  the encoder's architecture and normalisation (vit-metadata.ts), and
 *             `faceprior.heads`: JSON [{ name, activation, labels, about? }] in output order, where
 *             `labels` names the K outputs (["age"] for an age head: expected-age or median-age), and optionally
 *             `faceprior.model`: JSON, free-form provenance (data, protocol, held-out metrics), and
 *             `faceprior.mirrorAverage`: "true" when the features (and so every head) are the mean
 *             of the face's and its mirror image's (test-time flip; absent in older models)
 */
import { z } from "zod";
import { openSafetensors, readSafetensors, writeSafetensors, type HostTensor, type TensorMap } from "../checkpoint/safetensors.js";
import {
  checkFloatTensors,
  checkVitTensors,
  readVitCheckpoint,
  type HostVitCheckpoint,
  type LoadVitOptions,
} from "../checkpoint/vit-checkpoint.js";
import { normalizationFromMetadata, vitConfigFromMetadata, vitMetadata, type Normalization } from "../checkpoint/vit-metadata.js";
import { parseConfig } from "../config-schema.js";
import { FacepriorError, invalidArgument } from "../errors.js";
import { HEAD_ACTIVATIONS, predictsAge } from "../model/head-activations.js";
import { parseJson } from "../io/json-file.js";
import type { VitConfig } from "../model/vit-presets.js";

const HEADS_KEY = "faceprior.heads";
const MODEL_KEY = "faceprior.model";
const MIRROR_KEY = "faceprior.mirrorAverage";
const HEAD_PREFIX = "heads.";

const HEAD_NAME = /^[a-z][a-z0-9_]*$/i;
const HEAD_NAME_RULE = "letters, digits and _, starting with a letter";

const HeadSpecSchema = z.strictObject({
  name: z.string().regex(HEAD_NAME, HEAD_NAME_RULE),
  activation: z.enum(HEAD_ACTIVATIONS),
  labels: z.array(z.string()).min(1),
  about: z.string().optional(),
  /** The head reads the features of the grey copy of each face (it was trained on grey faces only). */
  greyInput: z.boolean().optional(),
});

/** What one head predicts: `labels[k]` names output k. */
export type HeadSpec = z.output<typeof HeadSpecSchema>;
export type ModelHead = HeadSpec & { weight: Float32Array; bias: Float32Array };

/** The encoder's fields are spelled out, not picked from HostVitCheckpoint: that module's types reach jax-js's, which the package's main types stay clear of (README, "From code"). */
export type FaceModel = {
  cfg: VitConfig;
  normalization: Normalization;
  tensors: TensorMap;
  source: string;
  heads: ModelHead[];
  /** Provenance, as stored. */
  about: Record<string, unknown>;
  /** Features are the mean of each face's and its mirror image's; the heads read them (encoder-runner.ts). */
  mirrorAverage?: boolean;
};

function headTensors(tensors: TensorMap, spec: HeadSpec, dim: number, source: string): ModelHead {
  const weight = tensors[`${HEAD_PREFIX}${spec.name}.weight`];
  const bias = tensors[`${HEAD_PREFIX}${spec.name}.bias`];
  const k = predictsAge(spec.activation) ? bias?.shape[0] : spec.labels.length;
  if (!weight || !bias || weight.shape.join() !== `${k},${dim}` || bias.shape.join() !== `${k}`) {
    const found = weight && bias ? `weight ${JSON.stringify(weight.shape)} and bias ${JSON.stringify(bias.shape)}` : "no tensors";
    throw new FacepriorError(
      "BAD_CHECKPOINT",
      `${source}: head "${spec.name}" has ${found}; it needs weight [${k}, ${dim}] and bias [${k}] for its ${spec.labels.length} labels. Re-export the model.`,
    );
  }
  checkFloatTensors({ [`${HEAD_PREFIX}${spec.name}.weight`]: weight, [`${HEAD_PREFIX}${spec.name}.bias`]: bias }, source);
  return { ...spec, weight: weight.data as Float32Array, bias: bias.data as Float32Array };
}

/** Whether a safetensors file's metadata describes heads (a face model) rather than a bare encoder. */
export function isFaceModelMetadata(metadata: Record<string, string>): boolean {
  return metadata[HEADS_KEY] !== undefined;
}

export type EncoderOfFile = HostVitCheckpoint & { mirrorAverage: boolean };

/**
 * The encoder of a face model (its heads left out) or of a bare checkpoint: what `embed --model`
 * and every `--init` read, so that training can start from a shipped model. `mirrorAverage` says
 * how the face model's heads read its features (false for a bare checkpoint).
 */
export async function readEncoderOf(path: string, options: LoadVitOptions = {}): Promise<EncoderOfFile> {
  const header = await openSafetensors(path);
  await header.close();
  const ckpt = await readVitCheckpoint(path, { ...options, encoderOnly: isFaceModelMetadata(header.metadata) });
  return { ...ckpt, mirrorAverage: readMirrorAverage(header.metadata, path) };
}

/** What a runtime outside Node (the browser demo) needs to use an exported face model. */
export function faceModelManifest(model: Pick<FaceModel, "cfg" | "heads">, onnxFile: string, alignmentTemplate: readonly number[]) {
  return {
    format: "faceprior-onnx-manifest/1",
    onnx: onnxFile,
    input: {
      name: "image",
      shape: ["N", 3, model.cfg.imgSize, model.cfg.imgSize],
      range: [0, 1],
      layout: "RGB, aligned: the five points (eye centres, nose tip, mouth corners) moved onto `alignment`",
    },
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
    throw new FacepriorError(
      "BAD_CHECKPOINT",
      `${path}: not a face model (no ${cfg ? HEADS_KEY : "architecture"} in its metadata). Pass a face model (the bundled one, or one written by faceprior pack or add-head), or use an encoder checkpoint with embed.`,
    );
  }
  const specs = parseConfig(z.array(HeadSpecSchema), metadataJson(metadata, HEADS_KEY, path), `${path}: ${HEADS_KEY}`);
  const encoder = Object.fromEntries(Object.entries(tensors).filter(([name]) => !name.startsWith(HEAD_PREFIX)));
  checkVitTensors(encoder, cfg, path, "its __metadata__");
  const heads = specs.map((spec) => headTensors(tensors, spec, cfg.embedDim, path));
  const normalization = normalizationFromMetadata(metadata, path, []);
  const mirrorAverage = readMirrorAverage(metadata, path);
  return {
    source: path,
    cfg,
    normalization,
    tensors: encoder,
    heads,
    about: readAbout(metadata, path),
    ...(mirrorAverage ? { mirrorAverage } : {}),
  };
}

/** Whether a face model file's features are mirror-averaged (its metadata `faceprior.mirrorAverage`); false when absent. */
function readMirrorAverage(metadata: Record<string, string>, path: string): boolean {
  const value = metadata[MIRROR_KEY];
  if (value === undefined || value === "true" || value === "false") return value === "true";
  throw new FacepriorError(
    "BAD_CHECKPOINT",
    `${path}: __metadata__.${MIRROR_KEY} is ${JSON.stringify(value)}, expected "true" or "false". Re-export the model.`,
  );
}

/** The provenance: free-form, but an object, since `info` and `add-head` read fields of it. */
function readAbout(metadata: Record<string, string>, path: string): Record<string, unknown> {
  if (metadata[MODEL_KEY] === undefined) return {};
  const about = metadataJson(metadata, MODEL_KEY, path);
  if (about !== null && typeof about === "object" && !Array.isArray(about)) return about as Record<string, unknown>;
  throw new FacepriorError(
    "BAD_CHECKPOINT",
    `${path}: __metadata__.${MODEL_KEY} is ${JSON.stringify(about)}, expected a JSON object. Re-export the model.`,
  );
}

/** A metadata value that holds JSON, parsed; not JSON is an error naming the key. */
function metadataJson(metadata: Record<string, string>, key: string, path: string): unknown {
  return parseJson(metadata[key]!, `${path}: __metadata__.${key}`, { code: "BAD_CHECKPOINT", fix: "Re-export the model." });
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
  const specs = model.heads.map(({ name, activation, labels, about, greyInput }) => ({
    name,
    activation,
    labels,
    ...(about ? { about } : {}),
    ...(greyInput ? { greyInput } : {}),
  }));
  await writeSafetensors(path, tensors, {
    ...vitMetadata(model.cfg, model.normalization),
    [HEADS_KEY]: JSON.stringify(specs),
    [MODEL_KEY]: JSON.stringify(model.about),
    ...(model.mirrorAverage ? { [MIRROR_KEY]: "true" } : {}),
  });
}

/**
 * Checks the name of a head about to be added to `model`: the form heads are stored under, and
 * not a head the model has unless `replace`.
 */
export function checkNewHeadName(model: Pick<FaceModel, "source" | "heads">, name: string, replace: boolean): void {
  if (!HEAD_NAME.test(name)) throw invalidArgument("name", `a head name of ${HEAD_NAME_RULE}`, name);
  if (!replace && model.heads.some((head) => head.name === name)) {
    const heads = model.heads.map((head) => head.name).join(", ");
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `name: ${model.source} already has a head "${name}" (its heads: ${heads}). Choose another name, or set replace to overwrite it.`,
      { option: "name" },
    );
  }
}

/**
 * `model` with `head` added after its heads, or in place of the head of that name when `replace`;
 * `about` is kept as that head's provenance (`faceprior.model` heads.<name>).
 */
export function addHead(
  model: FaceModel,
  head: ModelHead,
  { replace = false, about = {} }: { replace?: boolean; about?: Record<string, unknown> } = {},
): Omit<FaceModel, "source"> {
  checkNewHeadName(model, head.name, replace);
  const expected = predictsAge(head.activation) ? head.bias.length : head.labels.length;
  if (head.bias.length !== expected || head.weight.length !== expected * model.cfg.embedDim) {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `head "${head.name}": weight has ${head.weight.length} and bias ${head.bias.length} values; on this ${model.cfg.embedDim}-wide encoder with ${expected} outputs they need ${expected * model.cfg.embedDim} and ${expected}. Fit the head on this model's features.`,
    );
  }
  const { source: _source, ...rest } = model;
  void _source;
  const at = model.heads.findIndex((h) => h.name === head.name);
  const heads = at < 0 ? [...model.heads, head] : model.heads.map((h, i) => (i === at ? head : h));
  const headsAbout = (model.about.heads ?? {}) as Record<string, unknown>;
  return { ...rest, heads, about: { ...model.about, heads: { ...headsAbout, [head.name]: about } } };
}
