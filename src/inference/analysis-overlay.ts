/**
 * The picture `analyze --overlay` writes per image: the photo with each face's box, number and 68
 * landmarks, and beside it one tile per face: the aligned crop with its parsing map blended in and
 * its landmarks, captioned with the headline predictions.
 */
import sharp from "sharp";
import type { RgbImage } from "../data/image.js";
import { blendParsing, drawDots } from "../priors/overlay.js";
import type { AnalyzedFace, HeadPrediction } from "./face-analyzer.js";

const TILE = 224;
const LINE = 13;
/** What fits one caption line of a tile in 11 px sans-serif. */
const CAPTION_CHARS = 38;
const MAX_SIDE = 800;

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A short line per head (a model with a head added by add-head shows it too): the label, value or top three. */
export function captionLines(predictions: Record<string, HeadPrediction>): string[] {
  const lines: string[] = [];
  for (const [name, p] of Object.entries(predictions)) {
    if (p.kind === "class") lines.push(`${name}: ${p.label} ${p.probability.toFixed(2)}`);
    else if (p.kind === "value") lines.push(`${name}: ${p.value.toFixed(1)}`);
    else {
      const top = Object.entries(p.probabilities)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3);
      lines.push(`${name}: ${top.map(([label, v]) => `${label} ${v.toFixed(2)}`).join(", ")}`);
    }
  }
  return lines.map((line) => (line.length > CAPTION_CHARS ? `${line.slice(0, CAPTION_CHARS - 1)}…` : line));
}

/** The aligned crop, parsing blended at 40% and landmarks in red, upscaled to TILE px, with a caption. */
async function faceTile(face: AnalyzedFace, index: number): Promise<Buffer> {
  const { size, image, parsing, landmarks } = face.aligned;
  const drawn = drawDots(blendParsing(Uint8Array.from(image), parsing, 0.4), size, landmarks, [255, 0, 0]);
  const crop = await sharp(drawn, { raw: { width: size, height: size, channels: 3 } })
    .resize(TILE, TILE, { kernel: "nearest" })
    .png()
    .toBuffer();
  const lines = [`face ${index + 1}`, ...captionLines(face.predictions)];
  const height = TILE + LINE * lines.length + 8;
  const text = lines
    .map((line, i) => `<text x="4" y="${TILE + LINE * (i + 1)}" font-size="11" font-family="sans-serif">${escapeXml(line)}</text>`)
    .join("");
  const caption = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${TILE}" height="${height}">${text}</svg>`);
  return sharp({ create: { width: TILE, height, channels: 3, background: "white" } })
    .composite([
      { input: crop, left: 0, top: 0 },
      { input: caption, left: 0, top: 0 },
    ])
    .png()
    .toBuffer();
}

/** Boxes, numbers and landmarks over the photo, scaled by `scale`, as SVG. */
function photoMarks(faces: AnalyzedFace[], width: number, height: number, scale: number): Buffer {
  const marks = faces
    .map((face, i) => {
      const { x, y, width: w, height: h } = face.box;
      const dots = face.landmarks
        .map(([px, py]) => `<circle cx="${(px * scale).toFixed(1)}" cy="${(py * scale).toFixed(1)}" r="1.6" fill="red"/>`)
        .join("");
      return (
        `<rect x="${x * scale}" y="${y * scale}" width="${w * scale}" height="${h * scale}" fill="none" stroke="lime" stroke-width="2"/>` +
        `<text x="${x * scale + 3}" y="${y * scale - 4}" font-size="14" font-family="sans-serif" fill="lime">${i + 1}</text>${dots}`
      );
    })
    .join("");
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${marks}</svg>`);
}

/** The overlay PNG for one analysed image (`rgb` is the upright image the boxes refer to). */
export async function analysisOverlay(rgb: RgbImage, faces: AnalyzedFace[]): Promise<Buffer> {
  const scale = Math.min(1, MAX_SIDE / Math.max(rgb.width, rgb.height));
  const [w, h] = [Math.round(rgb.width * scale), Math.round(rgb.height * scale)];
  const photo = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
    .resize(w, h)
    .png()
    .toBuffer();
  const tiles = await Promise.all(faces.map(faceTile));
  const tileHeights = await Promise.all(tiles.map(async (t) => (await sharp(t).metadata()).height!));
  const columnHeight = tileHeights.reduce((a, b) => a + b, 0);
  const width = w + (tiles.length > 0 ? TILE + 8 : 0);
  const height = Math.max(h, columnHeight);
  let top = 0;
  const placed = tiles.map((input, i) => {
    const at = { input, left: w + 8, top };
    top += tileHeights[i]!;
    return at;
  });
  return sharp({ create: { width, height, channels: 3, background: "white" } })
    .composite([{ input: photo, left: 0, top: 0 }, { input: photoMarks(faces, w, h, scale), left: 0, top: 0 }, ...placed])
    .png()
    .toBuffer();
}
