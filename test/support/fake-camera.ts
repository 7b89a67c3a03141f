/**
 * A video for Chromium's fake camera (--use-file-for-fake-video-capture) made from a photo at
 * test time: one Y4M frame, which Chromium repeats. Y4M holds YUV 4:2:0, so the photo goes through
 * the studio-range BT.601 conversion a camera's frames go through, chroma averaged over 2x2 pixels.
 */
import { writeFile } from "node:fs/promises";
import sharp from "sharp";

/** studio-range BT.601: RGB in [0, 1] -> Y in [16, 235], Cb and Cr in [16, 240]. */
const lumaOf = (r: number, g: number, b: number) => 16 + 65.481 * r + 128.553 * g + 24.966 * b;
const cbOf = (r: number, g: number, b: number) => 128 - 37.797 * r - 74.203 * g + 112 * b;
const crOf = (r: number, g: number, b: number) => 128 + 112 * r - 93.786 * g - 18.214 * b;

/** Writes `photo` (even width and height) as a one-frame Y4M video at `path`; its size. */
export async function writeY4mOfPhoto(photo: string, path: string): Promise<{ width: number; height: number }> {
  const { data, info } = await sharp(photo).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  const rgb = (x: number, y: number) =>
    Array.from(data.subarray(3 * (y * width + x), 3 * (y * width + x) + 3), (v) => v / 255) as [number, number, number];
  const luma = new Uint8Array(width * height);
  const cb = new Uint8Array((width / 2) * (height / 2));
  const cr = new Uint8Array(cb.length);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) luma[y * width + x] = Math.round(lumaOf(...rgb(x, y)));
  for (let y = 0; y < height; y += 2) {
    for (let x = 0; x < width; x += 2) {
      const block = [rgb(x, y), rgb(x + 1, y), rgb(x, y + 1), rgb(x + 1, y + 1)];
      const i = (y / 2) * (width / 2) + x / 2;
      cb[i] = Math.round(block.reduce((sum, p) => sum + cbOf(...p), 0) / 4);
      cr[i] = Math.round(block.reduce((sum, p) => sum + crOf(...p), 0) / 4);
    }
  }
  const header = new TextEncoder().encode(`YUV4MPEG2 W${width} H${height} F30:1 Ip A1:1 C420jpeg\nFRAME\n`);
  await writeFile(path, Buffer.concat([header, luma, cb, cr]));
  return { width, height };
}
