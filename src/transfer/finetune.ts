/**
 * Fine-tuning: the encoder and a task head trained together on the cache's aligned faces, with
 * the shared train loop and step. The parameters form timm's classifier layout at the top level
 * (`patch_embed`, `blocks.{i}`, ..., `fc_norm`, `head`), so AdamW's layer-wise lr decay and
 * no-decay names apply as in timm and MAE.
 *
 * The recipe (finetune-recipe.ts): augmentation of each training face (flip, small affine, colour
 * jitter, grey), drawn from `exampleSeed` so a resumed run sees the same images; DropPath in the
 * tuned blocks; and, given validation faces, model selection: the epoch with the best validation
 * headline is the one evaluated (model-selection.ts), with optional early stopping.
 *
 * With `tuneBlocks` = K below the depth, only the last K blocks, the final norm and the head
 * train; the frozen part runs once per encoder and cache (features.ts, `cachedPrefixTokens`) and
 * each step starts from its cached tokens, so there is no image to augment. The tuned blocks are
 * renumbered `blocks.0..K-1`, which gives them the same layer-decay scales they have in the whole
 * encoder.
 */
import { jit, numpy as np, tree, type Array } from "../engine/jax.js";
import { encodeTokens, vitFeatures, vitHead, type Block, type DropPath, type LayerNorm, type VitParams } from "../model/vit.js";
import { gather, imageBatch, type CacheDataset } from "../priors/cache-dataset.js";
import { augmentImage, type AugmentConfig } from "../augment/augment.js";
import { train, type TrainEngineChoice, type TrainProgress } from "../train/train-loop.js";
import { exampleSeed } from "../train/seeding.js";
import { resolveTrainConfig, withBatchAtMost, type TrainConfigInput } from "../train/train-config.js";
import type { LossFn } from "../train/train-step.js";
import { FINETUNE_INIT_STD, initTaskHead, type TaskHead } from "./heads.js";
import { mapFixedBatches } from "../face-model/encoder-runner.js";
import type { Encoder, Pooling, TokenSet } from "./features.js";
import type { ProbeResult } from "./probe.js";
import { taskMetrics } from "./evaluate.js";
import { openModelSelection, type SelectionRecord } from "./model-selection.js";
import { restoreSelectionMilestones, selectionHooks } from "./selection-milestones.js";
import { labelRowsOf, TRANSFER_TASKS, taskLoss, type LossOptionsOf, type TaskLoss, type TransferTaskName } from "./tasks/index.js";

export type FinetuneOptions = {
  task: TransferTaskName;
  cache: CacheDataset;
  /** Borrowed: each call starts from these weights. */
  encoder: Encoder;
  /** When only the last `tuneBlocks` blocks train: the frozen blocks' output for every face (`cachedPrefixTokens`). */
  lastBlocks?: { tuneBlocks: number; tokens: TokenSet };
  /** [faces, C] labels. */
  labels: Float32Array;
  labelColumns: readonly string[];
  trainFaces: readonly number[];
  evalFaces: readonly number[];
  pooling: Pooling;
  runDir: string;
  /** TrainConfigSchema input; defaults follow MAE's fine-tuning recipe scaled down: 10 epochs, batch 32, lr 1e-3, layer decay 0.75. */
  train?: TrainConfigInput;
  /** The training engine and its threads (jax-js by default). */
  engine?: TrainEngineChoice;
  /** Augmentation of training faces; ignored (none is possible) when only the last blocks train. */
  augment?: AugmentConfig;
  /** DropPath rate of the deepest block (timm's drop_path_rate); 0 turns it off. */
  dropPath?: number;
  /** Overrides of the task's loss options (label smoothing, class or age balance, ...). */
  lossOverrides?: Partial<LossOptionsOf[TransferTaskName]>;
  /** Validation faces (never test faces) to select the best epoch on; `patience` epochs without a better score stop the run. */
  selection?: { valFaces: readonly number[]; patience: number | null };
  /** Keep float16 milestones in this folder, and start from them when `runDir` has no checkpoint (selection-milestones.ts). */
  milestone?: string;
  onProgress?: (progress: TrainProgress) => void;
};

