/**
 * The exported face model in onnxruntime-web (wasm backend): its manifest (faceModelManifest in
 * src/face-model/face-model.ts), checked for what the page uses, and a session that runs aligned crops.
 */
import * as ort from "onnxruntime-web/wasm";
import { FacepriorError } from "../src/errors.js";
import type { FaceModelManifest } from "../src/face-model/face-model.js";

export type BrowserFaceModel = {
  manifest: FaceModelManifest;
  /** `n` aligned crops [n, 3, S, S], RGB in [0, 1] -> `features` and one flat output per head. */
  run(pixels: Float32Array, n: number): Promise<Record<string, Float32Array>>;
  dispose(): Promise<void>;
};

const isHead = (h: unknown) =>
  typeof h === "object" && h !== null && "name" in h && "activation" in h && "labels" in h && Array.isArray(h.labels);

/** The manifest, if it has what the page reads: the ONNX file, input name, alignment template and heads. */
function checkManifest(json: unknown, url: string): FaceModelManifest {
  const m = json as Partial<FaceModelManifest>;
  const fine =
    typeof m.onnx === "string" &&
    typeof m.input?.name === "string" &&
    Number.isInteger(m.alignment?.size) &&
    m.alignment?.fivePoints.length === 10 &&
    Array.isArray(m.outputs?.heads) &&
    m.outputs.heads.every(isHead);
  if (!fine)
    throw new FacepriorError(
      "BAD_CHECKPOINT",
      `${url}: not a faceprior model manifest (it needs onnx, input.name, alignment.size, alignment.fivePoints and outputs.heads). Pass the .json that "faceprior export --onnx model.onnx" writes beside the model.`,
    );
  return m as FaceModelManifest;
}

/** The model `manifestUrl` describes, on onnxruntime-web's wasm binaries from `onnxruntime-web/` under `vendorUrl`. */
export async function loadBrowserFaceModel(manifestUrl: string, vendorUrl: string): Promise<BrowserFaceModel> {
  // Set, not left to onnxruntime's guess beside its own module, which a bundler moves.
  ort.env.wasm.wasmPaths = new URL("onnxruntime-web/", vendorUrl).href;
  const response = await fetch(manifestUrl);
  if (!response.ok)
    throw new FacepriorError(
      "BAD_CHECKPOINT",
      `${manifestUrl}: HTTP ${response.status}. Serve the .json and .onnx that "faceprior export --onnx model.onnx" writes, or the page with "faceprior demo".`,
    );
  const manifest = checkManifest(await response.json(), manifestUrl);
  const session = await ort.InferenceSession.create(new URL(manifest.onnx, manifestUrl).href, { executionProviders: ["wasm"] });
  const size = manifest.alignment.size;
  return {
    manifest,
    async run(pixels, n) {
      const outputs = await session.run({ [manifest.input.name]: new ort.Tensor("float32", pixels, [n, 3, size, size]) });
      return Object.fromEntries(Object.entries(outputs).map(([name, tensor]) => [name, tensor.data as Float32Array]));
    },
    dispose: () => session.release(),
  };
}
