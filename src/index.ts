/**
 * faceprior's public API, a curated list. Importing it installs the Node shims that jax-js needs
 * (see src/engine/node-shims.ts) with the default thread count.
 */
export { FacepriorError, type ErrorCode } from "./errors.js";

// engine; `jax` is @jax-js/jax itself, for building and reading arrays
export * as jax from "./engine/jax.js";
export { startEngine, type EngineInfo, type EngineOptions } from "./engine/engine.js";
export { ENGINE_DEVICES, type EngineDevice } from "./engine/devices.js";
export { findWebGpu, listWebGpuAdapters, type AdapterInfo, type WebGpuStatus } from "./engine/webgpu-adapter.js";
export { gpuMemory, type GpuMemory } from "./engine/webgpu-memory.js";
export { installNodeShims } from "./engine/node-shims.js";

// model
export { initVit, vitFeatures, poolTokens, type VitParams } from "./model/vit.js";
export { VIT_PRESETS, VIT_ALIASES, resolveVitPreset, type VitConfig } from "./model/vit-presets.js";
export { resamplePosEmbed } from "./model/pos-embed.js";

// checkpoints
export { loadVitCheckpoint, saveVitCheckpoint, readVitCheckpoint, type VitCheckpoint } from "./checkpoint/vit-checkpoint.js";
export { importTimmCheckpoint, type TimmImport } from "./checkpoint/from-timm.js";
export { readSafetensors, writeSafetensors, type TensorMap, type HostTensor } from "./checkpoint/safetensors.js";

// images
export { decodeImage, decodeImageBatch, decodeImageRgb, type DecodeImageOptions, type ImageInput } from "./data/image.js";
export { walkImageFiles, type SkippedFolder } from "./data/image-files.js";

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
export { augmentSample, parseAugmentConfig, NO_AUGMENT } from "./data/augment/augment.js";
export { meshMirrorTable } from "./data/augment/flip.js";
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

// ONNX export and the onnxruntime-node fast path (optional dependency)
export { buildFaceOnnx, TASK_ACTIVATIONS, type FaceOnnxInput, type OnnxHead, type HeadActivation } from "./export/onnx-vit.js";
export { OnnxSession, loadOnnxRuntime, chooseEngine, type OnnxSessionOptions, type InferenceEngine } from "./inference/onnx-session.js";

// face models: analysis, packing, and new heads fitted on your own photos (docs/FINETUNE.md)
export {
  FaceAnalyzer,
  DEFAULT_MODEL_PATH,
  type AnalyzedFace,
  type FaceAnalyzerOptions,
  type EncodedImage,
  type FaceEmbedding,
  type FaceInput,
  type HeadPrediction,
  type ImageAnalysis,
  type ImageEmbeddings,
  type RawPixels,
  type StreamOptions,
} from "./inference/face-analyzer.js";
export { readFaceModel, writeFaceModel, addHead, type FaceModel, type ModelHead, type HeadSpec } from "./inference/face-model.js";
export { packFaceModel } from "./inference/pack-model.js";
export { readLabelledPhotos, type LabelledPhotos, type LabelledPhoto } from "./inference/labelled-photos.js";
export { fitHead, type FitHeadOptions, type FitHeadResult, type FitReport } from "./inference/fit-head.js";
