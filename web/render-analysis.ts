/**
 * The page's picture of an analysis: the photo with each face's box, number and landmarks, and
 * per face a card with the aligned crop (parsing map blended in, landmarks on top) and every
 * head's predictions, generically by kind. Stable `data-testid`s and `data-*` values (full
 * precision) let tests read what is shown.
 */
import type { AnalyzedFace, ImageAnalysis } from "../src/inference/face-analyzer.js";
import type { HeadPrediction } from "../src/inference/head-predictions.js";
import { blendParsing, drawDots } from "../src/priors/overlay-pixels.js";
import { imageDataOf } from "./canvas-pixels.js";

/** The photo's longest side on screen, in CSS pixels. */
const PHOTO_SIDE = 720;
const PARSING_ALPHA = 0.4;
const LANDMARK_RGB = [255, 0, 0] as const;

/** `tag` with `attributes` (data-*, class, ...) and children. */
function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

/**
 * Draws the photo with boxes (green), face numbers and 68 landmarks (red) on `canvas`. Faces are
 * in the pixels of the analysed image (`width` x `height`, which may be the photo shrunk).
 */
export function drawPhoto(canvas: HTMLCanvasElement, photo: ImageBitmap, { width, height, faces }: ImageAnalysis): void {
  const scale = Math.min(1, PHOTO_SIDE / Math.max(width, height));
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const context = canvas.getContext("2d")!;
  context.drawImage(photo, 0, 0, canvas.width, canvas.height);
  context.lineWidth = 2;
  context.font = "bold 16px sans-serif";
  faces.forEach(({ box, landmarks }, i) => {
    context.strokeStyle = context.fillStyle = "lime";
    context.strokeRect(box.x * scale, box.y * scale, box.width * scale, box.height * scale);
    context.fillText(String(i + 1), box.x * scale + 3, box.y * scale - 5);
    context.fillStyle = "red";
    for (const [x, y] of landmarks) context.fillRect(x * scale - 1.5, y * scale - 1.5, 3, 3);
  });
  canvas.hidden = false;
}

/** The aligned crop with its parsing map blended in and its landmarks, as the model saw it. */
function cropCanvas({ size, image, parsing, landmarks }: AnalyzedFace["aligned"]): HTMLCanvasElement {
  const canvas = element("canvas", { class: "crop", "data-testid": "aligned-crop", width: String(size), height: String(size) });
  const drawn = drawDots(blendParsing(Uint8Array.from(image), parsing, PARSING_ALPHA), size, landmarks, LANDMARK_RGB);
  canvas.getContext("2d")!.putImageData(imageDataOf(drawn, size, size), 0, 0);
  return canvas;
}

/** One row per label: name, a bar and the probability; most likely first. */
function labelList(probabilities: Record<string, number>): HTMLUListElement {
  const rows = Object.entries(probabilities)
    .sort((a, b) => b[1] - a[1])
    .map(([label, p]) =>
      element(
        "li",
        { "data-testid": "label", "data-label": label, "data-probability": String(p) },
        element("span", { class: "name" }, label),
        element("span", { class: "bar" }, element("span", { style: `width: ${(100 * p).toFixed(1)}%` })),
        element("span", { class: "value" }, p.toFixed(2)),
      ),
    );
  return element("ul", { class: "labels" }, ...rows);
}

/** A head's section: softmax -> the top class and the distribution, sigmoid -> each label, an age head -> the number. */
function headSection(name: string, prediction: HeadPrediction): HTMLElement {
  const section = element(
    "section",
    { class: "head", "data-testid": "head", "data-head": name, "data-kind": prediction.kind },
    element("h3", {}, name),
  );
  if (prediction.kind === "value") {
    // age heads (expected-age, median-age) predict years (HeadPrediction).
    section.append(
      element(
        "p",
        { class: "headline", "data-testid": "head-value", "data-value": String(prediction.value) },
        `${prediction.value.toFixed(1)} years`,
      ),
    );
  } else if (prediction.kind === "class") {
    const headline = `${prediction.label} (${prediction.probability.toFixed(2)})`;
    section.append(
      element("p", { class: "headline", "data-testid": "head-label", "data-label": prediction.label }, headline),
      labelList(prediction.probabilities),
    );
  } else {
    section.append(labelList(prediction.probabilities));
  }
  return section;
}

function faceCard(face: AnalyzedFace, index: number): HTMLElement {
  const heads = Object.entries(face.predictions).map(([name, prediction]) => headSection(name, prediction));
  return element(
    "article",
    { class: "face", "data-testid": "face", "data-score": String(face.score), "data-box": JSON.stringify(face.box) },
    element("h2", {}, `Face ${index + 1} (detection score ${face.score.toFixed(2)})`),
    cropCanvas(face.aligned),
    element("div", { class: "heads" }, ...heads),
  );
}

/** Replaces `container`'s content with one card per face. */
export function renderFaces(container: HTMLElement, { faces }: ImageAnalysis): void {
  container.replaceChildren(...faces.map(faceCard));
}
