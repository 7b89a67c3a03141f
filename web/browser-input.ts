/**
 * What the browser FaceAnalyzer reads, and how each kind becomes the upright ImageBitmap it
 * analyses: an <img>, a <video>'s current frame, a canvas (on screen or offscreen), an
 * ImageBitmap, an ImageData, or a Blob or File holding an encoded photo (EXIF rotation applied).
 * createImageBitmap reads them all; what it would read wrongly or not at all (an image not loaded
 * yet, a video with no frame, an empty canvas, a URL string) is refused first, saying why.
 * Large images are shrunk to fit FACE_SEARCH_DEFAULTS.maxSide, as FaceAnalyzer does in Node.
 */
import { FacepriorError } from "../src/errors.js";
import { FACE_SEARCH_DEFAULTS } from "../src/priors/face-priors.js";

export type BrowserInput = HTMLImageElement | HTMLVideoElement | HTMLCanvasElement | OffscreenCanvas | ImageBitmap | ImageData | Blob;

const KINDS = "an <img>, a <video>, a <canvas>, an OffscreenCanvas, an ImageBitmap, an ImageData or a Blob/File";

function isBrowserInput(input: unknown): input is BrowserInput {
  return [HTMLImageElement, HTMLVideoElement, HTMLCanvasElement, OffscreenCanvas, ImageBitmap, ImageData, Blob].some(
    (kind) => input instanceof kind,
  );
}

/** A File's name, an <img>'s file name, else what the input is, e.g. "<HTMLVideoElement>". */
export function browserInputName(input: BrowserInput): string {
  if (input instanceof File) return input.name;
  if (input instanceof HTMLImageElement && /^https?:/.test(input.currentSrc))
    return new URL(input.currentSrc).pathname.split("/").pop() || "<img>";
  return `<${input.constructor.name}>`;
}

/** Why createImageBitmap would fail on `input` or read it blank, and the fix; undefined when it can read it. */
function notReadable(input: BrowserInput): [problem: string, fix: string] | undefined {
  if (input instanceof HTMLImageElement && !(input.complete && input.naturalWidth > 0)) {
    return [`the image ${input.currentSrc ? "has not loaded, or failed to load" : "has no src"}`, "Await img.decode() before analysing it"];
  }
  if (input instanceof HTMLVideoElement && input.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) {
    return ["the video has no frame yet", 'Wait for its "loadeddata" event (or await video.play()) before analysing it'];
  }
  if ((input instanceof HTMLCanvasElement || input instanceof OffscreenCanvas) && (input.width === 0 || input.height === 0)) {
    return [`the canvas is ${input.width}x${input.height}`, "Give it a size and draw into it first"];
  }
  return undefined;
}

function badInput(name: string, problem: string, fix: string): FacepriorError {
  return new FacepriorError("BAD_IMAGE", `${name}: ${problem}. ${fix}.`);
}

/** `input` as the upright bitmap analyze reads, shrunk to fit the face search's `maxSide`; the caller closes it. */
export async function readImage(input: BrowserInput, name?: string): Promise<ImageBitmap> {
  if (!isBrowserInput(input)) {
    const shown = typeof input === "string" ? `"${input}" (a string)` : String(input);
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `input: ${shown} is not an image FaceAnalyzer reads. Pass ${KINDS}; for a URL, load it into an <img> and await img.decode().`,
    );
  }
  const source = name ?? browserInputName(input);
  const problem = notReadable(input);
  if (problem) throw badInput(source, ...problem);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(input, { imageOrientation: "from-image" });
  } catch (error) {
    throw badInput(
      source,
      `cannot be read as an image (${(error as Error).message.replace(/\.$/, "")})`,
      "Use a photo: JPEG, PNG, WebP or GIF",
    );
  }
  return shrinkToFit(bitmap);
}

async function shrinkToFit(bitmap: ImageBitmap): Promise<ImageBitmap> {
  const scale = Math.min(1, FACE_SEARCH_DEFAULTS.maxSide / Math.max(bitmap.width, bitmap.height));
  if (scale === 1) return bitmap;
  const resized = await createImageBitmap(bitmap, {
    resizeWidth: Math.round(bitmap.width * scale),
    resizeHeight: Math.round(bitmap.height * scale),
    resizeQuality: "high",
  });
  bitmap.close();
  return resized;
}
