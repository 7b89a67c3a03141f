/** `faceprior convert`: a timm-layout ViT saved by other code -> a faceprior checkpoint. */
import { importTimmCheckpoint, type TimmImport, type TimmImportOptions } from "../../checkpoint/from-timm.js";
import { openSafetensors } from "../../checkpoint/safetensors.js";
import { isFaceModelMetadata, readEncoderOf } from "../../face-model/face-model.js";
import { countParameters, writeVitTensors } from "../../checkpoint/vit-checkpoint.js";
import type { Rgb } from "../../checkpoint/vit-metadata.js";
import { defineCommand } from "../command.js";
import { usageError } from "../errors.js";
import { groupDigits } from "./info.js";

/**
 * A face model (faceprior's own, with task heads) gives its encoder as it is; anything else is
 * imported from timm's layout.
 */
async function importEncoder(source: string, options: TimmImportOptions): Promise<TimmImport> {
  const header = await openSafetensors(source);
  await header.close();
  if (!isFaceModelMetadata(header.metadata)) return importTimmCheckpoint(source, options);
  const { cfg, tensors, normalization, notes } = await readEncoderOf(source);
  const heads = Object.keys(header.tensors).filter((name) => !(name in tensors));
  const given = options.normalization ?? normalization;
  return { cfg, tensors, normalization: given, notes, prefix: "", dropped: [{ reason: "a face model's task heads", names: heads }] };
}

export const convert = defineCommand({
  name: "convert",
  summary: "Import a timm-layout ViT (MAE, classifier, wrapped) or a face model's encoder as a checkpoint.",
  details: [
    "Strips a wrapper prefix (module., model., encoder., visual.trunk., ...), drops an MAE decoder (decoder_*, mask_token), a classifier (head.*, fc_norm.*) and, from a faceprior pretraining checkpoint or milestone, its prior heads and optimizer state (taking its normalisation, 0.5), from a face model (faceprior-default.safetensors, say) its task heads, reads the architecture off the shapes and writes the encoder with faceprior's metadata. It prints what it dropped and what it assumed.",
    "Other layouts (OpenCLIP, Hugging Face transformers, DINOv2 layer scale, BEiT) are refused by name.",
  ],
  inputs: { name: "checkpoint", description: "The source checkpoint (.safetensors).", min: 1, variadic: false },
  options: {
    out: {
      type: "string",
      required: true,
      placeholder: "file.safetensors",
      description: "The faceprior checkpoint to write (atomically).",
    },
    numHeads: {
      type: "int",
      min: 1,
      description: "Attention heads.",
      defaultText: "timm's for the width: 192->3, 384->6, 768->12, 1024/1280->16",
    },
    prefix: {
      type: "string",
      allowEmpty: true,
      placeholder: "prefix",
      description: 'The encoder\'s prefix to strip, when it is not a known wrapper ("" for none).',
    },
    mean: {
      type: "numbers",
      count: 3,
      placeholder: "r,g,b",
      description: "Input normalisation mean.",
      defaultText: "ImageNet's for an MAE checkpoint, else 0.5,0.5,0.5",
    },
    std: {
      type: "numbers",
      count: 3,
      positive: true,
      placeholder: "r,g,b",
      description: "Input normalisation std.",
      defaultText: "as --mean",
    },
    dtype: { type: "choice", choices: ["float32", "float16"], default: "float32", description: "On-disk precision." },
  },
  examples: ["faceprior convert mae_pretrain_vit_base.safetensors --out vit-base-mae.safetensors"],
  async run(options, [source], ctx) {
    if (!options.out.endsWith(".safetensors")) throw usageError(`--out: "${options.out}" must end in .safetensors.`);
    if ((options.mean === undefined) !== (options.std === undefined)) throw usageError("--mean and --std: pass both or neither.");
    const normalization = options.mean && options.std ? { mean: options.mean as Rgb, std: options.std as Rgb } : undefined;
    const imported = await importEncoder(source!, { numHeads: options.numHeads, prefix: options.prefix, normalization });
    const { cfg, tensors, dropped, notes, prefix } = imported;
    await writeVitTensors(options.out, tensors, cfg, {
      dtype: options.dtype,
      normalization: imported.normalization,
      metadata: { converted_from: source! },
    });
    const lines = [
      `Wrote ${options.out}: ViT width ${cfg.embedDim}, depth ${cfg.depth}, ${cfg.numHeads} heads, patch ${cfg.patchSize}, ${cfg.imgSize}x${cfg.imgSize} input; ${groupDigits(countParameters(tensors))} parameters, ${options.dtype}.`,
      ...(prefix ? [`Stripped the prefix "${prefix}".`] : []),
      ...dropped.map(
        (d) => `Dropped ${d.names.length} tensors (${d.reason}): ${d.names.slice(0, 3).join(", ")}${d.names.length > 3 ? ", ..." : ""}`,
      ),
      ...notes.map((n) => `Assumed: ${n}.`),
      `Next: faceprior info ${options.out}`,
    ];
    ctx.stdout.write(lines.join("\n") + "\n");
  },
});
