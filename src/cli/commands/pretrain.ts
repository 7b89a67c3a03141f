/**
 * `faceprior pretrain`: masked image modelling plus the face-prior tasks on prior caches, ending
 * in a timm-layout encoder (see src/pretrain/pretrain-run.ts for what the run folder holds).
 */
import { resolve } from "node:path";
import { vitPresetNames } from "../../model/vit-presets.js";
import { runPretraining } from "../../pretrain/pretrain-run.js";
import { PRETRAIN_VARIANTS } from "../../pretrain/variants.js";
import { defineCommand } from "../command.js";
import { jsonOption, writeJsonOutput } from "../json-output.js";
import { givenValues } from "../options.js";
import { createCountProgress } from "../progress.js";
import { printConfig } from "../run-config.js";
import { readConfigFile, schemaDefaults } from "../../config-schema.js";
import { PretrainConfigSchema, PretrainRunConfigSchema, type PretrainRunConfig } from "../../pretrain/config.js";
import { TrainConfigSchema } from "../../train/train-config.js";
import { chooseEngine, type InferenceEngine } from "../../engine/onnx-session.js";

const PRETRAIN = schemaDefaults(PretrainConfigSchema);
const TRAIN = schemaDefaults(TrainConfigSchema);
const TRAINABLE_VARIANTS = Object.keys(PRETRAIN_VARIANTS).filter((v) => v !== "scratch");

/** The config file's fields, or none. */
async function readRunConfig(path: string | undefined): Promise<PretrainRunConfig> {
  return path ? readConfigFile(PretrainRunConfigSchema, resolve(path), "config") : PretrainRunConfigSchema.parse({});
}

export const pretrain = defineCommand({
  name: "pretrain",
  summary: "Pretrain a ViT encoder by masked image modelling plus face-prior tasks on prior caches.",
  details: [
    "Variants: mae (reconstruction only), mae+pix (face parsing), mae+patch (landmark geometry), mae+comp (facial components), full (all four).",
    "The run folder gets config.json (the effective config, also printed first), log.jsonl (every loss part each step), loss.png, previews/epoch-NNN.png (held-out faces: input, mask, reconstruction, predicted parsing and landmarks), a checkpoint each epoch, and at the end encoder.safetensors and summary.json. Run the same command again to resume.",
  ],
  options: {
    data: {
      type: "string",
      required: true,
      placeholder: "dir[,dir...]",
      description: "Prior caches from faceprior prepare, comma-separated.",
    },
    out: { type: "string", required: true, placeholder: "dir", description: "Run folder to write (or resume)." },
    variant: {
      type: "choice",
      choices: TRAINABLE_VARIANTS,
      placeholder: "name",
      defaultText: PRETRAIN.variant,
      description: "Which losses to train.",
    },
    arch: {
      type: "choice",
      choices: vitPresetNames(),
      placeholder: "name",
      defaultText: String(PRETRAIN.arch),
      description: "Encoder architecture.",
    },
    epochs: { type: "int", min: 1, description: "Passes over the training faces.", defaultText: String(TRAIN.epochs) },
    steps: { type: "int", min: 1, description: "Optimizer steps; overrides --epochs." },
    batch: { type: "int", min: 1, description: "Images per micro-batch.", defaultText: String(TRAIN.batchSize) },
    accum: { type: "int", min: 1, description: "Micro-batches per optimizer step.", defaultText: String(TRAIN.accumSteps) },
    lr: { type: "number", min: 1e-8, max: 1, description: "Peak learning rate.", defaultText: `${TRAIN.baseLr} x effective batch / 256` },
    maskRatio: { type: "number", min: 0, max: 0.99, description: "Fraction of patches masked.", defaultText: String(PRETRAIN.maskRatio) },
    config: {
      type: "string",
      placeholder: "file.json",
      description: 'Recipe {"pretrain": {...}, "train": {...}} (e.g. recipes/pretrain-pool-full.json); flags override its fields.',
    },
    previewFaces: { type: "int", min: 1, max: 64, default: 8, description: "Held-out faces drawn each epoch." },
    milestone: {
      type: "string",
      placeholder: "file",
      description:
        "Also write the weights as float16 here at every checkpoint, with the run's position, and the log beside it (log.jsonl): small enough to commit, to warm-restart a run on another machine.",
    },
    warmStart: {
      type: "string",
      placeholder: "file",
      description:
        "When the run folder has no checkpoint, start from this milestone (its weights, position and the log beside it; fresh optimizer moments).",
    },
    engine: {
      type: "choice",
      choices: ["auto", "jax", "onnx"],
      default: "auto",
      description:
        "Training engine: jax-js, or the step lowered to onnxruntime-node (whole batches, ~5x faster on CPU); auto: onnx when installed. A run may resume on the other engine.",
    },
    json: jsonOption("summary.json"),
  },
  examples: [
    "faceprior pretrain --data ../cache/unlabeled_faces --variant full --epochs 2 --out runs/full",
    "faceprior pretrain --data ../cache/unlabeled_faces,../cache/utkface --steps 200 --out runs/b",
  ],
  async run(options, _inputs, ctx) {
    const file = await readRunConfig(options.config);
    const pretrainConfig = {
      ...file.pretrain,
      ...givenValues({ variant: options.variant, arch: options.arch, maskRatio: options.maskRatio }),
    };
    const trainFlags = {
      epochs: options.epochs,
      steps: options.steps,
      batchSize: options.batch,
      accumSteps: options.accum,
      lr: options.lr,
    };
    const trainConfig = { seed: ctx.globals.seed, ...file.train, ...givenValues(trainFlags) };
    await ctx.startEngine();
    const engine = await chooseEngine(options.engine as InferenceEngine | "auto", ctx.globals.device);
    ctx.stderr.write(`pretrain: training on ${engine === "onnx" ? "onnxruntime-node (lowered step)" : `jax-js (${ctx.globals.device})`}\n`);
    const progress = createCountProgress({ label: "pretrain", unit: "steps", stream: ctx.stderr });
    const summary = await runPretraining({
      caches: options.data.split(",").map((d) => resolve(d.trim())),
      out: resolve(options.out),
      pretrain: pretrainConfig,
      train: trainConfig,
      previewFaces: options.previewFaces,
      engine: { engine },
      milestone: options.milestone && resolve(options.milestone),
      warmStart: options.warmStart && resolve(options.warmStart),
      onNote: (note) => ctx.stderr.write(`pretrain: ${note}\n`),
      onConfig: printConfig("pretrain", ctx.stderr),
      onProgress: ({ step, totalSteps }) => progress.update(step, totalSteps),
    });
    progress.finish();
    if (options.json) {
      await writeJsonOutput(options.json, summary, ctx.stdout);
      return;
    }
    const losses = Object.entries(summary.final_losses)
      .map(([k, v]) => `${k} ${v.toFixed(3)}`)
      .join(", ");
    ctx.stdout.write(
      `Pretrained ${summary.variant}: ${summary.steps} steps (${summary.epochs.toFixed(2)} epochs over ${summary.train_faces} faces) in ${(summary.train_seconds / 60).toFixed(1)} min of training, ${summary.images_per_second.toFixed(1)} images/s.\n` +
        `Final losses (mean of the last 20 steps): ${losses}.\n` +
        `Wrote ${summary.encoder}; see ${options.out}/loss.png and ${options.out}/previews/.\n` +
        `Next: faceprior info ${summary.encoder}\n`,
    );
  },
});
