/**
 * The library's front door: `await FaceAnalyzer.load()` reads the bundled default model (or
 * another face model) and the face-prior teacher; `analyze(image)` finds every face, aligns it
 * and returns its box, 68 landmarks, parsing map and each head's predictions; `embed(image)`
 * returns each face's encoder features. Both read a path, encoded bytes or raw pixels
 * (face-input.ts); `analyzeAll` and `embedAll` read a stream of them.
 *
 *   const analyzer = await FaceAnalyzer.load();
 *   const { faces } = await analyzer.analyze("photo.jpg");
 *   faces[0].predictions.expression   // { kind: "class", label: "happy", probabilities: {...} }
 *   for await (const { source, faces } of analyzer.analyzeAll(walkImageFiles("photos/", console.warn))) ...
 *   await analyzer.dispose();
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { EngineDevice } from "../engine/devices.js";
import { FacepriorError } from "../errors.js";
import { FEATURES_OUTPUT } from "../face-model/onnx-vit.js";
import { detectFaces, FACE_SEARCH_DEFAULTS, type DetectedFace } from "../priors/face-priors.js";
import { loadTeacher, type Teacher } from "../priors/teacher.js";
import { inputName, uprightImage, type FaceInput } from "./face-input.js";
import { readFaceModel, type FaceModel } from "../face-model/face-model.js";
import { readPredictions, type HeadPrediction } from "./head-predictions.js";
import { createModelRunner, type EncoderRunner } from "../face-model/encoder-runner.js";
import { resolveEngine, type InferenceEngine } from "../engine/onnx-session.js";

export {
  predictionOf,
  readPredictions,
  type ClassPrediction,
  type HeadPrediction,
  type LabelsPrediction,
  type ValuePrediction,
} from "./head-predictions.js";
export type { EncodedImage, FaceInput, RawPixels } from "./face-input.js";

/** The model that ships in the package: ViT-Tiny pretrained with every face prior, four heads (MODEL_CARD.md). */
export const DEFAULT_MODEL_PATH = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "models",
  "faceprior-default.safetensors",
);

export type AnalyzedFace = {
  /** Detection confidence, 0-1. */
  score: number;
  /** In image pixels, of the upright (EXIF-rotated) image. */
  box: { x: number; y: number; width: number; height: number };
  /** 68 iBUG landmarks [x, y] in image pixels. */
  landmarks: [number, number][];
  /** Head name -> prediction; the default model has `au`, `expression`, `age` and `attributes`. */
  predictions: Record<string, HeadPrediction>;
  /** The aligned crop and its priors, for overlays: RGB [S, S, 3], parsing [S, S], landmarks [68, 2]. */
  aligned: { size: number; image: Uint8Array; parsing: Uint8Array; landmarks: Float32Array };
};

export type ImageAnalysis = { source: string; width: number; height: number; faces: AnalyzedFace[] };
export type FaceEmbedding = { box: AnalyzedFace["box"]; score: number; embedding: Float32Array };
export type ImageEmbeddings = { source: string; width: number; height: number; faces: FaceEmbedding[] };

/** Where `analyzeAll` and `embedAll` report images that cannot be read, which they then skip. */
export type StreamOptions = { onUnreadable?: (error: FacepriorError, source: string) => void };

/** One image's faces before they are read out: the decoded size, the detections and the model's outputs. */
type FoundFaces = { source: string; width: number; height: number; faces: DetectedFace[]; outputs: Record<string, Float32Array> };

export type FaceAnalyzerOptions = {
  /** A face model file, or a face model already read (embed's encoder without heads); the bundled default when left out. */
  model?: string | FaceModel;
  /** onnx (onnxruntime-node, when installed) or jax; auto picks onnx when it can, unless `device` is webgpu. */
  engine?: InferenceEngine | "auto";
  /** The device jax-js was started on (startEngine); default wasm. */
  device?: EngineDevice;
  threads?: number;
  /** Border added before detection, as a fraction of the longer side; tight face crops need about 0.5. */
  pad?: number;
  /** Faces scoring below this are left out. */
  minScore?: number;
  /** Most faces per image. */
  maxFaces?: number;
};

const boxOf = ({ box: [x, y, width, height] }: DetectedFace): AnalyzedFace["box"] => ({ x, y, width, height });

/** Aligned crops [n, S, S, 3] bytes -> [n, 3, S, S] floats in [0, 1]. */
function cropPixels(faces: readonly DetectedFace[], size: number): Float32Array {
  const plane = size * size;
  const out = new Float32Array(faces.length * 3 * plane);
  faces.forEach(({ sample }, f) => {
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[f * 3 * plane + c * plane + p] = sample.image[3 * p + c]! / 255;
  });
  return out;
}

