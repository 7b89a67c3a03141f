/**
 * The `__metadata__` of a ViT checkpoint: the architecture under timm's argument names (arch,
 * img_size, patch_size, embed_dim, depth, num_heads, mlp_ratio, qkv_bias, norm_eps, act,
 * class_token, global_pool), the input normalisation (mean, std as "r,g,b") and
 * `format_version`. safetensors metadata values are strings; parsing checks each one.
 */
import { FacepriorError } from "../errors.js";
import { VitConfigSchema, type VitConfig } from "../model/vit-presets.js";

export const VIT_FORMAT_VERSION = 1;

export type Rgb = [number, number, number];
/** Pixels in [0, 1] become (x - mean) / std, per channel. */
export type Normalization = { mean: Rgb; std: Rgb };
/** The metadata `format` of faceprior's training checkpoints and milestones (train/run-state.ts). */
export const RUN_STATE_FORMAT = "faceprior.run-state/1";

export const DEFAULT_NORMALIZATION: Normalization = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

const ARCH_KEYS = [
  "arch",
  "img_size",
  "patch_size",
  "embed_dim",
  "depth",
  "num_heads",
  "mlp_ratio",
  "qkv_bias",
  "norm_eps",
  "act",
  "class_token",
  "global_pool",
];

export function vitMetadata(cfg: VitConfig, normalization: Normalization): Record<string, string> {
  return {
    arch: "vit",
    img_size: String(cfg.imgSize),
    patch_size: String(cfg.patchSize),
    embed_dim: String(cfg.embedDim),
    depth: String(cfg.depth),
    num_heads: String(cfg.numHeads),
    mlp_ratio: String(cfg.mlpRatio),
    qkv_bias: String(cfg.qkvBias),
    norm_eps: String(cfg.lnEps),
    act: "gelu_erf",
    class_token: "true",
    global_pool: cfg.globalPool,
    mean: normalization.mean.join(","),
    std: normalization.std.join(","),
    format_version: String(VIT_FORMAT_VERSION),
  };
}

/** The architecture in `metadata`, or null when it has none (a plain timm export). */
export function vitConfigFromMetadata(metadata: Record<string, string>, source: string): VitConfig | null {
  if (!("embed_dim" in metadata)) return null;
  const bad = (key: string, expected: string) =>
    new FacepriorError(
      "BAD_CHECKPOINT",
      `${source}: __metadata__.${key} is ${JSON.stringify(metadata[key])}, expected ${expected}. Re-export the checkpoint, or give its arch.`,
    );
  const version = metadata.format_version ?? "1";
  if (Number(version) > VIT_FORMAT_VERSION) {
    throw new FacepriorError(
      "BAD_CHECKPOINT",
      `${source}: format_version ${version} is newer than this faceprior reads (${VIT_FORMAT_VERSION}). Upgrade faceprior.`,
    );
  }
  const exact: Record<string, string> = { arch: "vit", act: "gelu_erf", class_token: "true" };
  for (const [key, value] of Object.entries(exact)) if ((metadata[key] ?? value) !== value) throw bad(key, `"${value}" (faceprior's ViT)`);
  const int = (key: string) => {
    const n = Number(metadata[key]);
    if (!Number.isInteger(n) || n <= 0) throw bad(key, "a positive integer");
    return n;
  };
  const num = (key: string, fallback: number) => {
    const n = Number(metadata[key] ?? fallback);
    if (!Number.isFinite(n) || n <= 0) throw bad(key, "a positive number");
    return n;
  };
  const qkvBias = metadata.qkv_bias ?? "true";
  if (qkvBias !== "true" && qkvBias !== "false") throw bad("qkv_bias", '"true" or "false"');
  const pool = metadata.global_pool ?? "token";
  if (pool !== "token" && pool !== "avg") throw bad("global_pool", '"token" or "avg"');
  const cfg = {
    imgSize: int("img_size"),
    patchSize: int("patch_size"),
    embedDim: int("embed_dim"),
    depth: int("depth"),
    numHeads: int("num_heads"),
    mlpRatio: num("mlp_ratio", 4),
    qkvBias: qkvBias === "true",
    lnEps: num("norm_eps", 1e-6),
    globalPool: pool,
  };
  if (cfg.imgSize % cfg.patchSize !== 0) throw bad("img_size", `a multiple of patch_size ${cfg.patchSize}`);
  if (cfg.embedDim % cfg.numHeads !== 0) throw bad("num_heads", `a divisor of embed_dim ${cfg.embedDim}`);
  return VitConfigSchema.parse(cfg);
}

/** mean/std from `metadata`; when absent, 0.5 and a line in `notes`. */
export function normalizationFromMetadata(metadata: Record<string, string>, source: string, notes: string[]): Normalization {
  if (metadata.mean === undefined && metadata.std === undefined) {
    notes.push(`no mean/std in the metadata; assuming ${DEFAULT_NORMALIZATION.mean.join(",")} / ${DEFAULT_NORMALIZATION.std.join(",")}`);
    return DEFAULT_NORMALIZATION;
  }
  const rgb = (key: "mean" | "std") => {
    const values = (metadata[key] ?? "").split(",").map(Number);
    if (values.length !== 3 || !values.every(Number.isFinite) || (key === "std" && !values.every((v) => v > 0))) {
      throw new FacepriorError(
        "BAD_CHECKPOINT",
        `${source}: __metadata__.${key} is ${JSON.stringify(metadata[key])}, expected three ${key === "std" ? "positive " : ""}numbers like "0.5,0.5,0.5". Re-export the checkpoint.`,
      );
    }
    return values as Rgb;
  };
  return { mean: rgb("mean"), std: rgb("std") };
}

/** Keys a caller's extra metadata may not reuse. */
export function isReservedMetadataKey(key: string): boolean {
  return ARCH_KEYS.includes(key) || ["mean", "std", "format_version"].includes(key);
}
