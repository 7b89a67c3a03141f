/**
 * What FaceAnalyzer.analyze and embed read, and how each kind becomes the upright RGB image the
 * face search works on (shrunk to fit FACE_SEARCH_DEFAULTS.maxSide):
 * - a path;
 * - encoded bytes (a Buffer or Uint8Array holding a JPEG, PNG, WebP, ...), or `{ name, bytes }`;
 * - raw pixels `{ data, width, height, channels? }`, RGB or RGBA (raw-pixels.ts): a video frame,
 *   a canvas's ImageData, another decoder's output. The same pixels as a file give the same result.
 */
import { decodeImageUpright, rawPixelsUpright, type ImageInput, type RgbImage } from "../data/image.js";
import { checkRawPixels, type RawPixels } from "../data/raw-pixels.js";
import { FacepriorError } from "../errors.js";
import { FACE_SEARCH_DEFAULTS } from "../priors/face-priors.js";

export type { RawPixels } from "../data/raw-pixels.js";

/** Encoded image bytes with a name for results and messages: `{ name, bytes }`. */
export type EncodedImage = Exclude<ImageInput, string>;

export type FaceInput = string | Uint8Array | EncodedImage | RawPixels;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null;

/** The name results and errors use: `name` when given, else the path, the input's own name, or what it is. */
export function inputName(input: FaceInput, name?: string): string {
  if (name !== undefined) return name;
  if (typeof input === "string") return input;
  if (input instanceof Uint8Array) return "<image bytes>";
  if (!isObject(input)) return "<input>";
  if ("bytes" in input) return input.name;
  return input.name ?? `<${input.width}x${input.height} pixels>`;
}

/** A value that is no FaceInput, for the error: its JSON for a primitive, else its class or keys. */
function describeValue(value: unknown): string {
  if (!isObject(value)) return `${JSON.stringify(value) ?? String(value)} (${value === null ? "null" : typeof value})`;
  const kind = value.constructor?.name;
  if (kind && kind !== "Object") return `a ${kind}`;
  const keys = Object.keys(value);
  return keys.length > 0 ? `an object with keys ${keys.join(", ")}` : "an empty object";
}

/** `input` as upright RGB pixels; `source` names it in errors. */
export async function uprightImage(input: FaceInput, source: string): Promise<RgbImage> {
  const options = { maxSide: FACE_SEARCH_DEFAULTS.maxSide };
  if (typeof input === "string") return decodeImageUpright(input, options);
  if (input instanceof Uint8Array) return decodeImageUpright({ name: source, bytes: input }, options);
  if (isObject(input) && "bytes" in input && input.bytes instanceof Uint8Array)
    return decodeImageUpright({ name: source, bytes: input.bytes }, options);
  if (isObject(input) && "data" in input) return rawPixelsUpright(source, checkRawPixels(input as RawPixels, source), options);
  throw new FacepriorError(
    "BAD_ARGUMENT",
    `input: ${describeValue(input)} is not an image FaceAnalyzer reads. Pass a path, encoded image bytes (a Buffer or Uint8Array), { name, bytes }, or raw pixels { data, width, height, channels? }.`,
  );
}
