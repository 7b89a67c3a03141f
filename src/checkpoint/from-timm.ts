/**
 * Importing timm-layout ViT encoders that other code saved: a wrapper prefix (`module.`,
 * `model.`, `encoder.`, `visual.trunk.`, ...) is stripped, MAE's decoder (`decoder_*`,
 * `mask_token`) and a classifier (`head.*`, `fc_norm.*`) are dropped and reported, and the
 * architecture is read off the shapes. Any other layout is refused by name, never guessed at.
 */
import { FacepriorError } from "../errors.js";
import { VitConfigSchema, type VitConfig } from "../model/vit-presets.js";
import { readSafetensors, type TensorMap } from "./safetensors.js";
import { DEFAULT_NORMALIZATION, RUN_STATE_FORMAT, type Normalization } from "./vit-metadata.js";

/** Path parts that wrap an encoder in training code; a prefix made only of these is stripped. */
export const WRAPPER_PREFIXES = ["module", "model", "encoder", "visual", "trunk", "backbone", "vit"] as const;

/** timm's heads for its standard widths (head dim 64 except tiny); others need `numHeads`. */
export const DEFAULT_NUM_HEADS: Record<number, number> = { 192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16 };

/** timm's IMAGENET_DEFAULT_MEAN / _STD, which MAE pretrains with. */
export const IMAGENET_NORMALIZATION: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** timm's IMAGENET_INCEPTION_MEAN / _STD, the default of its ViT configs. */
export const INCEPTION_NORMALIZATION: Normalization = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

export type TimmImportOptions = {
  /** Name for messages; defaults to the path. */
  source?: string;
  /** The prefix to strip, when it is not made of `WRAPPER_PREFIXES` ("" for none). */
  prefix?: string;
  numHeads?: number;
  normalization?: Normalization;
};

export type TimmImport = {
  tensors: TensorMap;
  cfg: VitConfig;
  normalization: Normalization;
  /** The stripped prefix, "" when none. */
  prefix: string;
  /** Tensors left out, grouped by why. */
  dropped: { reason: string; names: string[] }[];
  /** What was assumed rather than read from the file. */
  notes: string[];
};

const ENCODER_NAME =
  /^(cls_token|pos_embed|patch_embed\.proj\.(weight|bias)|norm\.(weight|bias)|blocks\.\d+\.(norm1|norm2|attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)\.(weight|bias))$/;

/** True for the names of faceprior's ViT encoder tensors (timm's, without a prefix). */
export function isEncoderTensorName(name: string): boolean {
  return ENCODER_NAME.test(name);
}

const DROPPABLE: { reason: string; test: RegExp }[] = [
  { reason: "MAE decoder", test: /^(decoder_|mask_token$)/ },
  { reason: "classifier head", test: /^(head|head_dist|fc_norm)\./ },
  { reason: "faceprior pretraining heads", test: /^(pixel_head|patch_head|component_proj|descriptor_head)\./ },
  { reason: "optimizer state", test: /^opt\./ },
];

/** Layouts that are ViTs but not timm's plain one, by a tensor only they have. */
const FOREIGN_LAYOUTS: { name: string; test: RegExp }[] = [
  { name: "an OpenAI/OpenCLIP ViT", test: /(^|\.)(class_embedding|transformer\.resblocks\.\d+)/ },
  { name: "a Hugging Face transformers ViT", test: /(^|\.)embeddings\.patch_embeddings\./ },
  { name: "a DeiT distilled ViT (two class tokens)", test: /(^|\.)dist_token$/ },
  { name: "a ViT with layer scale (DINOv2, CaiT)", test: /\.(ls1|ls2|gamma_1|gamma_2)(\.|$)/ },
  { name: "a ViT with register tokens", test: /(^|\.)reg_token$|register_tokens/ },
  { name: "a BEiT-style ViT (split qkv bias or relative positions)", test: /\.(q_bias|v_bias|relative_position_bias_table)$/ },
  { name: "a ViT with qk-norm", test: /\.attn\.(q_norm|k_norm)\./ },
];

const EXPECTED_LAYOUT = "cls_token, pos_embed, patch_embed.proj, blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}, norm";

function unknownLayout(source: string, problem: string): FacepriorError {
  return new FacepriorError(
    "BAD_CHECKPOINT",
    `${source}: ${problem}. faceprior imports timm's plain ViT layout (${EXPECTED_LAYOUT}); convert it to that layout first.`,
  );
}

