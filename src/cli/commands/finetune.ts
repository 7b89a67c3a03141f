/**
 * `faceprior finetune`: adapt an encoder to a task on a prepared cache, under a full-shot or
 * few-shot protocol, over several seeds (see src/transfer/run-transfer.ts for the run folder).
 */
import { FacepriorError } from "../../errors.js";
import { resolve } from "node:path";
import { DEFAULT_ARCH, vitPresetNames } from "../../model/vit-presets.js";
import {
  extractTransferShard,
  runTransfer,
  TRAIN_DEFAULTS_BY_MODE,
  TRANSFER_MODES,
  TransferConfigSchema,
  type TransferOptions,
} from "../../transfer/run-transfer.js";
import { shardName, type ShardSpec } from "../../shard/shard-spec.js";
import { TRANSFER_TASK_NAMES } from "../../transfer/tasks/index.js";
import { chooseEngine, type InferenceEngine } from "../../engine/onnx-session.js";
import { defineCommand, type CommandContext } from "../command.js";
import { jsonOption, writeJsonOutput } from "../json-output.js";
import { DEFAULT_FINETUNE_RECIPE, readFinetuneRecipe } from "../../transfer/finetune-recipe.js";
import { givenValues } from "../options.js";
import { createCountProgress, type CountProgress } from "../progress.js";
import { printConfig } from "../run-config.js";
import { shardFrom, shardOption } from "../shard-option.js";
import { schemaDefaults } from "../../config-schema.js";

const TRANSFER = schemaDefaults(TransferConfigSchema.omit({ task: true }));
const { probe: PROBE_TRAIN, finetune: FINETUNE_TRAIN } = TRAIN_DEFAULTS_BY_MODE;
const RECIPE = DEFAULT_FINETUNE_RECIPE;

/** A training default per mode, read from the defaults the runs use so that help cannot drift. */
const byMode = (key: "epochs" | "batchSize" | "lr") => `${PROBE_TRAIN[key]} (probe), ${FINETUNE_TRAIN[key]} (finetune)`;