export type FinetuneResult = ProbeResult & { selection: SelectionRecord | null; augmented: boolean };

type Tuned = { blocks: Block[]; norm: LayerNorm } | VitParams;
type Params = Tuned & TaskHead;
type Batch = { inputs: Array; targets: Array };

/** What the trained part of the encoder starts from, what it reads per face, and how it runs. */
type TunedEncoder = {
  init(): Tuned;
  /** The faces' inputs; `augment` (image faces only) gets each face's bytes and position. */
  inputs(faces: readonly number[], augment?: (image: Uint8Array, position: number) => Uint8Array): Array;
  /** inputs -> tokens after the final norm; consumes both (and the DropPath key). */
  forward(params: Tuned, inputs: Array, dropPath?: DropPath): Array;
  /** The depth index of the first tuned block, for DropPath's rates. */
  firstBlock: number;
  augmentable: boolean;
};

export const FINETUNE_DEFAULTS = {
  epochs: 10,
  batchSize: 32,
  lr: 1e-3,
  layerDecay: 0.75,
  weightDecay: 0.05,
  checkpointEvery: 100_000,
} as const satisfies TrainConfigInput;
const EVAL_BATCH = 32;

/** `faces` and copies of the first up to `batch`: the padding of the last batch (mapFixedBatches). */
function paddedWithFirst(faces: readonly number[], batch: number): number[] {
  return [...faces, ...new globalThis.Array<number>(batch - faces.length).fill(faces[0]!)];
}

function wholeEncoder(encoder: Encoder, cache: CacheDataset): TunedEncoder {
  const { cfg, normalization, params } = encoder;
  const size = cache.index.options.size;
  return {
    init: () => tree.ref(params),
    inputs: (faces, augment) =>
      np.array(imageBatch(cache, faces, normalization.mean, normalization.std, augment)).reshape([faces.length, 3, size, size]),
    forward: (p, images, dropPath) => vitFeatures(p as VitParams, images, cfg, dropPath),
    firstBlock: 0,
    augmentable: true,
  };
}

function lastBlocks(encoder: Encoder, { tuneBlocks, tokens }: { tuneBlocks: number; tokens: TokenSet }): TunedEncoder {
  const { cfg, params } = encoder;
  const { count, length, dim } = tokens;
  return {
    init: () => tree.ref({ blocks: params.blocks.slice(cfg.depth - tuneBlocks), norm: params.norm }),
    inputs: (faces) =>
      np
        .array(gather({ dtype: "F32", shape: [count, length * dim], data: tokens.tokens }, faces).data as Float32Array)
        .reshape([faces.length, length, dim]),
    forward: (p, x, dropPath) => encodeTokens(p, x, cfg, dropPath),
    firstBlock: cfg.depth - tuneBlocks,
    augmentable: false,
  };
}

function classifierLoss(
  task: TransferTaskName,
  loss: TaskLoss,
  tuned: TunedEncoder,
  pooling: Pooling,
  dropPath: number,
): LossFn<Params, Batch> {
  return (params, batch, key) => {
    const drop = dropPath > 0 ? { rate: dropPath, key, firstBlock: tuned.firstBlock } : (key.dispose(), undefined);
    const { fc_norm, head, ...encoder } = params;
    const logits = vitHead(tuned.forward(encoder, batch.inputs, drop), pooling, fc_norm ? { fc_norm, head } : { head });
    const value = loss(logits, batch.targets);
    return [value.ref, { [task]: value }];
  };
}

