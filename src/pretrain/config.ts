/**
 * The pretraining run config: one zod schema holding every default of the pretraining model and
 * loss, and `resolvePretrainConfig`, which turns it into the static pieces the code takes (the
 * MaeConfig, the loss weights, the heads to build), computed once and frozen. The optimizer,
 * batch and schedule live in the train config (src/train/train-config.ts).
 *
 * The λ in `lambdas` override the variant's row (variants.ts) one by one; the resolved weights
 * are what the run logs and saves.
 *
 * A pretraining recipe file (recipes/pretrain-*.json) holds both, as `PretrainRunConfigSchema`.
 */
import { z } from "zod";
import { FacepriorError } from "../errors.js";
import { DEFAULT_ARCH, resolveVitPreset, VitConfigSchema, type VitConfig } from "../model/vit-presets.js";
import type { MaeConfig, MaeHeads } from "./mae-config.js";
import { headsFor, variantWeights, VARIANT_NAMES, type LossWeights, type PretrainVariant } from "./variants.js";
import { overridesOf, parseConfig } from "../config-schema.js";
import { TrainOverridesSchema } from "../train/train-config.js";

const weight = z.number().nonnegative().optional();

export const PretrainConfigSchema = z.strictObject({
  /** A row of variants.ts; `scratch` is the no-pretraining baseline and cannot be pretrained. */
  variant: z.enum(VARIANT_NAMES as [PretrainVariant, ...PretrainVariant[]]).default("full"),
  /**
   * Encoder architecture: a timm-style preset name or CLI alias (vit-presets.ts), or a ViT config
   * of its own (`{ imgSize, patchSize, embedDim, depth, numHeads }`) for small test models.
   */
  arch: z.union([z.string(), VitConfigSchema]).default(DEFAULT_ARCH),
  /** MAE's light decoder: 128-256 wide, 2-4 deep (METHOD.md §2). Width divisible by 4 and by the heads. */
  decoderWidth: z.number().int().positive().default(128),
  decoderDepth: z.number().int().positive().default(2),
  decoderHeads: z.number().int().positive().default(4),
  maskRatio: z.number().min(0).lt(1).default(0.75),
  /** MAE's norm_pix_loss: reconstruct per-patch standardised pixels. */
  normPixLoss: z.boolean().default(true),
  /** Width of the component projector's output, where InfoNCE compares components. */
  componentDim: z.number().int().positive().default(128),
  /** Per-term overrides of the variant's λ. */
  lambdas: z.strictObject({ pix: weight, patch: weight, comp: weight }).default({}),
  /** InfoNCE temperature of the component task. */
  temperature: z.number().positive().default(0.1),
  /** Strength s of the second view's jitter: contrast ×U(1-s, 1+s), brightness +U(-s, s). */
  jitter: z.number().min(0).lt(1).default(0.4),
});

export type PretrainConfigInput = z.input<typeof PretrainConfigSchema>;
export type PretrainConfig = z.output<typeof PretrainConfigSchema>;

/**
 * A pretraining run's config file, `{ "pretrain": {...}, "train": {...} }`: fields as given, which
 * flags override one by one; the run fills the defaults (the train config's checkpoint cadence is
 * one epoch, a number the file cannot know).
 */
export const PretrainRunConfigSchema = z.strictObject({
  /** What the recipe is for and where its numbers come from. */
  description: z.string().optional(),
  pretrain: overridesOf(PretrainConfigSchema).default({}),
  train: TrainOverridesSchema.default({}),
});
export type PretrainRunConfig = z.output<typeof PretrainRunConfigSchema>;

export type ResolvedPretrainConfig = Readonly<{
  config: PretrainConfig;
  mae: MaeConfig;
  weights: LossWeights;
  heads: MaeHeads;
  temperature: number;
  jitter: number;
}>;

/** Parses flags or JSON; the error names each bad field, its value and the rule. */
export function parsePretrainConfig(input: unknown, source = "pretrain config"): PretrainConfig {
  return parseConfig(PretrainConfigSchema, input, source);
}

/** The MaeConfig of a parsed config over an encoder architecture. */
export function maeConfigOf(config: PretrainConfig, encoder: VitConfig): MaeConfig {
  const { decoderWidth, decoderDepth, decoderHeads, maskRatio, normPixLoss, componentDim } = config;
  return { encoder, decoderWidth, decoderDepth, decoderHeads, maskRatio, normPixLoss, componentDim };
}

/** A preset by name, or a config of its own checked for what the encoder needs. */
function encoderOf(arch: PretrainConfig["arch"], source: string): VitConfig {
  if (typeof arch === "string") return resolveVitPreset(arch);
  const { imgSize, patchSize, embedDim, numHeads } = arch;
  if (imgSize % patchSize !== 0 || embedDim % 4 !== 0 || embedDim % numHeads !== 0) {
    throw new FacepriorError(
      "BAD_CONFIG",
      `${source}: arch ${JSON.stringify(arch)} needs imgSize divisible by patchSize, and embedDim divisible by 4 (the sin-cos table) and by numHeads. Use e.g. { "imgSize": 112, "patchSize": 16, "embedDim": 32, "depth": 2, "numHeads": 2 }.`,
    );
  }
  return arch;
}

export function resolvePretrainConfig(input: unknown, source = "pretrain config"): ResolvedPretrainConfig {
  const config = parsePretrainConfig(input, source);
  const row = variantWeights(config.variant);
  if (row === null) {
    throw new FacepriorError(
      "BAD_CONFIG",
      `${source}: variant "scratch" is the no-pretraining baseline, so there is nothing to pretrain. Use it in a study, or pretrain one of: ${VARIANT_NAMES.filter((v) => v !== "scratch").join(", ")}.`,
    );
  }
  const { decoderWidth, decoderHeads } = config;
  if (decoderWidth % 4 !== 0 || decoderWidth % decoderHeads !== 0) {
    throw new FacepriorError(
      "BAD_CONFIG",
      `${source}: decoderWidth ${decoderWidth} must be divisible by 4 (the sin-cos table) and by decoderHeads ${decoderHeads}. Use e.g. 128 with 4 heads.`,
    );
  }
  const weights: LossWeights = {
    pix: config.lambdas.pix ?? row.pix,
    patch: config.lambdas.patch ?? row.patch,
    comp: config.lambdas.comp ?? row.comp,
  };
  const mae = maeConfigOf(config, encoderOf(config.arch, source));
  return Object.freeze({ config, mae, weights, heads: headsFor(weights), temperature: config.temperature, jitter: config.jitter });
}
