/**
 * How `faceprior analyze` reads as text: an image's line, then per face its box and each head's
 * prediction in a few lines (landmarks on request), and the run's one-line summary.
 */
import type { AnalyzedFace, HeadPrediction, ImageAnalysis } from "../inference/face-analyzer.js";
import { POSITIVE_THRESHOLD } from "../transfer/metrics.js";
import { printable } from "./printable.js";

const WIDTH = 100;

/** `items` joined by two spaces, wrapped at WIDTH with `indent`. */
function wrap(items: string[], indent: string): string {
  const lines: string[] = [];
  let line = "";
  for (const item of items) {
    if (line && indent.length + line.length + 2 + item.length > WIDTH) {
      lines.push(indent + line);
      line = item;
    } else line = line ? `${line}  ${item}` : item;
  }
  if (line) lines.push(indent + line);
  return lines.join("\n");
}

/**
 * A head's lines: a value; a class with every class's probability; or, for independent labels
 * (16 AUs, 40 attributes), only those present (p >= 0.5), most likely first. JSON has them all.
 */
function describePrediction(name: string, p: HeadPrediction): string {
  const pad = "      ";
  if (p.kind === "value") return `    ${name}: ${p.value.toFixed(1)}`;
  const shown = (entries: [string, number][]) =>
    wrap(
      entries.map(([label, v]) => `${label} ${v.toFixed(2)}`),
      pad,
    );
  if (p.kind === "class") return `    ${name}: ${p.label} (${p.probability.toFixed(2)})\n${shown(Object.entries(p.probabilities))}`;
  const all = Object.entries(p.probabilities);
  const present = all.filter(([, v]) => v >= POSITIVE_THRESHOLD).sort((a, b) => b[1] - a[1]);
  return `    ${name}: ${present.length} of ${all.length} present${present.length > 0 ? `\n${shown(present)}` : ""}`;
}

/** A face's lines; its 68 landmarks (five lines) only when asked for. */
function describeFace(face: AnalyzedFace, index: number, landmarks: boolean): string {
  const { x, y, width, height } = face.box;
  const box = `box x ${x.toFixed(0)} y ${y.toFixed(0)} w ${width.toFixed(0)} h ${height.toFixed(0)}`;
  const points = () =>
    wrap(
      face.landmarks.map(([lx, ly]) => `${lx.toFixed(0)},${ly.toFixed(0)}`),
      "      ",
    );
  return [
    `  face ${index + 1}: ${box} (score ${face.score.toFixed(2)})`,
    ...Object.entries(face.predictions).map(([name, p]) => describePrediction(name, p)),
    ...(landmarks ? [`    landmarks (68, x,y in pixels):\n${points()}`] : []),
  ].join("\n");
}

/** The image's line and its faces' blocks, as printed. */
export function describeImage(
  { source, width, height, faces }: ImageAnalysis,
  { pad, landmarks }: { pad: number; landmarks: boolean },
): string {
  const found =
    faces.length === 0
      ? `no face found${pad < 0.5 ? " (for a photo cropped tight around the face, try --pad 0.5)" : ""}`
      : plural(faces.length, "face");
  return `${printable(source)} (${width}x${height}): ${found}\n${faces.map((face, i) => describeFace(face, i, landmarks)).join("\n")}${faces.length ? "\n" : ""}`;
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

/** What a run found, for its summary line. */
export type Tally = { images: number; faces: number; withoutFace: number; errors: number };

export function summaryLine({ images, faces, withoutFace, errors }: Tally, seconds: number): string {
  return `analyze: ${plural(images, "image")}, ${plural(faces, "face")} found, ${plural(withoutFace, "image")} without a face, ${plural(errors, "error")}, in ${seconds.toFixed(1)} s.\n`;
}
