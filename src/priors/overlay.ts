/**
 * Pictures of the priors for people to check: each aligned crop with its parsing map blended in
 * colour and its 68 landmarks drawn on top, laid out as a contact sheet PNG. The drawing pieces
 * (class colours and dots from overlay-pixels.ts, tile sheets) also serve the pretraining previews.
 */
import sharp from "sharp";
import type { FaceSample } from "./face-sample.js";
import { blendParsing, drawDots } from "./overlay-pixels.js";

export { blendParsing, CLASS_COLOURS, drawDots } from "./overlay-pixels.js";

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
  return sharp(sheet, { raw: { width, height: rows * size, channels: 3 } })
    .png()
    .toBuffer();
}

/** A grid of drawn samples, `columns` wide, as PNG bytes. */
export async function contactSheet(samples: FaceSample[], columns = 8): Promise<Buffer> {
  if (samples.length === 0) throw new Error("contactSheet: no samples to draw");
  return tileSheet(samples.map(drawPriors), samples[0]!.size, columns);
}
