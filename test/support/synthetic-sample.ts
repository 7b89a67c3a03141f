/**
 * Random FaceSamples for the augmentation tests: every pixel, class and point differs from its
 * mirror, so a transform that moves the wrong thing shows. Landmarks are the mesh's 68 subset.
 */
import { PARSING_CLASSES, type FaceSample } from "../../src/priors/face-sample.js";
import { landmarks68FromMesh } from "../../src/priors/landmarks68.js";
import { seededRng } from "../../src/augment/prng.js";
import { MESH_POINTS } from "../../src/augment/sample-shape.js";

/** `grid`: point coordinates are multiples of 1/grid (0 for arbitrary float32 values). */
export function syntheticSample(size: number, seed: number, { grid = 0 } = {}): FaceSample {
  const rng = seededRng(seed, "synthetic-sample");
  const coordinate = () => (grid > 0 ? Math.floor(rng() * size * grid) / grid : rng() * size);
  const mesh = Float32Array.from({ length: MESH_POINTS * 2 }, coordinate);
  return {
    size,
    image: Uint8Array.from({ length: size * size * 3 }, () => Math.floor(rng() * 256)),
    parsing: Uint8Array.from({ length: size * size }, () => Math.floor(rng() * PARSING_CLASSES.length)),
    landmarks68: landmarks68FromMesh(mesh),
    mesh,
  };
}

/** A black [S, S, 3] image with a Gaussian blob (peak 255, sigma in pixels) centred at (x, y). */
export function blobImage(size: number, x: number, y: number, sigma: number): Uint8Array {
  const image = new Uint8Array(size * size * 3);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const value = Math.round(255 * Math.exp(-((j + 0.5 - x) ** 2 + (i + 0.5 - y) ** 2) / (2 * sigma * sigma)));
      image.fill(value, 3 * (i * size + j), 3 * (i * size + j) + 3);
    }
  }
  return image;
}

/** The brightest pixel's centre and the intensity-weighted centroid of channel 0, in pixel coordinates. */
export function brightness(image: Uint8Array, size: number): { peak: [number, number]; centroid: [number, number] } {
  let [best, bestAt, sum, sx, sy] = [-1, 0, 0, 0, 0];
  for (let p = 0; p < size * size; p++) {
    const v = image[3 * p]!;
    if (v > best) [best, bestAt] = [v, p];
    sum += v;
    sx += v * ((p % size) + 0.5);
    sy += v * (Math.floor(p / size) + 0.5);
  }
  return { peak: [(bestAt % size) + 0.5, Math.floor(bestAt / size) + 0.5], centroid: [sx / sum, sy / sum] };
}
