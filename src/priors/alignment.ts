/**
 * Face alignment: the similarity transform (rotation, uniform scale, translation) that takes five
 * detected points (eye centres, nose tip, mouth corners) onto the ArcFace 112x112 template,
 * scaled for other crop sizes, and the warp of the image and mesh into that crop.
 */
import { transformPoints, warpAffine, type Affine, type HwcImage } from "../data/affine-warp.js";

/**
 * The standard ArcFace template for 112x112 crops, [5, 2]: image-left eye, image-right eye, nose
 * tip, image-left and image-right mouth corners.
 */
export const ARCFACE_TEMPLATE_112: readonly number[] = [
  38.2946, 51.6963, 73.5318, 51.5014, 56.0252, 71.7366, 41.5493, 92.3655, 70.7299, 92.2041,
];

export function templateForSize(size: number): Float32Array {
  return Float32Array.from(ARCFACE_TEMPLATE_112, (v) => (v * size) / 112);
}

/**
 * Least-squares similarity transform from `src` to `dst` points ([N, 2] each), Umeyama's method
 * restricted to 2-D without reflection: the closed form of the rotation-scale a, b with
 * x' = a·x − b·y + tx, y' = b·x + a·y + ty.
 */
export function similarityTransform(src: Float32Array, dst: Float32Array): Affine {
  const n = src.length / 2;
  if (n < 2 || dst.length !== src.length)
    throw new Error(`similarityTransform: need matching point sets, got ${src.length / 2} and ${dst.length / 2}`);
  const mean = (pts: Float32Array, axis: number) => pts.filter((_, i) => i % 2 === axis).reduce((a, b) => a + b, 0) / n;
  const [sx, sy, dx, dy] = [mean(src, 0), mean(src, 1), mean(dst, 0), mean(dst, 1)];
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const [px, py] = [src[2 * i]! - sx, src[2 * i + 1]! - sy];
    const [qx, qy] = [dst[2 * i]! - dx, dst[2 * i + 1]! - dy];
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    norm += px * px + py * py;
  }
  if (norm < 1e-12) throw new Error("similarityTransform: the source points coincide");
  const a = dot / norm;
  const b = cross / norm;
  return [a, -b, dx - a * sx + b * sy, b, a, dy - b * sx - a * sy];
}

export type AlignedFace = { image: HwcImage; mesh: Float32Array; transform: Affine };

/** Warps `image` so that `fivePoints` land on the template of a `size` x `size` crop. */
export function alignFace(image: HwcImage, mesh: Float32Array, fivePoints: Float32Array, size: number): AlignedFace {
  const transform = similarityTransform(fivePoints, templateForSize(size));
  return {
    image: warpAffine(image, transform, size, size),
    mesh: transformPoints(mesh, transform),
    transform,
  };
}
