/**
 * One photo through the pipeline of FaceAnalyzer.analyze, in the browser: the teacher finds each
 * face's mesh, the five points and 68 landmarks come from it, a canvas warp aligns the face onto
 * the manifest's template, and the model reads the crops. Results have FaceAnalyzer's shape.
 */
import { transformPoints } from "../src/data/affine-warp.js";
import { normalizeRgb } from "../src/data/normalize-rgb.js";
import type { AnalyzedFace, ImageAnalysis } from "../src/inference/face-analyzer.js";
import { readPredictions } from "../src/inference/head-predictions.js";
import { similarityTransform } from "../src/priors/alignment.js";
import { FACE_SEARCH_DEFAULTS, locateFaces } from "../src/priors/face-priors.js";
import type { Teacher, TeacherFace } from "../src/priors/human-teacher.js";
import { fivePointsFromMesh, landmarks68FromMesh } from "../src/priors/landmarks68.js";
import { parsingFromMesh } from "../src/priors/parsing.js";
import type { BrowserFaceModel } from "./browser-model.js";
import { photoRgb, warpOnCanvas } from "./canvas-pixels.js";

/** [x0, y0, x1, y1, ...] -> [[x0, y0], [x1, y1], ...]. */
const pointPairs = (flat: Float32Array) =>
  Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!] as [number, number]);

/** A located face aligned onto `template` ([5, 2]) in a `size` crop, with its priors there. */
function alignOnCanvas(photo: ImageBitmap, { mesh }: TeacherFace, template: Float32Array, size: number): AnalyzedFace["aligned"] {
  const transform = similarityTransform(fivePointsFromMesh(mesh), template);
  const alignedMesh = transformPoints(mesh, transform);
  return {
    size,
    image: warpOnCanvas(photo, transform, size),
    parsing: parsingFromMesh(alignedMesh, size),
    landmarks: landmarks68FromMesh(alignedMesh),
  };
}

export async function analyzePhoto(photo: ImageBitmap, name: string, teacher: Teacher, model: BrowserFaceModel): Promise<ImageAnalysis> {
  const { width, height } = photo;
  const located = await locateFaces({ data: photoRgb(photo), width, height, channels: 3 }, teacher, FACE_SEARCH_DEFAULTS);
  const { alignment, outputs } = model.manifest;
  const template = Float32Array.from(alignment.fivePoints);
  const aligned = located.map((face) => alignOnCanvas(photo, face, template, alignment.size));
  const plane = 3 * alignment.size * alignment.size;
  const pixels = new Float32Array(aligned.length * plane);
  aligned.forEach(({ image }, f) => normalizeRgb(image, [0, 0, 0], [1, 1, 1], pixels, f * plane));
  const results = aligned.length > 0 ? await model.run(pixels, aligned.length) : {};
  const faces = located.map(
    ({ score, box: [x, y, w, h], mesh }, f): AnalyzedFace => ({
      score,
      box: { x, y, width: w, height: h },
      landmarks: pointPairs(landmarks68FromMesh(mesh)),
      predictions: readPredictions(outputs.heads, results, f),
      aligned: aligned[f]!,
    }),
  );
  return { source: name, width, height, faces };
}
