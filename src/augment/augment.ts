/**
 * Training-time augmentation of a FaceSample, or of an image alone, from one plain-data config
 * and an explicit seed: colour jitter and, with probability `grayscaleProbability`, conversion to
 * grey (image only), then a horizontal flip with probability `flipProbability`, then a small
 * random similarity about the centre. Each step draws from its own seeded stream, so the
 * same (seed, config) always gives the same sample, and turning one step off leaves the others'
 * draws unchanged.
 */
import { z } from "zod";
import type { Affine } from "../data/affine-warp.js";
import type { FaceSample } from "../priors/face-sample.js";
import { affineImage, affineSample, drawAffine } from "./affine.js";
import { applyColorJitter, drawColorJitter, toGrayscale, type ColorJitterParams } from "./color-jitter.js";
import { flipImage, flipLabels, flipSample, type LabelSwapPairs } from "./flip.js";
import { FacepriorError } from "../errors.js";
import { seededRng } from "./prng.js";
import { checkFaceSample } from "./sample-shape.js";
import { parseConfig } from "../config-schema.js";

const strength = z.number().min(0);

export const AugmentConfigSchema = z.strictObject({
  /** Chance of a horizontal flip. */
  flipProbability: z.number().min(0).max(1).default(0.5),
  /** Chance of turning a colour face grey, so that a head trained on grey faces (FER2013) and one trained on colour faces meet the other kind. */
  grayscaleProbability: z.number().min(0).max(1).default(0),
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
    grayscaleProbability: 0,
    colorJitter: { brightness: 0, contrast: 0, saturation: 0, hue: 0 },
    affine: { rotationDeg: 0, scale: [1, 1], translate: 0 },
  }),
);

/** Parses flags or JSON into a config; the error names each bad field, its value and the rule. */
export function parseAugmentConfig(input: unknown, source = "augment config"): AugmentConfig {
  return parseConfig(AugmentConfigSchema, input, source);
}

/** Everything one augmentation drew, for logging or replaying. */
export type AugmentParams = { colorJitter: ColorJitterParams; grayscale: boolean; flip: boolean; affine: Affine };

/** Whether `seed` flips; the same decision `augmentSample` makes, for flipping labels alongside. */
export function drawFlip(seed: number, config: AugmentConfig): boolean {
  return seededRng(seed, "flip")() < config.flipProbability;
}

export function drawAugmentParams(seed: number, size: number, config: AugmentConfig): AugmentParams {
  return {
    colorJitter: drawColorJitter(seededRng(seed, "color"), config.colorJitter),
    grayscale: seededRng(seed, "grayscale")() < config.grayscaleProbability,
    flip: drawFlip(seed, config),
    affine: drawAffine(seededRng(seed, "affine"), size, config.affine),
  };
}

export function applyAugmentParams(sample: FaceSample, params: AugmentParams, meshMirror: readonly number[]): FaceSample {
  checkFaceSample(sample, "applyAugmentParams");
  const jittered = { ...sample, image: photometric(sample.image, params) };
  const flipped = params.flip ? flipSample(jittered, meshMirror) : jittered;
  return affineSample(flipped, params.affine);
}

function photometric(image: Uint8Array, params: AugmentParams): Uint8Array {
  const jittered = applyColorJitter(image, params.colorJitter);
  return params.grayscale ? toGrayscale(jittered) : jittered;
}

/**
 * The augmented copy of an [S, S, 3] RGB face crop with nothing attached, for fine-tuning:
 * the same draws as `augmentSample` with this seed, applied to the image alone.
 */
export function augmentImage(image: Uint8Array, size: number, seed: number, config: AugmentConfig): Uint8Array {
  if (image.length !== size * size * 3) {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `augmentImage: the image has ${image.length} bytes; an ${size}x${size} RGB crop has ${size * size * 3}.`,
    );
  }
  const params = drawAugmentParams(seed, size, config);
  const photo = photometric(image, params);
  return affineImage(params.flip ? flipImage(photo, size) : photo, size, params.affine);
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
export function augmentLabels<T extends Float32Array | Uint8Array | number[]>(
  labels: T,
  seed: number,
  config: AugmentConfig,
  swapPairs: LabelSwapPairs,
): T {
  return drawFlip(seed, config) ? flipLabels(labels, swapPairs) : (labels.slice() as T);
}
