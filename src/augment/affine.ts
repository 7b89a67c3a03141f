/**
 * A small random similarity about the crop centre, applied to everything in a sample at once:
 * bilinear to the image (outside filled black), nearest to the parsing mask (outside becomes
 * background, 0), and the same transform to landmarks68 and mesh. Points that leave the crop
 * keep their coordinates outside [0, S).
 */
import { warpAffine, transformPoints, type Affine } from "../data/affine-warp.js";
import type { FaceSample } from "../priors/face-sample.js";
import { uniform, type Rng } from "./prng.js";
import { checkFaceSample } from "./sample-shape.js";

/**
 * Ranges: rotation in [−rotationDeg, rotationDeg] degrees (positive turns the face clockwise on
 * screen, since y points down), scale in [scale[0], scale[1]], translation in [−translate,
 * translate]·S along each axis.
 */
export type AffineOptions = { rotationDeg: number; scale: readonly [number, number]; translate: number };

/** Always reads four draws from `rng` (angle, scale, tx, ty). Returns a source-to-output map. */
export function drawAffine(rng: Rng, size: number, options: AffineOptions): Affine {
  const angle = (uniform(rng, -options.rotationDeg, options.rotationDeg) * Math.PI) / 180;
  const scale = uniform(rng, options.scale[0], options.scale[1]);
  const tx = uniform(rng, -options.translate, options.translate) * size;
  const ty = uniform(rng, -options.translate, options.translate) * size;
  return similarityAboutCentre(size, angle, scale, tx, ty);
}

/** p' = centre + scale·R(angle)·(p − centre) + (tx, ty), with centre = (S/2, S/2). */
export function similarityAboutCentre(size: number, angle: number, scale: number, tx: number, ty: number): Affine {
  const centre = size / 2;
  const a = scale * Math.cos(angle);
  const b = -scale * Math.sin(angle);
  const d = scale * Math.sin(angle);
  const e = scale * Math.cos(angle);
  return [a, b, centre - a * centre - b * centre + tx, d, e, centre - d * centre - e * centre + ty];
}

/** `sample` moved by `srcToDst`, keeping its size. */
export function affineSample(sample: FaceSample, srcToDst: Affine): FaceSample {
  checkFaceSample(sample, "affineSample");
  const s = sample.size;
  const parsing = warpAffine({ data: sample.parsing, width: s, height: s, channels: 1 }, srcToDst, s, s, {
    interpolation: "nearest",
    fill: 0,
  });
  return {
    size: s,
    image: affineImage(sample.image, s, srcToDst),
    parsing: parsing.data,
    landmarks68: transformPoints(sample.landmarks68, srcToDst),
    mesh: transformPoints(sample.mesh, srcToDst),
  };
}

/** An [S, S, 3] RGB image moved by `srcToDst` (bilinear, outside black), keeping its size. */
export function affineImage(image: Uint8Array, size: number, srcToDst: Affine): Uint8Array {
  return warpAffine({ data: image, width: size, height: size, channels: 3 }, srcToDst, size, size, { interpolation: "bilinear", fill: 0 })
    .data;
}
