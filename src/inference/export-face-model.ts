/**
 * A face model written for runtimes outside faceprior: `<name>.onnx` (encoder and heads) and
 * `<name>.json` beside it (faceModelManifest: input size, alignment template, head labels).
 * `faceprior export` and `faceprior demo` write it.
 */
import { basename } from "node:path";
import { buildFaceOnnx } from "../face-model/onnx-vit.js";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic-write.js";
import { templateForSize } from "../priors/alignment.js";
import { faceModelManifest, type FaceModel } from "../face-model/face-model.js";

export type FaceModelExport = { onnxPath: string; manifestPath: string; onnxBytes: number };

/** The manifest beside an ONNX file: `<name>.json`. */
export function manifestPathFor(onnxPath: string): string {
  return onnxPath.replace(/\.onnx$/, ".json");
}

/** Writes `onnxPath` (ending in .onnx) and its manifest, each atomically. */
export async function exportFaceModel(model: FaceModel, onnxPath: string): Promise<FaceModelExport> {
  const bytes = buildFaceOnnx(model);
  await writeFileAtomic(onnxPath, bytes);
  const manifestPath = manifestPathFor(onnxPath);
  await writeJsonAtomic(manifestPath, faceModelManifest(model, basename(onnxPath), Array.from(templateForSize(model.cfg.imgSize))));
  return { onnxPath, manifestPath, onnxBytes: bytes.byteLength };
}
