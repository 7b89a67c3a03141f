/**
 * One image in, one aligned face with its priors out (or the reason there is none): pad, run the
 * teacher, keep the largest confident face, align it to the template, and derive the 68
 * landmarks and the parsing map on the aligned crop.
 */
import type { HwcImage } from "../data/affine-warp.js";
import { alignFace } from "./alignment.js";
import type { FaceSample } from "./face-sample.js";
import { fivePointsFromMesh, landmarks68FromMesh } from "./landmarks68.js";
import { parsingFromMesh } from "./parsing.js";
import type { Teacher, TeacherFace } from "./human-teacher.js";

export type FacePriorOptions = {
  /** Side of the aligned crop. */
  size: number;
  /** Border added on each side before detection, as a fraction of the longer side (tight crops need it). */
  pad: number;
  /** Faces scoring below this are refused. */
  minScore: number;
};

export type FacePriorResult = { ok: true; sample: FaceSample; score: number; facesFound: number } | { ok: false; reason: string };

/** The image with a black border of `border` pixels on every side. */
export function padImage(image: HwcImage, border: number): HwcImage {
  if (border === 0) return image;
  const { data, width, height, channels } = image;
  const outWidth = width + 2 * border;
  const out = new Uint8Array(outWidth * (height + 2 * border) * channels);
  for (let row = 0; row < height; row++) {
    out.set(data.subarray(row * width * channels, (row + 1) * width * channels), ((row + border) * outWidth + border) * channels);
  }
  return { data: out, width: outWidth, height: height + 2 * border, channels };
}

/** The image with the search border: `pad` times its longer side, on every side; and that border in pixels. */
export function padForSearch(image: HwcImage, pad: number): { padded: HwcImage; border: number } {
  const border = Math.round(pad * Math.max(image.width, image.height));
  return { padded: padImage(image, border), border };
}

function largest(faces: TeacherFace[]): TeacherFace {
  return faces.reduce((best, f) => (f.box[2] * f.box[3] > best.box[2] * best.box[3] ? f : best));
}

export async function computeFacePriors(image: HwcImage, teacher: Teacher, options: FacePriorOptions): Promise<FacePriorResult> {
  const { padded, border } = padForSearch(image, options.pad);
  const faces = await teacher.detect(padded.data, padded.width, padded.height);
  if (faces.length === 0) return { ok: false, reason: "no face found" };
  const face = largest(faces);
  if (face.score < options.minScore) {
    return { ok: false, reason: `low-confidence face (score ${face.score.toFixed(2)} < ${options.minScore})` };
  }
  return {
    ok: true,
    sample: alignedSample(
      image,
      face.mesh.map((v) => v - border),
      options.size,
    ),
    score: face.score,
    facesFound: faces.length,
  };
}

/** The face whose mesh (image coordinates) is `mesh`, aligned to the template, with its priors. */
function alignedSample(image: HwcImage, mesh: Float32Array, size: number): FaceSample {
  const aligned = alignFace(image, mesh, fivePointsFromMesh(mesh), size);
  return {
    size,
    image: aligned.image.data,
    parsing: parsingFromMesh(aligned.mesh, size),
    landmarks68: landmarks68FromMesh(aligned.mesh),
    mesh: aligned.mesh,
  };
}

/**
 * How FaceAnalyzer and the browser demo look for faces: photos shrunk to fit `maxSide` first,
 * the border added, the lowest score kept, the most faces.
 */
export const FACE_SEARCH_DEFAULTS = { maxSide: 1024, pad: 0.2, minScore: 0.5, maxFaces: 10 } as const;

/** One detected face: its box and 68 landmarks in image pixels, and its aligned crop with priors. */
export type DetectedFace = { score: number; box: [number, number, number, number]; landmarks68: Float32Array; sample: FaceSample };

/** Every face the teacher finds scoring at least `minScore`, largest first, box and mesh in image pixels. */
export async function locateFaces(
  image: HwcImage,
  teacher: Teacher,
  options: Pick<FacePriorOptions, "pad" | "minScore">,
): Promise<TeacherFace[]> {
  const { padded, border } = padForSearch(image, options.pad);
  const faces = (await teacher.detect(padded.data, padded.width, padded.height)).filter((f) => f.score >= options.minScore);
  return faces
    .sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])
    .map(({ score, box: [x, y, w, h], mesh }) => ({ score, box: [x - border, y - border, w, h], mesh: mesh.map((v) => v - border) }));
}

/** Every face the teacher finds scoring at least `minScore`, largest first, with its aligned crop. */
export async function detectFaces(image: HwcImage, teacher: Teacher, options: FacePriorOptions): Promise<DetectedFace[]> {
  const faces = await locateFaces(image, teacher, options);
  return faces.map(({ score, box, mesh }) => ({
    score,
    box,
    landmarks68: landmarks68FromMesh(mesh),
    sample: alignedSample(image, mesh, options.size),
  }));
}