export const finetune = defineCommand({
  name: "finetune",
  summary: "Train a task head on an encoder (linear probe) under a full or few-shot protocol, over seeds.",
  details: [
    `Modes: probe (a linear head on frozen features, extracted once per encoder and cache and reused) and finetune (encoder and head together, AdamW with layer-wise lr decay ${FINETUNE_TRAIN.layerDecay}, and the recipe: augmentation, DropPath, label smoothing, class balance, and for --protocol full the best epoch on a validation split; see --recipe). --tune-blocks k fine-tunes only the last k blocks over cached tokens of the others, about depth/k times cheaper per step, without augmentation.`,
    "Protocols: full (all training labels), ratio:<f> (a seeded fraction of the training split), kshot:<k> (k per class, expression).",
    "More labels: --data a,b,... with --protocol full adds the training and validation faces of caches b,... to every run's training faces, for a probe (their features are extracted for those faces only, and cached in --features-dir) or a fine-tune of every block; splits, validation and test faces are the first cache's, and the others' test faces are never used. metrics.json records them (extraData, extraFaces).",
    "The run folder gets config.json (the effective config, also printed first), metrics.json (per seed and fold, mean ± std, the trivial baseline, the subset files, timings), predictions.csv, subsets/ and a plot.",
    "With --shard i/n it only extracts the frozen features of shard i's faces (by a hash of each face's path) into --features-dir and stops; faceprior merge joins the n shards, and the same command without --shard then trains on them (docs/SCALE.md).",
  ],
  options: {
    task: {
      type: "choice",
      choices: TRANSFER_TASK_NAMES,
      required: true,
      placeholder: "name",
      description: "Downstream task; must match the cache's labels.",
    },
    data: {
      type: "string",
      required: true,
      placeholder: "dir[,dir...]",
      description:
        "Prior cache of a labelled dataset (faceprior prepare). More caches with the same labels, comma-separated, add their training and validation faces under --protocol full (probe, or finetune without --tune-blocks); splits and test faces are the first one's.",
    },
    recipe: {
      type: "string",
      placeholder: "file.json",
      description:
        "Fine-tuning recipe (augment, dropPath, labelSmoothing, classBalance, ageBalance, selection); fields left out take the defaults.",
      defaultText: `flip, affine, jitter, ${RECIPE.augment.grayscaleProbability * 100}% grey, DropPath ${RECIPE.dropPath}, best epoch on validation`,
    },
    init: {
      type: "string",
      required: true,
      placeholder: "file|scratch",
      description:
        "Encoder checkpoint or face model (its encoder; the bundled models/faceprior-default.safetensors too), or scratch for a randomly initialised one.",
    },
    mode: {
      type: "choice",
      choices: TRANSFER_MODES,
      default: TRANSFER.mode,
      description: "probe: a linear head on frozen features; finetune: the encoder too, with layer-wise lr decay.",
    },
    tuneBlocks: {
      type: "int",
      min: 1,
      placeholder: "k",
      description: "finetune: train only the last k blocks, over cached tokens of the frozen ones.",
      defaultText: "all",
    },
    imgSize: { type: "int", min: 16, placeholder: "px", description: "Resample a checkpoint's position embeddings to this input size." },
    epochs: { type: "int", min: 1, description: "Training epochs.", defaultText: byMode("epochs") },
    batch: { type: "int", min: 1, description: "Images per batch.", defaultText: byMode("batchSize") },
    lr: { type: "number", min: 1e-8, max: 1, description: "Peak learning rate.", defaultText: byMode("lr") },
    protocol: {
      type: "string",
      default: TRANSFER.protocol,
      placeholder: "full|ratio:f|kshot:k",
      description: "Which training labels to use.",
    },
    seeds: { type: "int", min: 1, max: 100, default: TRANSFER.seeds, description: "Seeds (subsets and head initialisations)." },
    pool: {
      type: "choice",
      choices: TransferConfigSchema.shape.pooling.unwrap().options,
      default: TRANSFER.pooling,
      description: "Features: the class token or the mean of patch tokens.",
    },
    arch: {
      type: "choice",
      choices: vitPresetNames(),
      default: DEFAULT_ARCH,
      placeholder: "name",
      description: "Architecture of a scratch encoder.",
    },
    featuresDir: { type: "string", placeholder: "dir", description: "Where probe features are cached.", defaultText: "<out>/../features" },
    engine: {
      type: "choice",
      choices: ["auto", "jax", "onnx"],
      default: "auto",
      description: "Feature extraction and training: jax-js, or onnxruntime-node (steps lowered from jax-js); auto: onnx when installed.",
    },
    shard: shardOption("Extract the frozen features of only"),
    milestone: {
      type: "string",
      placeholder: "dir",
      description:
        "Mode finetune: keep float16 copies of each run's latest and best checkpoint in <dir>/<fold>-seed<n>, with its log and selection record: small enough to commit. A run folder without a checkpoint restarts warm from them (on another machine, say).",
    },
    out: { type: "string", required: true, placeholder: "dir", description: "Run folder to write." },
    json: jsonOption("metrics.json's summary"),
  },
  examples: ["faceprior finetune --task expression --data fer2013 --init scratch --protocol kshot:10 --out k10"],
  async run(options, _inputs, ctx) {
    const shard = shardFrom(options.shard);
    if (options.milestone && options.mode !== "finetune")
      throw new FacepriorError(
        "BAD_ARGUMENT",
        "--milestone: only fine-tuning keeps milestones; a probe trains in seconds. Drop it, or add --mode finetune.",
        {
          option: "milestone",
        },
      );
    await ctx.startEngine();
    const out = resolve(options.out);
    const init =
      options.init === "scratch"
        ? { scratch: { arch: options.arch, seed: ctx.globals.seed } }
        : { checkpoint: resolve(options.init), imgSize: options.imgSize };
    const [data, ...extraData] = options.data.split(",").map((dir) => resolve(dir));
    const recipe = options.recipe === undefined ? undefined : await readFinetuneRecipe(resolve(options.recipe));
    let steps: CountProgress | undefined;
    const transfer: TransferOptions = {
      task: options.task as (typeof TRANSFER_TASK_NAMES)[number],
      mode: options.mode,
      train: givenValues({ epochs: options.epochs, batchSize: options.batch, lr: options.lr }),
      cacheDir: data!,
      extraCacheDirs: extraData,
      recipe,
      init,
      protocol: options.protocol,
      seeds: options.seeds,
      out,
      pooling: options.pool,
      tuneBlocks: options.tuneBlocks,
      milestone: options.milestone && resolve(options.milestone),
      extract: { engine: await chooseEngine(options.engine as InferenceEngine | "auto", ctx.globals.device), threads: ctx.globals.threads },
      featureDir: resolve(options.featuresDir ?? resolve(out, "..", "features")),
      onStage: (stage) => {
        steps?.finish();
        steps = undefined;
        ctx.stderr.write(`finetune: ${stage}\n`);
      },
      // One bar per run (fold and seed), from its first step; a resumed run starts at its checkpoint.
      onProgress: ({ step, totalSteps }) => {
        steps ??= createCountProgress({ label: "finetune", unit: "steps", stream: ctx.stderr });
        steps.update(step, totalSteps);
      },
      onConfig: printConfig("finetune", ctx.stderr),
    };
    if (shard) return extractShard(transfer, shard, ctx);
    const summary = await runTransfer(transfer);
    steps?.finish();
    if (options.json) {
      await writeJsonOutput(options.json, { headline: summary.headline, baseline: summary.baseline, seconds: summary.seconds }, ctx.stdout);
      return;
    }
    const { name, mean, std, n } = summary.headline;
    ctx.stdout.write(
      `${options.task} (${options.protocol}, ${options.mode}): ${name} ${mean.toFixed(4)} ± ${std.toFixed(4)} over ${n} seeds; trivial baseline (${summary.baseline?.name}) ${summary.baseline?.value.toFixed(4)}.\n` +
        `Wrote ${options.out}/metrics.json and predictions.csv.\n`,
    );
  },
});

async function extractShard(transfer: TransferOptions, shard: ShardSpec, ctx: CommandContext): Promise<void> {
  const { dir, merged, faces, keptChunks } = await extractTransferShard(transfer, shard);
  const all = dir.replace(/shard-\d+-of-(\d+)$/, "shard-*-of-$1");
  ctx.stdout.write(
    `Extracted the frozen features of shard ${shardName(shard)} (${faces} faces${keptChunks > 0 ? `, ${keptChunks} chunk files kept from an earlier run` : ""}) into ${dir}.\n` +
      `When all ${shard.count} shards are done: faceprior merge ${all} --out ${merged}\nthen run this command without --shard; it reads the merged features.\n`,
  );
}