function foreignLayout(names: string[]): string | null {
  for (const layout of FOREIGN_LAYOUTS) {
    const hit = names.find((n) => layout.test.test(n));
    if (hit) return `it looks like ${layout.name} (${hit})`;
  }
  return null;
}

/** Finds the prefix in front of `patch_embed.proj.weight` and checks that it is a wrapper. */
function findPrefix(names: string[], source: string, forced: string | undefined): string {
  if (forced !== undefined) {
    const p = forced === "" || forced.endsWith(".") ? forced : `${forced}.`;
    if (!names.includes(`${p}patch_embed.proj.weight`))
      throw unknownLayout(source, `no ${p}patch_embed.proj.weight under the prefix "${p}"`);
    return p;
  }
  const anchors = names.filter((n) => n === "patch_embed.proj.weight" || n.endsWith(".patch_embed.proj.weight"));
  if (anchors.length === 0)
    throw unknownLayout(
      source,
      foreignLayout(names) ?? `no patch_embed.proj.weight among its ${names.length} tensors (${names.slice(0, 3).join(", ")}, ...)`,
    );
  if (anchors.length > 1) {
    throw unknownLayout(source, `it holds ${anchors.length} encoders (${anchors.join(", ")}); set prefix to the one to import`);
  }
  const prefix = anchors[0]!.slice(0, -"patch_embed.proj.weight".length);
  const parts = prefix.split(".").filter(Boolean);
  const unknown = parts.find((p) => !(WRAPPER_PREFIXES as readonly string[]).includes(p));
  if (unknown !== undefined) {
    throw unknownLayout(
      source,
      `the encoder sits under "${prefix}", and "${unknown}" is not a known wrapper (${WRAPPER_PREFIXES.join(", ")}); set prefix to ${prefix} if it is the encoder`,
    );
  }
  return prefix;
}

/**
 * Renames, drops and infers on tensors already in memory. Throws BAD_CHECKPOINT, naming the
 * tensors, for anything that is not a timm ViT encoder plus droppable parts.
 */
export function importTimmTensors(tensors: TensorMap, options: TimmImportOptions = {}): TimmImport {
  const source = options.source ?? "checkpoint";
  const names = Object.keys(tensors);
  const prefix = findPrefix(names, source, options.prefix);
  const kept: TensorMap = {};
  const dropped = new Map<string, string[]>();
  const drop = (reason: string, name: string) => dropped.set(reason, [...(dropped.get(reason) ?? []), name]);
  const unknown: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) {
      drop(`outside the encoder's prefix "${prefix}"`, name);
      continue;
    }
    const local = name.slice(prefix.length);
    const droppable = DROPPABLE.find((d) => d.test.test(local));
    if (ENCODER_NAME.test(local)) kept[local] = tensors[name]!;
    else if (droppable) drop(droppable.reason, name);
    else unknown.push(name);
  }
  if (unknown.length > 0) {
    const why =
      foreignLayout(unknown) ??
      `${unknown.length} tensors are neither encoder, MAE decoder, classifier nor faceprior pretraining head: ${unknown.slice(0, 4).join(", ")}`;
    throw unknownLayout(source, why);
  }
  if (!kept["norm.weight"] && dropped.get("classifier head")?.some((n) => n.endsWith("fc_norm.weight"))) {
    throw unknownLayout(
      source,
      "it has fc_norm but no norm (timm's global_pool='avg' layout, where the final norm follows pooling); faceprior's encoder ends with norm",
    );
  }
  const { cfg, notes } = inferVitConfig(kept, { numHeads: options.numHeads, source });
  const isMae = dropped.has("MAE decoder");
  let normalization = options.normalization;
  if (!normalization) {
    normalization = isMae ? IMAGENET_NORMALIZATION : INCEPTION_NORMALIZATION;
    const which = isMae ? "ImageNet mean/std (MAE's)" : "mean/std 0.5 (timm's ViT default)";
    notes.push(`normalisation not given; assuming ${which}: ${normalization.mean.join(",")} / ${normalization.std.join(",")}`);
  }
  return { tensors: kept, cfg, normalization, prefix, dropped: [...dropped].map(([reason, names]) => ({ reason, names })), notes };
}

