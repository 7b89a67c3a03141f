/**
 * faceprior in the browser, `import { FaceAnalyzer } from "faceprior/web"`: `load()` fetches the
 * face-prior teacher (Human) and the exported face model (onnxruntime-web, wasm), then
 * `analyze(input)` finds, aligns and reads every face of an <img>, a <video>'s current frame, a
 * canvas, an ImageBitmap, an ImageData or an image file, with the result shape of the Node
 * FaceAnalyzer (ImageAnalysis). docs/DEMO.md says which files a page serves and how to import it.
 *
 *   const analyzer = await FaceAnalyzer.load({ model: "model/face-model.json", vendor: "vendor/" });
 *   const { faces } = await analyzer.analyze(document.querySelector("video")!);
 *   faces[0]?.predictions.expression   // { kind: "class", label: "happy", probability: 0.41, ... }
 */
import type { ImageAnalysis } from "../src/inference/face-analyzer.js";
import type { FaceModelManifest } from "../src/face-model/face-model.js";
import type { Teacher } from "../src/priors/human-teacher.js";
import { analyzePhoto } from "./analyze-photo.js";
import { browserInputName, readImage, type BrowserInput } from "./browser-input.js";
import { loadBrowserFaceModel, type BrowserFaceModel } from "./browser-model.js";
import { loadBrowserTeacher } from "./browser-teacher.js";

export { FacepriorError, type ErrorCode } from "../src/errors.js";
export type { AnalyzedFace, ImageAnalysis } from "../src/inference/face-analyzer.js";
export type { HeadPrediction } from "../src/inference/head-predictions.js";
export { readImage, type BrowserInput } from "./browser-input.js";

export type WebAnalyzerOptions = {
  /** The model's manifest, as `faceprior export --onnx <name>.onnx` writes it (<name>.json, the .onnx beside it); relative to the page. */
  model?: string;
  /** The folder of runtime files, relative to the page: human/, human-models/, tfjs-backend-wasm/ and onnxruntime-web/, as `faceprior demo` serves vendor/. */
  vendor?: string;
};

export class FaceAnalyzer {
  /** The end of the last call in line: calls run one at a time, as the teacher and the session need. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly teacher: Teacher,
    private readonly model: BrowserFaceModel,
  ) {}

  /** Fetches the teacher's models and the face model (seconds, the first time). The defaults are `faceprior demo`'s layout. */
  static async load({ model = "model/face-model.json", vendor = "vendor/" }: WebAnalyzerOptions = {}): Promise<FaceAnalyzer> {
    const vendorUrl = new URL(vendor, document.baseURI).href;
    const [teacher, faceModel] = await Promise.all([
      loadBrowserTeacher(vendorUrl),
      loadBrowserFaceModel(new URL(model, document.baseURI).href, vendorUrl),
    ]);
    return new FaceAnalyzer(teacher, faceModel);
  }

  /** Input size, alignment template and each head's name, activation and labels. */
  get manifest(): FaceModelManifest {
    return this.model.manifest;
  }

  /**
   * Every face in `input`, largest first; `name` names it in the result and errors. Calls made
   * while one runs wait their turn, so a webcam loop and a dropped photo can share an analyzer.
   */
  analyze(input: BrowserInput, name?: string): Promise<ImageAnalysis> {
    const result = this.queue.then(() => this.analyzeNow(input, name));
    this.queue = result.catch(() => {}); // the caller sees the error; the next call still runs
    return result;
  }

  private async analyzeNow(input: BrowserInput, name?: string): Promise<ImageAnalysis> {
    const bitmap = await readImage(input, name);
    try {
      return await analyzePhoto(bitmap, name ?? browserInputName(input), this.teacher, this.model);
    } finally {
      bitmap.close();
    }
  }

  async dispose(): Promise<void> {
    await this.queue;
    this.teacher.dispose();
    await this.model.dispose();
  }
}
