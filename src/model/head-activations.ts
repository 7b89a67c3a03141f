/**
 * What a head on pooled features outputs, as data: the activation after its logits, and what the
 * activations need. vit.ts computes them (`activate`); the ONNX graph (face-model/onnx-vit.ts) builds
 * them; a face model file names one per head. No jax-js here: the package's main types use these.
 */

/**
 * sigmoid: independent probabilities; softmax: one distribution; expected-age and median-age: the
 * mean or the median of a distribution over the ages 0..MAX_PREDICTED_AGE, in years.
 */
export const HEAD_ACTIVATIONS = ["sigmoid", "softmax", "expected-age", "median-age"] as const;
export type HeadActivation = (typeof HEAD_ACTIVATIONS)[number];

/** Whether a head reads its logits as a distribution over ages and outputs one number of years. */
export function predictsAge(activation: HeadActivation): boolean {
  return activation === "expected-age" || activation === "median-age";
}

/** The oldest age an expected-age head predicts; its bins are the ages 0..MAX_PREDICTED_AGE. */
export const MAX_PREDICTED_AGE = 100;
export const NUM_AGE_BINS = MAX_PREDICTED_AGE + 1;

/** Rec. 601 luma weights: the grey copy a grey-input head reads, and `toGrayscale` (augment/color-jitter.ts). */
export const LUMA_WEIGHTS = [0.299, 0.587, 0.114] as const;
