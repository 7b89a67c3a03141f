/**
 * ViT encoder checkpoints: one safetensors file with timm's tensor names and shapes, and in its
 * `__metadata__` the architecture and input normalisation (see vit-metadata.ts).
 *
 * Loading checks every tensor against the architecture before any array is made, so a wrong
 * file fails at the boundary with the tensor's name, both shapes and the fix. The architecture
 * (from metadata or --arch) is itself checked against the tensors before it drives any work:
 * a depth of a million costs nothing when the file holds twelve blocks. Weights must be float
 * and finite: one NaN makes every prediction NaN.
 */
import { Array as JaxArray, numpy as np, type Array } from "../engine/jax.js";
import { FacepriorError, invalidArgument } from "../errors.js";
import { resamplePosEmbed } from "../model/pos-embed.js";
import { VIT_ALIASES, VIT_PRESETS, numPatches, resolveVitPreset, type VitConfig } from "../model/vit-presets.js";
import type { VitParams } from "../model/vit.js";
import { inferVitConfig, isEncoderTensorName } from "./from-timm.js";
import { flattenNamed, unflattenNamed, type NamedTree } from "./param-names.js";
import { readSafetensors, writeSafetensors, type HostTensor, type TensorMap } from "./safetensors.js";
import {
  DEFAULT_NORMALIZATION,
  isReservedMetadataKey,
  normalizationFromMetadata,
  vitConfigFromMetadata,
  vitMetadata,
  type Normalization,
} from "./vit-metadata.js";

/** A checkpoint checked against its architecture, tensors still on the host. */
export type HostVitCheckpoint = {
  source: string;
  cfg: VitConfig;
  tensors: TensorMap;
  normalization: Normalization;
  metadata: Record<string, string>;
  /** What was assumed or changed while loading (a missing normalisation, a resampled pos_embed). */
  notes: string[];
};
export type VitCheckpoint = Omit<HostVitCheckpoint, "tensors"> & { params: VitParams };

export type LoadVitOptions = {
  /** A preset or CLI alias (`vit_tiny_patch16_112`, `vit-tiny`); overrides the file's metadata. */
  arch?: string;
  /** Input size to run at; the position embeddings are resampled (bicubic) when it differs. */
  imgSize?: number;
  /** Heads, when neither metadata nor `arch` gives them and the width is not in timm's table. */
  numHeads?: number;
  /** Read only the encoder's tensors of a file that holds more (a face model's `heads.*`). */
  encoderOnly?: boolean;
};

export type SaveVitOptions = {
  /** On-disk precision; arrays are float32 either way once loaded. */
  dtype?: "float32" | "float16";
  normalization?: Normalization;
  /** Extra string metadata (a run's config, its step); may not reuse the architecture keys. */
  metadata?: Record<string, string>;
};

// ---- architecture <-> tensors ----

/** Every tensor the encoder needs, timm name -> shape. */
export function vitTensorShapes(cfg: VitConfig): Record<string, number[]> {
  const { embedDim: d, patchSize: p } = cfg;
  const hidden = Math.round(d * cfg.mlpRatio);
  const shapes: Record<string, number[]> = {
    cls_token: [1, 1, d],
    pos_embed: [1, 1 + numPatches(cfg), d],
    "patch_embed.proj.weight": [d, 3, p, p],
    "patch_embed.proj.bias": [d],
  };
  for (let i = 0; i < cfg.depth; i++) {
    const b = `blocks.${i}`;
    Object.assign(shapes, {
      [`${b}.norm1.weight`]: [d],
      [`${b}.norm1.bias`]: [d],
      [`${b}.attn.qkv.weight`]: [3 * d, d],
      ...(cfg.qkvBias ? { [`${b}.attn.qkv.bias`]: [3 * d] } : {}),
      [`${b}.attn.proj.weight`]: [d, d],
      [`${b}.attn.proj.bias`]: [d],
      [`${b}.norm2.weight`]: [d],
      [`${b}.norm2.bias`]: [d],
      [`${b}.mlp.fc1.weight`]: [hidden, d],
      [`${b}.mlp.fc1.bias`]: [hidden],
      [`${b}.mlp.fc2.weight`]: [d, hidden],
      [`${b}.mlp.fc2.bias`]: [d],
    });
  }
  shapes["norm.weight"] = [d];
  shapes["norm.bias"] = [d];
  return shapes;
}

