/**
 * ViT architectures as data, named like timm (`vit_tiny_patch16_112`), with the CLI aliases
 * (`vit-tiny`) in the same table.
 */
import { z } from "zod";
import { FacepriorError } from "../errors.js";

export const VitConfigSchema = z.object({
  imgSize: z.union([z.literal(112), z.literal(224), z.number().int().positive()]),
  patchSize: z.number().int().positive(),
  embedDim: z.number().int().positive(),
  depth: z.number().int().positive(),
  numHeads: z.number().int().positive(),
  mlpRatio: z.number().positive().default(4),
  qkvBias: z.boolean().default(true),
  lnEps: z.number().positive().default(1e-6),
  /** "token": the class token; "avg": the mean of the patch tokens (timm's global_pool names). */
  globalPool: z.enum(["token", "avg"]).default("token"),
});
export type VitConfig = z.infer<typeof VitConfigSchema>;

type Size = { embedDim: number; depth: number; numHeads: number };
const SIZES: Record<string, Size> = {
  tiny: { embedDim: 192, depth: 12, numHeads: 3 },
  small: { embedDim: 384, depth: 12, numHeads: 6 },
  base: { embedDim: 768, depth: 12, numHeads: 12 },
};

function preset(size: string, patchSize: number, imgSize: number): VitConfig {
  return VitConfigSchema.parse({ ...SIZES[size], patchSize, imgSize });
}

/** Every supported size x patch (8, 16) x image (112, 224). */
export const VIT_PRESETS: Record<string, VitConfig> = Object.fromEntries(
  Object.keys(SIZES).flatMap((size) =>
    [8, 16].flatMap((patch) => [112, 224].map((img) => [`vit_${size}_patch${patch}_${img}`, preset(size, patch, img)])),
  ),
);

/** Short CLI names, mapped onto presets. */
export const VIT_ALIASES: Record<string, string> = {
  "vit-tiny": "vit_tiny_patch16_112",
  "vit-small": "vit_small_patch16_112",
  "vit-base": "vit_base_patch16_224",
};

/** The architecture of pretraining and of a scratch encoder unless one is chosen. */
export const DEFAULT_ARCH = "vit-tiny";

export function vitPresetNames(): string[] {
  return [...Object.keys(VIT_ALIASES), ...Object.keys(VIT_PRESETS)];
}

export function numPatches(cfg: VitConfig): number {
  return (cfg.imgSize / cfg.patchSize) ** 2;
}

/** A preset by timm name or CLI alias; an unknown name fails with the valid ones. */
export function resolveVitPreset(name: string): VitConfig {
  const preset = VIT_PRESETS[VIT_ALIASES[name] ?? name];
  if (!preset) {
    const choices = vitPresetNames().join(", ");
    throw new FacepriorError("BAD_ARGUMENT", `arch: unknown architecture "${name}". Use one of: ${choices}.`, { option: "arch" });
  }
  return preset;
}
