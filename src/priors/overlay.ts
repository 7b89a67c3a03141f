/**
 * Pictures of the priors for people to check: each aligned crop with its parsing map blended in
 * colour and its 68 landmarks drawn on top, laid out as a contact sheet PNG.
 */
import sharp from "sharp";
import type { FaceSample } from "./face-sample.js";

/** One colour per parsing class (background left untouched). */
const CLASS_COLOURS: [number, number, number][] = [
  [0, 0, 0], [255, 200, 150], [0, 200, 255], [0, 120, 255], [0, 255, 120], [0, 160, 60],
  [255, 255, 0], [255, 0, 120], [200, 0, 255], [120, 0, 0],
];

/** [S, S, 3] RGB: the crop, classes blended at 40%, landmarks as red 2x2 dots. */
export function drawPriors(sample: FaceSample): Uint8Array {
  const { size, image, parsing, landmarks68 } = sample;
  const out = Uint8Array.from(image);
  for (let i = 0; i < size * size; i++) {
    const cls = parsing[i]!;
    if (cls === 0) continue;
    for (let c = 0; c < 3; c++) out[3 * i + c] = Math.round(0.6 * image[3 * i + c]! + 0.4 * CLASS_COLOURS[cls]![c]!);
  }
  for (let p = 0; p < landmarks68.length / 2; p++) {
    const [x, y] = [Math.floor(landmarks68[2 * p]! - 0.5), Math.floor(landmarks68[2 * p + 1]! - 0.5)];
    for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
      const [px, py] = [x + dx, y + dy];
      if (px < 0 || py < 0 || px >= size || py >= size) continue;
      out.set([255, 0, 0], 3 * (py * size + px));
    }
  }
  return out;
}

/** A grid of drawn samples, `columns` wide, as PNG bytes. */
export async function contactSheet(samples: FaceSample[], columns = 8): Promise<Buffer> {
  if (samples.length === 0) throw new Error("contactSheet: no samples to draw");
  const size = samples[0]!.size;
  const rows = Math.ceil(samples.length / columns);
  const width = Math.min(columns, samples.length) * size;
  const sheet = new Uint8Array(width * rows * size * 3);
  samples.forEach((sample, k) => {
    const tile = drawPriors(sample);
    const [x0, y0] = [(k % columns) * size, Math.floor(k / columns) * size];
    for (let y = 0; y < size; y++) sheet.set(tile.subarray(y * size * 3, (y + 1) * size * 3), ((y0 + y) * width + x0) * 3);
  });
  return sharp(sheet, { raw: { width, height: rows * size, channels: 3 } }).png().toBuffer();
}