type Mismatch = { missing: string[]; unexpected: string[]; wrong: { name: string; got: number[]; want: number[] }[] };

/**
 * The blocks the tensors reach: one past the highest `blocks.<i>.` index, but never more than
 * the file has tensors, whatever an index says (such a tensor is then reported as not the encoder's).
 */
function blockCount(tensors: TensorMap): number {
  const names = Object.keys(tensors);
  const highest = names.reduce((max, name) => Math.max(max, Number(/^blocks\.(\d+)\./.exec(name)?.[1] ?? -1)), -1);
  return Math.min(highest + 1, names.length);
}

/** Compares block by block only as deep as the tensors go: a deeper `cfg` is reported by `checkVitTensors`. */
function compareShapes(tensors: TensorMap, cfg: VitConfig): Mismatch {
  const want = vitTensorShapes({ ...cfg, depth: Math.min(cfg.depth, blockCount(tensors)) });
  const wrong = Object.entries(want)
    .filter(([name, shape]) => tensors[name] && !sameShape(tensors[name]!.shape, shape))
    .map(([name, shape]) => ({ name, got: tensors[name]!.shape, want: shape }));
  return {
    missing: Object.keys(want).filter((name) => !tensors[name]),
    unexpected: Object.keys(tensors).filter((name) => !(name in want)),
    wrong,
  };
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
const showShape = (s: number[]) => `[${s.join(",")}]`;
const listSome = (names: string[], n = 4) => names.slice(0, n).join(", ") + (names.length > n ? `, ... (${names.length} in all)` : "");

/**
 * Throws BAD_CHECKPOINT unless `tensors` are exactly the encoder's, shapes included. `archLabel`
 * says where `cfg` came from ("vit_small_patch16_112", "its __metadata__").
 */
export function checkVitTensors(tensors: TensorMap, cfg: VitConfig, source: string, archLabel: string): void {
  checkFloatTensors(tensors, source);
  const { missing, unexpected, wrong } = compareShapes(tensors, cfg);
  const fix = () => suggestArch(tensors, archLabel);
  if (wrong.length > 0) {
    const { name, got, want } = wrong[0]!;
    const more = wrong.length > 1 ? ` (${wrong.length - 1} more tensors differ)` : "";
    throw new FacepriorError(
      "BAD_CHECKPOINT",
      `${source}: ${name} is ${showShape(got)}, ${archLabel} expects ${showShape(want)}${more}. ${fix()}`,
    );
  }
  if (unexpected.length > 0) throw notEncoderError(source, unexpected);
  const blocks = blockCount(tensors);
  if (cfg.depth > blocks) {
    throw new FacepriorError(
      "BAD_CHECKPOINT",
      `${source}: ${archLabel} has depth ${cfg.depth}, but the file holds ${blocks} blocks. ${fix()}`,
    );
  }
  if (missing.length > 0) {
    throw new FacepriorError(
      "BAD_CHECKPOINT",
      `${source}: missing ${missing.length} tensors that ${archLabel} expects: ${listSome(missing)}. ${fix()}`,
    );
  }
}

/**
 * Throws BAD_CHECKPOINT naming the first tensor that is not float weights (F32, F16) or that
 * holds NaN or an infinity. For any weights: the encoder's here, a face model's heads too.
 */
export function checkFloatTensors(tensors: TensorMap, source: string): void {
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== "F32" && t.dtype !== "F16") {
      throw new FacepriorError(
        "BAD_CHECKPOINT",
        `${source}: ${name} is ${t.dtype}, expected F32 or F16. Re-export the checkpoint with float weights.`,
      );
    }
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new FacepriorError(
        "BAD_CHECKPOINT",
        `${source}: ${name} holds ${t.data[bad]} at element ${bad}; weights must be finite numbers. The file is damaged, or was saved from a diverged run: use an earlier checkpoint.`,
      );
    }
  }
}

