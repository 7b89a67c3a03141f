/**
 * Pictures of the priors for people to check: each aligned crop with its parsing map blended in
 * colour and its 68 landmarks drawn on top, laid out as a contact sheet PNG. The drawing pieces
 * (class colours, dots, tile sheets) also serve the pretraining previews.
 */
import sharp from "sharp";
import type { FaceSample } from "./face-sample.js";

/** One colour per parsing class (background drawn black where a map is shown alone). */
export const CLASS_COLOURS: readonly [number, number, number][] = [
  [0, 0, 0], [255, 200, 150], [0, 200, 255], [0, 120, 255], [0, 255, 120], [0, 160, 60],
  [255, 255, 0], [255, 0, 120], [200, 0, 255], [120, 0, 0],
];

/** Blends the class colours into `image` ([S, S, 3], in place) at `alpha`, background untouched. */
export function blendParsing(image: Uint8Array, parsing: Uint8Array, alpha: number): Uint8Array {
  for (let i = 0; i < parsing.length; i++) {
    const cls = parsing[i]!;
    if (cls === 0) continue;
    for (let c = 0; c < 3; c++) image[3 * i + c] = Math.round((1 - alpha) * image[3 * i + c]! + alpha * CLASS_COLOURS[cls]![c]!);
  }
  return image;
}

/** 2x2 dots at points [n, 2] (continuous coordinates) on `image` ([S, S, 3], in place). */
export function drawDots(image: Uint8Array, size: number, points: Float32Array, rgb: readonly [number, number, number]): Uint8Array {
  for (let p = 0; p < points.length / 2; p++) {
    const [x, y] = [Math.floor(points[2 * p]! - 0.5), Math.floor(points[2 * p + 1]! - 0.5)];
    for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
      const [px, py] = [x + dx, y + dy];
      if (px >= 0 && py >= 0 && px < size && py < size) image.set(rgb, 3 * (py * size + px));
    }
  }
  return image;
}

/** [S, S, 3] RGB: the crop, classes blended at 40%, landmarks as red dots. */
export function drawPriors(sample: FaceSample): Uint8Array {
  const { size, image, parsing, landmarks68 } = sample;
  return drawDots(blendParsing(Uint8Array.from(image), parsing, 0.4), size, landmarks68, [255, 0, 0]);
}

/** Square RGB tiles ([S, S, 3] each) in a grid `columns` wide, as PNG bytes. */
export async function tileSheet(tiles: Uint8Array[], size: number, columns: number): Promise<Buffer> {
  if (tiles.length === 0) throw new Error("tileSheet: no tiles to draw");
  const rows = Math.ceil(tiles.length / columns);
  const width = Math.min(columns, tiles.length) * size;
  const sheet = new Uint8Array(width * rows * size * 3);
  tiles.forEach((tile, k) => {
    const [x0, y0] = [(k % columns) * size, Math.floor(k / columns) * size];
    for (let y = 0; y < size; y++) sheet.set(tile.subarray(y * size * 3, (y + 1) * size * 3), ((y0 + y) * width + x0) * 3);
  });
  return sharp(sheet, { raw: { width, height: rows * size, channels: 3 } }).png().toBuffer();
}

/** A grid of drawn samples, `columns` wide, as PNG bytes. */
export async function contactSheet(samples: FaceSample[], columns = 8): Promise<Buffer> {
  if (samples.length === 0) throw new Error("contactSheet: no samples to draw");
  return tileSheet(samples.map(drawPriors), samples[0]!.size, columns);
}
