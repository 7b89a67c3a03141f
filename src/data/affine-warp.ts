/**
 * Affine warps of HWC images and point sets, shared by face alignment and augmentation.
 *
 * Coordinates are continuous pixel coordinates: pixel (i, j) covers [j, j+1) x [i, i+1) and its
 * centre is (j + 0.5, i + 0.5). An `Affine` maps source to destination:
 * x' = a·x + b·y + c, y' = d·x + e·y + f, stored as [a, b, c, d, e, f].
 */
export type Affine = [number, number, number, number, number, number];
export type Interpolation = "bilinear" | "nearest";

export function invertAffine([a, b, c, d, e, f]: Affine): Affine {
  const det = a * e - b * d;
  if (Math.abs(det) < 1e-12) throw new Error(`invertAffine: singular transform [${[a, b, c, d, e, f]}]`);
  return [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det];
}

/** The transform that applies `first`, then `second`. */
export function composeAffine(second: Affine, first: Affine): Affine {
  const [a2, b2, c2, d2, e2, f2] = second;
  const [a1, b1, c1, d1, e1, f1] = first;
  return [a2 * a1 + b2 * d1, a2 * b1 + b2 * e1, a2 * c1 + b2 * f1 + c2, d2 * a1 + e2 * d1, d2 * b1 + e2 * e1, d2 * c1 + e2 * f1 + f2];
}

/** Points [x0, y0, x1, y1, ...] mapped through `t`. */
export function transformPoints(points: Float32Array, [a, b, c, d, e, f]: Affine): Float32Array {
  const out = new Float32Array(points.length);
  for (let i = 0; i < points.length; i += 2) {
    const x = points[i]!;
    const y = points[i + 1]!;
    out[i] = a * x + b * y + c;
    out[i + 1] = d * x + e * y + f;
  }
  return out;
}

export type HwcImage = { data: Uint8Array; width: number; height: number; channels: number };

/**
 * Samples the destination image of `outWidth` x `outHeight` through the inverse of `srcToDst`.
 * Outside the source, pixels take `fill` (per channel, default 0).
 */
export function warpAffine(
  src: HwcImage,
  srcToDst: Affine,
  outWidth: number,
  outHeight: number,
  { interpolation = "bilinear", fill = 0 }: { interpolation?: Interpolation; fill?: number } = {},
): HwcImage {
  const { data, width, height, channels } = src;
  const out = new Uint8Array(outWidth * outHeight * channels).fill(fill);
  const [a, b, c, d, e, f] = invertAffine(srcToDst);
  for (let i = 0; i < outHeight; i++) {
    for (let j = 0; j < outWidth; j++) {
      // Destination pixel centre, mapped back, in source pixel-index space (centres at integers).
      const x = a * (j + 0.5) + b * (i + 0.5) + c - 0.5;
      const y = d * (j + 0.5) + e * (i + 0.5) + f - 0.5;
      const at = (i * outWidth + j) * channels;
      if (interpolation === "nearest") {
        const sx = Math.round(x);
        const sy = Math.round(y);
        if (sx < 0 || sy < 0 || sx >= width || sy >= height) continue;
        for (let ch = 0; ch < channels; ch++) out[at + ch] = data[(sy * width + sx) * channels + ch]!;
        continue;
      }
      sampleBilinear(src, x, y, fill, out, at);
    }
  }
  return { data: out, width: outWidth, height: outHeight, channels };
}

/** Bilinear sample at (x, y) in pixel-index space; neighbours outside the image count as `fill`. */
function sampleBilinear(
  { data, width, height, channels }: HwcImage,
  x: number,
  y: number,
  fill: number,
  out: Uint8Array,
  at: number,
): void {
  if (x <= -1 || y <= -1 || x >= width || y >= height) return;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const wx = x - x0;
  const wy = y - y0;
  for (let ch = 0; ch < channels; ch++) {
    const px = (xi: number, yi: number) =>
      xi < 0 || yi < 0 || xi >= width || yi >= height ? fill : data[(yi * width + xi) * channels + ch]!;
    const top = px(x0, y0) * (1 - wx) + px(x0 + 1, y0) * wx;
    const bottom = px(x0, y0 + 1) * (1 - wx) + px(x0 + 1, y0 + 1) * wx;
    out[at + ch] = Math.round(top * (1 - wy) + bottom * wy);
  }
}