function notEncoderError(source: string, names: string[]): FacepriorError {
  return new FacepriorError(
    "BAD_CHECKPOINT",
    `${source}: ${names.length} tensors are not part of faceprior's ViT encoder: ${listSome(names)}. ` +
      "Convert it first (`faceprior convert`), which strips wrapper prefixes and drops decoder and head tensors.",
  );
}

/** The fix for a shape mismatch: a preset whose shapes all match, else what the shapes describe. */
function suggestArch(tensors: TensorMap, archLabel: string): string {
  const fits = (cfg: VitConfig) => {
    const m = compareShapes(tensors, cfg);
    return m.missing.length + m.unexpected.length + m.wrong.length === 0;
  };
  const alias = Object.keys(VIT_ALIASES).find((a) => fits(VIT_PRESETS[VIT_ALIASES[a]!]!));
  const preset = alias ?? Object.keys(VIT_PRESETS).find((name) => fits(VIT_PRESETS[name]!));
  if (preset) return `Set arch to ${preset}.`;
  try {
    const { cfg } = inferVitConfig(tensors, { numHeads: 1 });
    const described = `patch ${cfg.patchSize}, ${cfg.imgSize}x${cfg.imgSize} input, width ${cfg.embedDim}, depth ${cfg.depth}`;
    if (archLabel === "its __metadata__") return `The tensors describe ${described}; the metadata is wrong, re-export the checkpoint.`;
    return `The tensors describe ${described}, which no preset matches; leave arch out to read it from the file.`;
  } catch {
    return "It does not look like a timm-layout ViT; `faceprior convert` imports other layouts.";
  }
}

// ---- load ----

/** Reads and checks a checkpoint without making arrays (no engine needed): `faceprior info`. */
export async function readVitCheckpoint(path: string, options: LoadVitOptions = {}): Promise<HostVitCheckpoint> {
  const file = await readSafetensors(path);
  const { metadata } = file;
  const tensors = options.encoderOnly
    ? Object.fromEntries(Object.entries(file.tensors).filter(([name]) => isEncoderTensorName(name)))
    : file.tensors;
  const notes: string[] = [];
  let cfg: VitConfig;
  let label: string;
  const fromMetadata = vitConfigFromMetadata(metadata, path);
  if (options.arch !== undefined) {
    cfg = resolveVitPreset(options.arch);
    label = VIT_ALIASES[options.arch] ?? options.arch;
  } else if (fromMetadata) {
    cfg = fromMetadata;
    label = "its __metadata__";
  } else {
    const foreign = Object.keys(tensors).filter((name) => !isEncoderTensorName(name));
    if (foreign.length > 0) throw notEncoderError(path, foreign);
    const inferred = inferVitConfig(tensors, { numHeads: options.numHeads, source: path });
    cfg = inferred.cfg;
    label = "the architecture inferred from its shapes";
    notes.push("no architecture in the metadata; inferred it from the tensor shapes", ...inferred.notes);
  }
  checkVitTensors(tensors, cfg, path, label);
  const normalization = normalizationFromMetadata(metadata, path, notes);
  if (options.imgSize !== undefined && options.imgSize !== cfg.imgSize) {
    cfg = resizeInput(tensors, cfg, options.imgSize, path);
    notes.push(
      `pos_embed resampled (bicubic) to ${cfg.imgSize / cfg.patchSize}x${cfg.imgSize / cfg.patchSize} patches for ${cfg.imgSize}x${cfg.imgSize} input`,
    );
  }
  return { source: path, cfg, tensors, normalization, metadata, notes };
}

