/**
 * Full fine-tuning: the encoder and a task head trained together on the cache's aligned faces,
 * with the shared train loop and step. The parameters form timm's classifier layout at the top
 * level (`patch_embed`, `blocks.{i}`, ..., `fc_norm`, `head`), so AdamW's layer-wise lr decay and
 * no-decay names apply as in timm and MAE. No augmentation yet.
 */
import { jit, numpy as np, tree, type Array } from "../engine/jax.js";
import type { VitCheckpoint } from "../checkpoint/vit-checkpoint.js";
import { poolTokens, vitFeatures, type VitParams } from "../model/vit.js";
import { imageBatch, type CacheDataset } from "../priors/cache-dataset.js";
import { train } from "../train/train-loop.js";
import type { TrainConfigInput } from "../train/train-config.js";
import type { LossFn } from "../train/train-step.js";
import { FINETUNE_INIT_STD, initTaskHead, taskHeadLogits, type TaskHead } from "./heads.js";
import { mapFaceBatches, type Pooling } from "./features.js";
import type { ProbeResult } from "./probe.js";
import { labelRowsOf, TRANSFER_TASKS, taskLoss, type TaskLoss, type TransferTaskName } from "./tasks/index.js";

export type FinetuneOptions = {
  task: TransferTaskName;
  cache: CacheDataset;
  /** Borrowed: each call starts from these weights. */
  encoder: Pick<VitCheckpoint, "params" | "cfg" | "normalization">;
  /** [faces, C] labels. */
  labels: Float32Array;
  labelColumns: readonly string[];
  trainFaces: readonly number[];
  evalFaces: readonly number[];
  pooling: Pooling;
  runDir: string;
  /** TrainConfigSchema input; defaults follow MAE's fine-tuning recipe scaled down: 10 epochs, batch 32, lr 1e-3, layer decay 0.75. */
  train?: TrainConfigInput;
};

type Params = VitParams & TaskHead;
type Batch = { images: Array; targets: Array };

const FINETUNE_DEFAULTS: TrainConfigInput = { epochs: 10, batchSize: 32, lr: 1e-3, layerDecay: 0.75, weightDecay: 0.05, checkpointEvery: 100_000 };
const EVAL_BATCH = 32;

function classifierLoss(task: TransferTaskName, loss: TaskLoss, cfg: FinetuneOptions["encoder"]["cfg"], pooling: Pooling): LossFn<Params, Batch> {
  return (params, batch, key) => {
    key.dispose();
    const { fc_norm, head, ...vit } = params;
    const pooled = poolTokens(vitFeatures(vit, batch.images, cfg), pooling);
    const value = loss(taskHeadLogits(fc_norm ? { fc_norm, head } : { head }, pooled), batch.targets);
    return [value.ref, { [task]: value }];
  };
}

export async function trainFinetune(options: FinetuneOptions): Promise<ProbeResult> {
  const { task, cache, encoder, labels, labelColumns, trainFaces, evalFaces, pooling } = options;
  const { cfg, normalization } = encoder;
  const def = TRANSFER_TASKS[task];
  const width = labelColumns.length;
  const rows = (faces: readonly number[]) => labelRowsOf(labels, width, faces);
  const { options: lossOptions, loss } = taskLoss(task, rows(trainFaces));
  const size = cache.index.options.size;
  const images = (faces: readonly number[]) => np.array(imageBatch(cache, faces, normalization.mean, normalization.std)).reshape([faces.length, 3, size, size]);
  const config = { ...FINETUNE_DEFAULTS, batchSize: Math.min(32, trainFaces.length), ...options.train };
  const result = await train<Params, Batch>({
    runDir: options.runDir,
    config,
    init: (key) => ({ ...tree.ref(encoder.params), ...initTaskHead(key, cfg.embedDim, def.numOutputs(labelColumns), { fcNorm: true, initStd: FINETUNE_INIT_STD }) }),
    loss: classifierLoss(task, loss, cfg, pooling),
    data: {
      size: trainFaces.length,
      batch: (indices) => {
        const faces = indices.map((i) => trainFaces[i]!);
        return { images: images(faces), targets: def.targets(rows(faces)) };
      },
    },
  });
  const predict = jit((p: Params, x: Array) => {
    const { fc_norm, head, ...vit } = p;
    return def.predict(taskHeadLogits(fc_norm ? { fc_norm, head } : { head }, poolTokens(vitFeatures(vit, x, cfg), pooling)));
  });
  try {
    const predictions = await mapFaceBatches(evalFaces, EVAL_BATCH, async (faces) => (await predict(tree.ref(result.params), images(faces)).data()) as Float32Array);
    return { predictions, lossOptions, steps: result.step };
  } finally {
    predict.dispose();
    tree.dispose(result.params);
  }
}