export async function trainFinetune(options: FinetuneOptions): Promise<FinetuneResult> {
  const { task, encoder, labels, labelColumns, trainFaces, evalFaces, pooling, selection } = options;
  const def = TRANSFER_TASKS[task];
  const width = labelColumns.length;
  const rows = (faces: readonly number[]) => labelRowsOf(labels, width, faces);
  const { options: lossOptions, loss } = taskLoss(task, rows(trainFaces), options.lossOverrides as never);
  const tuned = options.lastBlocks ? lastBlocks(encoder, options.lastBlocks) : wholeEncoder(encoder, options.cache);
  const augment = tuned.augmentable ? options.augment : undefined;
  const input = withBatchAtMost({ ...FINETUNE_DEFAULTS, ...options.train }, trainFaces.length);
  const stepsPerEpoch = resolveTrainConfig({ ...input, epochs: 1, steps: undefined }, trainFaces.length).derived.totalSteps;
  const config = selection ? { ...input, checkpointEvery: stepsPerEpoch } : input;
  const { seed, checkpointEvery } = resolveTrainConfig(config, trainFaces.length);
  const predict = jit((p: Params, x: Array) => {
    const { fc_norm, head, ...rest } = p;
    return def.predict(vitHead(tuned.forward(rest, x), pooling, fc_norm ? { fc_norm, head } : { head }));
  });
  const predictFaces = async (params: Params, faces: readonly number[]) => {
    const batchOf = async (start: number, end: number) => paddedWithFirst(faces.slice(start, end), EVAL_BATCH);
    const run = async (batch: number[]) => ({ predictions: (await predict(tree.ref(params), tuned.inputs(batch)).data()) as Float32Array });
    return (await mapFixedBatches(faces.length, EVAL_BATCH, batchOf, run)).predictions ?? new Float32Array(0);
  };
  if (options.milestone) await restoreSelectionMilestones(options.runDir, options.milestone);
  const selector = selection
    ? await openModelSelection<Params>({
        runDir: options.runDir,
        metric: `validation ${def.headline.name}`,
        higherIsBetter: def.headline.higherIsBetter,
        valFaces: selection.valFaces.length,
        patience: selection.patience,
        score: async (params) =>
          taskMetrics(
            task,
            await predictFaces(params, selection.valFaces),
            labelsOf(labels, width, selection.valFaces),
            selection.valFaces.length,
          ).headline.value,
      })
    : null;
  try {
    await selector?.catchUp();
    let steps = selector?.record.stoppedAt ?? 0;
    if (selector?.record.stoppedAt == null) {
      const result = await train<Params, Batch>({
        runDir: options.runDir,
        ...options.engine,
        config,
        init: (key) => ({
          ...tuned.init(),
          ...initTaskHead(key, encoder.cfg.embedDim, def.numOutputs(labelColumns), { fcNorm: true, initStd: FINETUNE_INIT_STD }),
        }),
        loss: classifierLoss(task, loss, tuned, pooling, options.dropPath ?? 0),
        data: {
          size: trainFaces.length,
          batch: (indices, at) => {
            const faces = indices.map((i) => trainFaces[i]!);
            const size = options.cache.index.options.size;
            const draw =
              augment && ((image: Uint8Array, position: number) => augmentImage(image, size, exampleSeed(seed, at, position), augment));
            return { inputs: tuned.inputs(faces, draw || undefined), targets: def.targets(rows(faces)) };
          },
        },
        ...selectionHooks(selector, options.milestone, checkpointEvery),
        onProgress: options.onProgress,
      });
      steps = result.step;
      if (selector) tree.dispose(result.params);
      else return { predictions: await predictWith(result.params), lossOptions, steps, selection: null, augmented: Boolean(augment) };
    }
    return {
      predictions: await predictWith(await selector!.bestParams()),
      lossOptions,
      steps,
      selection: selector!.record,
      augmented: Boolean(augment),
    };
  } finally {
    predict.dispose();
  }

  /** Predictions on the evaluation faces; consumes `params`. */
  async function predictWith(params: Params): Promise<Float32Array> {
    try {
      return await predictFaces(params, evalFaces);
    } finally {
      tree.dispose(params);
    }
  }
}

function labelsOf(labels: Float32Array, width: number, faces: readonly number[]): Float32Array {
  return gather({ dtype: "F32", shape: [labels.length / width, width], data: labels }, faces).data as Float32Array;
}