function resizeInput(tensors: TensorMap, cfg: VitConfig, imgSize: number, source: string): VitConfig {
  if (!Number.isInteger(imgSize) || imgSize <= 0 || imgSize % cfg.patchSize !== 0) {
    throw invalidArgument("imgSize", `a positive multiple of ${source}'s patch size ${cfg.patchSize}`, imgSize);
  }
  const grid = imgSize / cfg.patchSize;
  const resampled = resamplePosEmbed(tensors.pos_embed!.data as Float32Array, cfg.embedDim, grid);
  tensors.pos_embed = { dtype: "F32", shape: [1, 1 + grid * grid, cfg.embedDim], data: resampled };
  return { ...cfg, imgSize };
}

/** Host tensors (already checked) -> the parameter tree; a qkv layer saved without bias gets zeros. */
export function vitParamsFromTensors(tensors: TensorMap, cfg: VitConfig): VitParams {
  const arrays: Record<string, Array> = {};
  for (const [name, t] of Object.entries(tensors)) arrays[name] = np.array(t.data as Float32Array, { shape: t.shape });
  for (let i = 0; i < cfg.depth && !cfg.qkvBias; i++) arrays[`blocks.${i}.attn.qkv.bias`] = np.zeros([3 * cfg.embedDim]);
  return unflattenNamed(arrays) as unknown as VitParams;
}

export async function loadVitCheckpoint(path: string, options: LoadVitOptions = {}): Promise<VitCheckpoint> {
  const { tensors, ...rest } = await readVitCheckpoint(path, options);
  return { ...rest, params: vitParamsFromTensors(tensors, rest.cfg) };
}

// ---- save ----

/**
 * Writes `params` atomically. Borrows `params`: the caller still owns them afterwards.
 * With `cfg.qkvBias` false, all-zero qkv biases are left out; non-zero ones are kept and
 * recorded as `qkv_bias: "true"`, since the forward pass adds them either way.
 */
export async function saveVitCheckpoint(path: string, params: VitParams, cfg: VitConfig, options: SaveVitOptions = {}): Promise<void> {
  const tensors = await hostTensorsOf(params);
  const qkvBiases = Object.keys(tensors).filter((name) => name.endsWith(".attn.qkv.bias"));
  const dropBias = !cfg.qkvBias && qkvBiases.every((name) => tensors[name]!.data.every((v) => v === 0));
  for (const name of dropBias ? qkvBiases : []) delete tensors[name];
  await writeVitTensors(path, tensors, { ...cfg, qkvBias: !dropBias }, options);
}

/** The parameters as float32 host tensors with timm's names. Borrows `params`. */
export async function hostTensorsOf(params: VitParams): Promise<TensorMap> {
  const leaves = flattenNamed<Array>(params as unknown as NamedTree<Array>, (x): x is Array => x instanceof JaxArray);
  const tensors: TensorMap = {};
  for (const [name, leaf] of Object.entries(leaves)) {
    tensors[name] = { dtype: "F32", shape: [...leaf.shape], data: (await leaf.ref.data()) as Float32Array };
  }
  return tensors;
}

/** Writes host tensors as a checkpoint after checking them against `cfg` (`faceprior convert`). */
export async function writeVitTensors(path: string, tensors: TensorMap, cfg: VitConfig, options: SaveVitOptions = {}): Promise<void> {
  checkVitTensors(tensors, cfg, path, "the config");
  const clash = Object.keys(options.metadata ?? {}).find(isReservedMetadataKey);
  if (clash) throw invalidArgument("metadata", "keys other than the architecture's", clash);
  const dtype = options.dtype === "float16" ? "F16" : "F32";
  const stored: TensorMap = {};
  for (const [name, t] of Object.entries(tensors)) stored[name] = { ...t, dtype } satisfies HostTensor;
  const metadata = { ...options.metadata, ...vitMetadata(cfg, options.normalization ?? DEFAULT_NORMALIZATION) };
  await writeSafetensors(path, stored, metadata);
}

/** Number of parameters (tensor elements) in a tensor map. */
export function countParameters(tensors: TensorMap): number {
  return Object.values(tensors).reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
}
