/**
 * faceprior's public API for analysing faces and working with face models: `import { FaceAnalyzer }
 * from "faceprior"`. Its types name no jax-js or WebGPU types, so a project compiles against it
 * with TypeScript's defaults (skipLibCheck off). The research API (the engine's arrays, the ViT,
 * checkpoints, training, datasets, priors, pretraining, transfer) is `faceprior/research`, which
 * also re-exports all of this.
 * Importing it installs the Node shims that jax-js needs (src/engine/node-shims.ts) with the
 * default thread count.
 */
export { FacepriorError, type ErrorCode } from "./errors.js";

// face models: analysis, packing, and new heads fitted on your own photos (docs/FINETUNE.md)
export {
  FaceAnalyzer,
  DEFAULT_MODEL_PATH,
  predictionOf,
  type AnalyzedFace,
  type ClassPrediction,
  type FaceAnalyzerOptions,
  type EncodedImage,
  type FaceEmbedding,
  type FaceInput,
  type HeadPrediction,
  type ImageAnalysis,
  type ImageEmbeddings,
  type RawPixels,
  type StreamOptions,
  type LabelsPrediction,
  type ValuePrediction,
} from "./inference/face-analyzer.js";
export { readFaceModel, writeFaceModel, addHead, type FaceModel, type ModelHead, type HeadSpec } from "./face-model/face-model.js";
export { packFaceModel } from "./transfer/pack-model.js";
export { readLabelledPhotos, type LabelledPhotos, type LabelledPhoto } from "./transfer/add-head/labelled-photos.js";
export { fitHead, type FitHeadOptions, type FitHeadResult, type FitReport } from "./transfer/add-head/fit-head.js";

// engines: jax-js (started by startEngine) and the onnxruntime-node fast path (an optional peer dependency)
export { startEngine, type EngineInfo, type EngineOptions } from "./engine/engine.js";
export { ENGINE_DEVICES, type AdapterInfo, type EngineDevice } from "./engine/devices.js";
export {
  OnnxSession,
  loadOnnxRuntime,
  chooseEngine,
  resolveEngine,
  type EngineChoice,
  type OnnxSessionOptions,
  type InferenceEngine,
} from "./engine/onnx-session.js";

// ONNX export, images and tensors on the host
export { buildFaceOnnx, type FaceOnnxInput, type OnnxHead } from "./face-model/onnx-vit.js";
export type { HeadActivation } from "./model/head-activations.js";
export { TASK_ACTIVATIONS } from "./transfer/tasks/activations.js";
export { decodeImage, decodeImageBatch, decodeImageRgb, type DecodeImageOptions, type ImageInput } from "./data/image.js";
export { walkImageFiles, type SkippedFolder } from "./data/image-files.js";
export { readSafetensors, writeSafetensors, type TensorMap, type HostTensor } from "./checkpoint/safetensors.js";