export class FaceAnalyzer {
  private constructor(
    readonly model: FaceModel,
    private readonly runner: EncoderRunner,
    private readonly teacher: Teacher,
    private readonly options: Required<Pick<FaceAnalyzerOptions, "pad" | "minScore">>,
    /** Why `engine: "auto"` runs on jax-js instead of onnxruntime-node, and how to get it; null when it did not fall back. */
    readonly engineFallback: string | null,
  ) {}

  /** Loads the model and the teacher (a few seconds). Call `dispose()` when done. */
  static async load(options: FaceAnalyzerOptions = {}): Promise<FaceAnalyzer> {
    const model = typeof options.model === "object" ? options.model : await readFaceModel(options.model ?? DEFAULT_MODEL_PATH);
    const { engine, fallback } = await resolveEngine(options.engine ?? "auto", options.device ?? "wasm");
    const runner = await createModelRunner(model, engine, options.threads ?? 2);
    const teacher = await loadTeacher({ maxFaces: options.maxFaces ?? FACE_SEARCH_DEFAULTS.maxFaces });
    return new FaceAnalyzer(
      model,
      runner,
      teacher,
      { pad: options.pad ?? FACE_SEARCH_DEFAULTS.pad, minScore: options.minScore ?? FACE_SEARCH_DEFAULTS.minScore },
      fallback,
    );
  }

  /** Which engine runs the model: onnx or jax. */
  get engine(): InferenceEngine {
    return this.runner.engine;
  }

  private async facesOf(input: FaceInput, name?: string): Promise<FoundFaces> {
    const source = inputName(input, name);
    const rgb = await uprightImage(input, source);
    const faces = await detectFaces(rgb, this.teacher, { size: this.model.cfg.imgSize, ...this.options });
    const outputs = faces.length > 0 ? await this.runner.run(cropPixels(faces, this.model.cfg.imgSize), faces.length) : {};
    return { source, width: rgb.width, height: rgb.height, faces, outputs };
  }

  /** Every face in the image: a path, encoded bytes or raw pixels (FaceInput); `name` names it in the result and errors. */
  async analyze(input: FaceInput, name?: string): Promise<ImageAnalysis> {
    return this.analysisOf(await this.facesOf(input, name));
  }

  /** Each face's pooled encoder features (the representation the heads read). */
  async embed(input: FaceInput, name?: string): Promise<FaceEmbedding[]> {
    return this.embeddingsOf(await this.facesOf(input, name)).faces;
  }

  /**
   * Each input's analysis, in order, one image at a time: a folder walk or a stream is read only
   * as fast as results are taken, so it is never held whole. An unreadable image (BAD_IMAGE)
   * ends the run, unless `onUnreadable` is given: then it goes there and the run goes on.
   */
  analyzeAll(inputs: AsyncIterable<FaceInput> | Iterable<FaceInput>, options: StreamOptions = {}): AsyncGenerator<ImageAnalysis> {
    return this.each(inputs, options, (found) => this.analysisOf(found));
  }

  /** `embedAll` is to `embed` what `analyzeAll` is to `analyze`: each image's faces with their features, in order. */
  embedAll(inputs: AsyncIterable<FaceInput> | Iterable<FaceInput>, options: StreamOptions = {}): AsyncGenerator<ImageEmbeddings> {
    return this.each(inputs, options, (found) => this.embeddingsOf(found));
  }

  private async *each<T>(
    inputs: AsyncIterable<FaceInput> | Iterable<FaceInput>,
    { onUnreadable }: StreamOptions,
    read: (found: FoundFaces) => T,
  ): AsyncGenerator<T> {
    for await (const input of inputs) {
      let found: FoundFaces;
      try {
        found = await this.facesOf(input);
      } catch (error) {
        if (!onUnreadable || !(error instanceof FacepriorError && error.code === "BAD_IMAGE")) throw error;
        onUnreadable(error, inputName(input));
        continue;
      }
      yield read(found);
    }
  }

  private analysisOf({ faces, outputs, ...image }: FoundFaces): ImageAnalysis {
    return {
      ...image,
      faces: faces.map((face, f) => ({
        score: face.score,
        box: boxOf(face),
        landmarks: Array.from(
          { length: face.landmarks68.length / 2 },
          (_, i) => [face.landmarks68[2 * i]!, face.landmarks68[2 * i + 1]!] as [number, number],
        ),
        predictions: readPredictions(this.model.heads, outputs, f),
        aligned: { size: face.sample.size, image: face.sample.image, parsing: face.sample.parsing, landmarks: face.sample.landmarks68 },
      })),
    };
  }

  private embeddingsOf({ faces, outputs, ...image }: FoundFaces): ImageEmbeddings {
    const dim = this.model.cfg.embedDim;
    return {
      ...image,
      faces: faces.map((face, f) => ({
        score: face.score,
        box: boxOf(face),
        embedding: outputs[FEATURES_OUTPUT]!.slice(f * dim, (f + 1) * dim),
      })),
    };
  }

  async dispose(): Promise<void> {
    this.teacher.dispose();
    await this.runner.dispose();
  }
}
