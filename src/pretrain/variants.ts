/**
 * The pretraining variants a study compares (METHOD.md §2), as rows of loss weights in one table,
 * like timm's cfgs: the total loss is L_mim + λ_pix·L_pix + λ_patch·L_patch + λ_comp·L_comp, and a
 * variant only says which λ are on. `scratch` is the no-pretraining baseline: it has no row of
 * weights, because nothing is pretrained (a study initialises its encoder at random instead).
 *
 * Every λ that is on is 1: at initialisation the terms are of one order, so none swamps the
 * others (measured on 4-8 real faces, tiny model, 32px crops: mim 1.1-1.3, pix 2.2-2.4 ≈ ln 10,
 * patch_ce 2.8 ≈ ln L, patch_offset 0.25, patch_hist 0.8-2.3, comp_nce 1.4-2.4, comp_desc 1.5-3.9
 * on standardised descriptors). A run config can override any λ (config.ts).
 */
import { FacepriorError } from "../errors.js";
import type { MaeHeads } from "./mae.js";

export type LossWeights = { pix: number; patch: number; comp: number };

export const PRETRAIN_VARIANTS = {
  scratch: null,
  mae: { pix: 0, patch: 0, comp: 0 },
  "mae+pix": { pix: 1, patch: 0, comp: 0 },
  "mae+patch": { pix: 0, patch: 1, comp: 0 },
  "mae+comp": { pix: 0, patch: 0, comp: 1 },
  full: { pix: 1, patch: 1, comp: 1 },
} as const satisfies Record<string, LossWeights | null>;

export type PretrainVariant = keyof typeof PRETRAIN_VARIANTS;
export const VARIANT_NAMES = Object.keys(PRETRAIN_VARIANTS) as PretrainVariant[];

/** The loss weights of a variant, or null for `scratch`; an unknown name fails with the valid ones. */
export function variantWeights(name: string): LossWeights | null {
  if (!Object.hasOwn(PRETRAIN_VARIANTS, name)) {
    const message = `variant: unknown pretraining variant "${name}". Use one of: ${VARIANT_NAMES.join(", ")}.`;
    throw new FacepriorError("BAD_ARGUMENT", message, { option: "variant" });
  }
  const row = PRETRAIN_VARIANTS[name as PretrainVariant];
  return row === null ? null : { ...row };
}

/** The auxiliary heads a set of weights needs: those whose λ is above 0. */
export function headsFor(weights: LossWeights): MaeHeads {
  return { pixel: weights.pix > 0, patch: weights.patch > 0, component: weights.comp > 0 };
}
