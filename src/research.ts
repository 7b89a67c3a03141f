/**
 * faceprior's research API, `faceprior/research`: everything in the main entry (index.ts) and the
 * engine's arrays, the ViT, checkpoints, training, datasets and priors, pretraining and transfer.
 * Importing it installs the Node shims that jax-js needs (see src/engine/node-shims.ts) with the
 * default thread count. Its types include jax-js's, which need `lib: ["ES2023", "DOM", "ESNext.Float16"]`
 * and @webgpu/types, or skipLibCheck.
 */
export * from "./index.js";

// engine; `jax` is @jax-js/jax itself, for building and reading arrays
export * as jax from "./engine/jax.js";
export { findWebGpu, listWebGpuAdapters, type WebGpuStatus } from "./engine/webgpu-adapter.js";
export { gpuMemory, type GpuMemory } from "./engine/webgpu-memory.js";
export { installNodeShims } from "./engine/node-shims.js";

// model
export { initVit, vitFeatures, poolTokens, type VitParams } from "./model/vit.js";
export { VIT_PRESETS, VIT_ALIASES, resolveVitPreset, type VitConfig } from "./model/vit-presets.js";
export { resamplePosEmbed } from "./model/pos-embed.js";

// checkpoints
export { loadVitCheckpoint, saveVitCheckpoint, readVitCheckpoint, type VitCheckpoint } from "./checkpoint/vit-checkpoint.js";
export { importTimmCheckpoint, type TimmImport } from "./checkpoint/from-timm.js";

// training
export { adamw, applyUpdates, type AdamWOptions, type Optimizer } from "./train/adamw.js";
export { cosineSchedule } from "./train/schedule.js";
export { clipByGlobalNorm, globalNorm } from "./train/clip-grad.js";
export { makeTrainStep, makeAccumulatedStep, type LossFn, type StepMetrics } from "./train/train-step.js";
export { TrainConfigSchema, resolveTrainConfig, type TrainConfig } from "./train/train-config.js";
export { train, type TrainResult } from "./train/train-loop.js";

// datasets and face priors
export { loadDataset } from "./data/load-dataset.js";
export { splitDataset, type Split } from "./data/splits.js";
export { makeFewShotSubset, parseProtocol, saveFewShotSubset, loadFewShotSubset, type FewShotProtocol } from "./data/few-shot.js";
export { augmentSample, parseAugmentConfig, NO_AUGMENT } from "./augment/augment.js";
export { meshMirrorTable } from "./augment/flip.js";
export type { Dataset, DatasetRow } from "./data/dataset.js";
export { loadTeacher, teacherUVMap, type Teacher } from "./priors/teacher.js";
export { prepareCache, type PrepareReport } from "./priors/prepare.js";
export { loadCacheDataset, imageBatch, type CacheDataset } from "./priors/cache-dataset.js";
export type { FaceSample } from "./priors/face-sample.js";

// pretraining
export { runPretraining, type PretrainSummary } from "./pretrain/pretrain-run.js";
export { PretrainConfigSchema, resolvePretrainConfig } from "./pretrain/config.js";
export { PRETRAIN_VARIANTS, VARIANT_NAMES } from "./pretrain/variants.js";
export { initMae, encoderParams, type MaeParams } from "./pretrain/mae.js";
export { makePretrainLoss, pretrainBatch } from "./pretrain/pretrain-loss.js";

// transfer
export { TRANSFER_TASKS, taskLoss } from "./transfer/tasks/index.js";
export { cachedFeatures, cachedPrefixTokens, type EncoderSource, type ExtractOptions } from "./transfer/features.js";
export * as metrics from "./transfer/metrics.js";
