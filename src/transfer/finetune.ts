/**
 * Fine-tuning: the encoder and a task head trained together on the cache's aligned faces, with
 * the shared train loop and step. The parameters form timm's classifier layout at the top level
 * (`patch_embed`, `blocks.{i}`, ..., `fc_norm`, `head`), so AdamW's layer-wise lr decay and
 * no-decay names apply as in timm and MAE. No augmentation yet.
 *
 * With `tuneBlocks` = K below the depth, only the last K blocks, the final norm and the head
 * train; the frozen part runs once per encoder and cache (features.ts, `cachedPrefixTokens`) and
 * each step starts from its cached tokens. The tuned blocks are renumbered `blocks.0..K-1`, which
 * gives them the same layer-decay scales they have in the whole encoder.
 */
import { jit, numpy as np, tree, type Array } from "../engine/jax.js";
import { encodeTokens, poolTokens, vitFeatures, type Block, type LayerNorm, type VitParams } from "../model/vit.js";
import { gather, imageBatch, type CacheDataset } from "../priors/cache-dataset.js";
import { train, type TrainEngineChoice } from "../train/train-loop.js";
import { withBatchAtMost, type TrainConfigInput } from "../train/train-config.js";
import type { LossFn } from "../train/train-step.js";
import { FINETUNE_INIT_STD, initTaskHead, taskHeadLogits, type TaskHead } from "./heads.js";
import { mapFaceBatches, type Encoder, type Pooling, type TokenSet } from "./features.js";
import type { ProbeResult } from "./probe.js";
import { labelRowsOf, TRANSFER_TASKS, taskLoss, type TaskLoss, type TransferTaskName } from "./tasks/index.js";

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
};

type Tuned = { blocks: Block[]; norm: LayerNorm } | VitParams;
type Params = Tuned & TaskHead;
type Batch = { inputs: Array; targets: Array };

/** What the trained part of the encoder starts from, what it reads per face, and how it runs. */
type TunedEncoder = {
  init(): Tuned;
  inputs(faces: readonly number[]): Array;
  /** inputs -> tokens after the final norm; consumes both. */
  forward(params: Tuned, inputs: Array): Array;
};

const FINETUNE_DEFAULTS: TrainConfigInput = { epochs: 10, batchSize: 32, lr: 1e-3, layerDecay: 0.75, weightDecay: 0.05, checkpointEvery: 100_000 };
const EVAL_BATCH = 32;

function wholeEncoder(encoder: Encoder, cache: CacheDataset): TunedEncoder {
  const { cfg, normalization, params } = encoder;
  const size = cache.index.options.size;
  return {
    init: () => tree.ref(params),
    inputs: (faces) => np.array(imageBatch(cache, faces, normalization.mean, normalization.std)).reshape([faces.length, 3, size, size]),
    forward: (p, images) => vitFeatures(p as VitParams, images, cfg),
  };
}

function lastBlocks(encoder: Encoder, { tuneBlocks, tokens }: { tuneBlocks: number; tokens: TokenSet }): TunedEncoder {
  const { cfg, params } = encoder;
  const { count, length, dim } = tokens;
  return {
    init: () => tree.ref({ blocks: params.blocks.slice(cfg.depth - tuneBlocks), norm: params.norm }),
    inputs: (faces) => np.array(gather({ dtype: "F32", shape: [count, length * dim], data: tokens.tokens }, faces).data as Float32Array).reshape([faces.length, length, dim]),
    forward: (p, x) => encodeTokens(p, x, cfg),
  };
}

function classifierLoss(task: TransferTaskName, loss: TaskLoss, tuned: TunedEncoder, pooling: Pooling): LossFn<Params, Batch> {
  return (params, batch, key) => {
    key.dispose();
    const { fc_norm, head, ...encoder } = params;
    const pooled = poolTokens(tuned.forward(encoder, batch.inputs), pooling);
    const value = loss(taskHeadLogits(fc_norm ? { fc_norm, head } : { head }, pooled), batch.targets);
    return [value.ref, { [task]: value }];
  };
}

export async function trainFinetune(options: FinetuneOptions): Promise<ProbeResult> {
  const { task, encoder, labels, labelColumns, trainFaces, evalFaces, pooling } = options;
  const def = TRANSFER_TASKS[task];
  const width = labelColumns.length;
  const rows = (faces: readonly number[]) => labelRowsOf(labels, width, faces);
  const { options: lossOptions, loss } = taskLoss(task, rows(trainFaces));
  const tuned = options.lastBlocks ? lastBlocks(encoder, options.lastBlocks) : wholeEncoder(encoder, options.cache);
  const config = withBatchAtMost({ ...FINETUNE_DEFAULTS, ...options.train }, trainFaces.length);
  const result = await train<Params, Batch>({
    runDir: options.runDir,
    ...options.engine,
    config,
    init: (key) => ({ ...tuned.init(), ...initTaskHead(key, encoder.cfg.embedDim, def.numOutputs(labelColumns), { fcNorm: true, initStd: FINETUNE_INIT_STD }) }),
    loss: classifierLoss(task, loss, tuned, pooling),
    data: {
      size: trainFaces.length,
      batch: (indices) => {
        const faces = indices.map((i) => trainFaces[i]!);
        return { inputs: tuned.inputs(faces), targets: def.targets(rows(faces)) };
      },
    },
  });
  const predict = jit((p: Params, x: Array) => {
    const { fc_norm, head, ...rest } = p;
    return def.predict(taskHeadLogits(fc_norm ? { fc_norm, head } : { head }, poolTokens(tuned.forward(rest, x), pooling)));
  });
  try {
    const predictions = await mapFaceBatches(evalFaces, EVAL_BATCH, async (faces) => (await predict(tree.ref(result.params), tuned.inputs(faces)).data()) as Float32Array);
    return { predictions, lossOptions, steps: result.step };
  } finally {
    predict.dispose();
    tree.dispose(result.params);
  }
}
