/**
 * Training-time augmentation of a FaceSample from one plain-data config and an explicit seed:
 * colour jitter (image only), then a horizontal flip with probability `flipProbability`, then a
 * small random similarity about the centre. Each step draws from its own seeded stream, so the
 * same (seed, config) always gives the same sample, and turning one step off leaves the others'
 * draws unchanged.
 */
import { z } from "zod";
import type { Affine } from "../affine-warp.js";
import type { FaceSample } from "../../priors/face-sample.js";
import { affineSample, drawAffine } from "./affine.js";
import { applyColorJitter, drawColorJitter, type ColorJitterParams } from "./color-jitter.js";
import { flipLabels, flipSample, type LabelSwapPairs } from "./flip.js";
import { seededRng } from "./prng.js";
import { checkFaceSample } from "./sample-shape.js";
import { parseConfig } from "../../config-schema.js";

const strength = z.number().min(0);

export const AugmentConfigSchema = z.strictObject({
  /** Chance of a horizontal flip. */
  flipProbability: z.number().min(0).max(1).default(0.5),
  /** Jitter strengths; factors are drawn from [max(0, 1 − s), 1 + s]. Hue is off by default to keep skin tones. */
  colorJitter: z
    .strictObject({
      brightness: strength.default(0.3),
      contrast: strength.default(0.3),
      saturation: strength.default(0.3),
      /** Hue shift range in turns of the colour wheel, at most 0.5. */
      hue: strength.max(0.5).default(0),
    })
    .prefault({}),
  /** Mild, because the crops are already aligned to the ArcFace template. */
  affine: z
    .strictObject({
      /** Rotation range ± degrees. */
      rotationDeg: z.number().min(0).max(180).default(10),
      /** Scale range [min, max]. */
      scale: z
        .tuple([z.number().positive(), z.number().positive()])
        .refine(([lo, hi]) => lo <= hi, "scale must be [min, max] with min <= max")
        .default([0.95, 1.05]),
      /** Translation range ± this fraction of the crop side, per axis. */
      translate: z.number().min(0).max(1).default(0.05),
    })
    .prefault({}),
});

export type AugmentConfigInput = z.input<typeof AugmentConfigSchema>;
export type AugmentConfig = z.output<typeof AugmentConfigSchema>;

/** A config that leaves every sample unchanged (evaluation, or a baseline without augmentation). */
export const NO_AUGMENT: AugmentConfig = Object.freeze(
  AugmentConfigSchema.parse({
    flipProbability: 0,
    colorJitter: { brightness: 0, contrast: 0, saturation: 0, hue: 0 },
    affine: { rotationDeg: 0, scale: [1, 1], translate: 0 },
  }),
);

/** Parses flags or JSON into a config; the error names each bad field, its value and the rule. */
export function parseAugmentConfig(input: unknown, source = "augment config"): AugmentConfig {
  return parseConfig(AugmentConfigSchema, input, source);
}

/** Everything one augmentation drew, for logging or replaying. */
export type AugmentParams = { colorJitter: ColorJitterParams; flip: boolean; affine: Affine };

/** Whether `seed` flips; the same decision `augmentSample` makes, for flipping labels alongside. */
export function drawFlip(seed: number, config: AugmentConfig): boolean {
  return seededRng(seed, "flip")() < config.flipProbability;
}

export function drawAugmentParams(seed: number, size: number, config: AugmentConfig): AugmentParams {
  return {
    colorJitter: drawColorJitter(seededRng(seed, "color"), config.colorJitter),
    flip: drawFlip(seed, config),
    affine: drawAffine(seededRng(seed, "affine"), size, config.affine),
  };
}

export function applyAugmentParams(sample: FaceSample, params: AugmentParams, meshMirror: readonly number[]): FaceSample {
  checkFaceSample(sample, "applyAugmentParams");
  const jittered = { ...sample, image: applyColorJitter(sample.image, params.colorJitter) };
  const flipped = params.flip ? flipSample(jittered, meshMirror) : jittered;
  return affineSample(flipped, params.affine);
}

/**
 * The augmented copy of `sample`. `meshMirror` is `meshMirrorTable(teacherUVMap())`, built
 * once. A task whose labels name a side flips them with `augmentLabels` and the same seed.
 */
export function augmentSample(sample: FaceSample, seed: number, config: AugmentConfig, meshMirror: readonly number[]): FaceSample {
  checkFaceSample(sample, "augmentSample");
  return applyAugmentParams(sample, drawAugmentParams(seed, sample.size, config), meshMirror);
}

/** One sample's labels as `augmentSample(…, seed, config, …)` leaves them: swapped when it flips. */
export function augmentLabels<T extends Float32Array | Uint8Array | number[]>(labels: T, seed: number, config: AugmentConfig, swapPairs: LabelSwapPairs): T {
  return drawFlip(seed, config) ? flipLabels(labels, swapPairs) : labels.slice() as T;
}
