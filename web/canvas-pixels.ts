/**
 * Pixels through the browser's canvas: reading RGB bytes, and the face alignment itself as a
 * canvas affine warp (`setTransform` + `drawImage`).
 */
import type { Affine } from "../src/data/affine-warp.js";
import { FacepriorError } from "../src/errors.js";

/** RGBA canvas pixels -> RGB bytes [H, W, 3]. */
export function rgbOf({ data }: ImageData): Uint8Array {
  const rgb = new Uint8Array((data.length / 4) * 3);
  for (let i = 0, j = 0; i < data.length; i += 4, j += 3) rgb.set(data.subarray(i, i + 3), j);
  return rgb;
}

/** RGB bytes [H, W, 3] -> opaque canvas pixels. */
export function imageDataOf(rgb: Uint8Array, width: number, height: number): ImageData {
  const rgba = new Uint8ClampedArray(width * height * 4).fill(255);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) rgba.set(rgb.subarray(j, j + 3), i);
  return new ImageData(rgba, width, height);
}

function context2d(width: number, height: number): OffscreenCanvasRenderingContext2D {
  const context = new OffscreenCanvas(width, height).getContext("2d", { willReadFrequently: true });
  if (!context)
    throw new FacepriorError("NO_DEVICE", "canvas: this browser gave no 2D canvas context. Use a current Chrome, Edge, Firefox or Safari.");
  return context;
}

/** The bitmap's RGB bytes [H, W, 3], alpha over black as sharp flattens it in Node. */
export function photoRgb(photo: ImageBitmap): Uint8Array {
  const context = context2d(photo.width, photo.height);
  context.fillStyle = "black";
  context.fillRect(0, 0, photo.width, photo.height);
  context.drawImage(photo, 0, 0);
  return rgbOf(context.getImageData(0, 0, photo.width, photo.height));
}

/**
 * The `size` x `size` crop that `srcToDst` maps the photo onto, as RGB bytes; outside the photo
 * is black, as in warpAffine. Canvas and Affine share the convention (pixel centres at i + 0.5);
 * "low" smoothing is bilinear sampling, the closest the canvas has to warpAffine's.
 */
export function warpOnCanvas(photo: ImageBitmap, [a, b, c, d, e, f]: Affine, size: number): Uint8Array {
  const context = context2d(size, size);
  context.fillStyle = "black";
  context.fillRect(0, 0, size, size);
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = "low";
  // Affine is x' = a·x + b·y + c, y' = d·x + e·y + f; setTransform takes the columns (a, d), (b, e), (c, f).
  context.setTransform(a, d, b, e, c, f);
  context.drawImage(photo, 0, 0);
  return rgbOf(context.getImageData(0, 0, size, size));
}