/**
 * A checkpoint file; a faceprior pretraining checkpoint or milestone (`faceprior pretrain`) gives
 * its encoder, with the normalisation pretraining uses (mean/std 0.5) unless told otherwise.
 */
export async function importTimmCheckpoint(path: string, options: TimmImportOptions = {}): Promise<TimmImport> {
  const { tensors, metadata } = await readSafetensors(path);
  if (metadata.format !== RUN_STATE_FORMAT || options.normalization) return importTimmTensors(tensors, { source: path, ...options });
  const imported = importTimmTensors(tensors, { source: path, ...options, normalization: DEFAULT_NORMALIZATION });
  return {
    ...imported,
    notes: [
      ...imported.notes,
      `a faceprior pretraining checkpoint: the normalisation pretraining uses, ${DEFAULT_NORMALIZATION.mean.join(",")} / ${DEFAULT_NORMALIZATION.std.join(",")}`,
    ],
  };
}

/**
 * The architecture from timm-named shapes: width from cls_token, patch from the patch kernel,
 * input size from pos_embed's grid, depth from the block count, MLP ratio from fc1, heads from
 * `options.numHeads` or DEFAULT_NUM_HEADS. LayerNorm eps 1e-6, exact GELU and class-token
 * pooling are timm's ViT defaults and are listed in `notes`.
 */
export function inferVitConfig(
  tensors: TensorMap,
  options: { numHeads?: number; source?: string } = {},
): { cfg: VitConfig; notes: string[] } {
  const source = options.source ?? "checkpoint";
  const shape = (name: string, rank: number) => {
    const s = tensors[name]?.shape;
    if (!s) throw unknownLayout(source, `no ${name}`);
    if (s.length !== rank) throw unknownLayout(source, `${name} is [${s.join(",")}], expected ${rank} dimensions`);
    return s;
  };
  const [one, oneToken, d] = shape("cls_token", 3) as [number, number, number];
  if (one !== 1 || oneToken !== 1) throw unknownLayout(source, `cls_token is [${one},${oneToken},${d}], expected [1,1,D]`);
  const [, channels, ph, pw] = shape("patch_embed.proj.weight", 4) as [number, number, number, number];
  if (channels !== 3 || ph !== pw)
    throw unknownLayout(source, `patch_embed.proj.weight is [${d},${channels},${ph},${pw}], expected [D,3,p,p]`);
  const tokens = shape("pos_embed", 3)[1]!;
  const grid = Math.round(Math.sqrt(tokens - 1));
  if (grid * grid !== tokens - 1) throw unknownLayout(source, `pos_embed has ${tokens} tokens, not 1 class token + a square grid`);
  const blockIds = new Set(
    Object.keys(tensors)
      .flatMap((n) => /^blocks\.(\d+)\./.exec(n)?.[1] ?? [])
      .map(Number),
  );
  const depth = blockIds.size;
  if (depth === 0 || Math.max(...blockIds) !== depth - 1)
    throw unknownLayout(source, `its blocks are numbered ${[...blockIds].sort((a, b) => a - b).join(",") || "(none)"}, expected 0..N-1`);
  const hidden = shape("blocks.0.mlp.fc1.weight", 2)[0]!;
  const notes = ["LayerNorm eps 1e-6, exact GELU and class-token pooling assumed (timm's ViT defaults)"];
  let numHeads = options.numHeads ?? DEFAULT_NUM_HEADS[d];
  if (numHeads === undefined && d % 64 === 0) {
    numHeads = d / 64;
    notes.push(`${numHeads} heads assumed (head dim 64) for width ${d}; set numHeads if that is wrong`);
  } else if (options.numHeads === undefined && numHeads !== undefined) {
    notes.push(`${numHeads} heads assumed, timm's default for width ${d}; set numHeads if that is wrong`);
  }
  if (numHeads === undefined || d % numHeads !== 0) {
    throw new FacepriorError(
      "BAD_CHECKPOINT",
      `${source}: cannot tell the number of heads for width ${d}${numHeads ? ` (${numHeads} does not divide it)` : ""}. Set numHeads.`,
    );
  }
  const cfg = VitConfigSchema.parse({
    imgSize: grid * ph,
    patchSize: ph,
    embedDim: d,
    depth,
    numHeads,
    mlpRatio: hidden / d,
    qkvBias: "blocks.0.attn.qkv.bias" in tensors,
    lnEps: 1e-6,
    globalPool: "token",
  });
  return { cfg, notes };
}
