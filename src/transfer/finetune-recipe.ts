/**
 * The fine-tuning recipe: everything mode finetune does beyond the train config, as one
 * plain-data schema with its defaults, read from a JSON file (`finetune --recipe`) and saved in
 * config.json and metrics.json.
 *
 * Defaults follow the usual ViT fine-tuning recipe (BEiT, MAE) scaled to small face sets:
 * augmentation on (flip, ±10° / ±5% affine, colour jitter 0.3, grey 20% so a head meets both
 * colour and grey faces), DropPath 0.1, label smoothing 0.1, and model selection on a validation
 * split (the dataset's own, else 10% of the training split held out by file or subject) for the
 * full protocol. Few-shot protocols train to the end: selecting on a large validation set would
 * use more labels than the protocol allows.
 */
import { z } from "zod";
import { AugmentConfigSchema } from "../augment/augment.js";
import { readConfigFile } from "../config-schema.js";

export const FinetuneRecipeSchema = z.strictObject({
  augment: AugmentConfigSchema.prefault({ grayscaleProbability: 0.2 }),
  /** DropPath rate of the deepest block; 0 turns it off. */
  dropPath: z.number().min(0).lt(1).default(0.1),
  /** Expression: label smoothing ε; left out, the task's default (0.1). */
  labelSmoothing: z.number().min(0).lt(1).optional(),
  /** Expression: class balance β of the loss weights (0 plain, 1 inverse frequency). */
  classBalance: z.number().min(0).max(1).default(0),
  /** Age: decade balance β of the loss weights (0 plain, 1 inverse frequency of the face's decade). */
  ageBalance: z.number().min(0).max(1).default(0),
  /** Model selection for the full protocol; null trains to the end and keeps the last epoch. */
  selection: z
    .strictObject({
      /** Held out of training when the dataset has no validation split. */
      valFraction: z.number().gt(0).lt(1).default(0.1),
      /** Stop after this many epochs without a better validation score; null: never. */
      patience: z.number().int().positive().nullable().default(null),
    })
    .nullable()
    .prefault({}),
});

export type FinetuneRecipeInput = z.input<typeof FinetuneRecipeSchema>;
export type FinetuneRecipe = z.output<typeof FinetuneRecipeSchema>;

export const DEFAULT_FINETUNE_RECIPE: FinetuneRecipe = Object.freeze(FinetuneRecipeSchema.parse({}));

export function readFinetuneRecipe(path: string): Promise<FinetuneRecipe> {
  return readConfigFile(FinetuneRecipeSchema, path, "recipe");
}
