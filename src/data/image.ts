/**
 * Image decoding for the model, with sharp: any input sharp reads becomes an S x S, 8-bit sRGB
 * image, then a Float32 [3, S, S] tensor normalised with the checkpoint's mean and std.
 *
 * - EXIF orientation is applied first, so a phone photo is upright.
 * - Grayscale, CMYK and 16-bit inputs are converted to 8-bit sRGB; alpha is composited over
 *   black (sharp's `flatten` default), so transparent pixels read as black whatever they store.
 * - Resizing keeps the aspect ratio and centre-crops to a square (`fit: "cover"`), like timm's
 *   eval transform (resize the short side, centre crop). The default kernel is sharp's "cubic"
 *   (Catmull-Rom, a = -0.5): the bicubic that PIL and so timm's ViT configs use, and it
 *   antialiases when shrinking. "lanczos3" is sharper but rings more on edges. JPEG
 *   shrink-on-load is off, so the result does not depend on the JPEG's scale factor.
 * - Bad input throws FacepriorError BAD_IMAGE naming the file and the problem.
 * - Raw pixels (raw-pixels.ts) take the same steps, less the reading and orienting.
 */
import sharp, { type Metadata, type OutputInfo, type ResizeOptions, type SharpOptions } from "sharp";
import { FacepriorError, invalidArgument } from "../errors.js";
import { readRegularFile } from "../io/regular-file.js";
import { normalizeRgb } from "./normalize-rgb.js";
import type { CheckedPixels } from "./raw-pixels.js";

export { normalizeRgb } from "./normalize-rgb.js";

export type ResizeKernel = "cubic" | "lanczos3";
export type ResizeFit = "cover" | "contain" | "fill";

/** Refused beyond this many pixels (width x height) before decoding: 100 megapixels. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Far above any photo's encoded size (a 100 MP 16-bit TIFF is 600 MB); bounds the read. */
const MAX_IMAGE_BYTES = 1024 * 1024 * 1024;

export type DecodeImageOptions = {
  /** Output side S in pixels. */
  size: number;
  /** Per-channel mean and std applied to pixels scaled to [0, 1]. */
  mean: readonly number[];
  std: readonly number[];
  kernel?: ResizeKernel;
  /** "cover": centre crop (default); "contain": letterbox on black; "fill": stretch. */
  fit?: ResizeFit;
  maxPixels?: number;
};

/** A path, or encoded bytes with a name to use in messages. */
export type ImageInput = string | { name: string; bytes: Uint8Array };

const inputName = (input: ImageInput) => (typeof input === "string" ? input : input.name);

function badImage(name: string, problem: string, fix: string, cause?: unknown): FacepriorError {
  return new FacepriorError("BAD_IMAGE", `${name}: ${problem}. ${fix}`, { cause });
}

function corrupt(name: string, cause: unknown): FacepriorError {
  const reason = (cause as Error).message.trim().split("\n")[0];
  return badImage(name, `is truncated or corrupt (${reason})`, "Re-export or re-download it.", cause);
}

/** Magic bytes of the formats sharp reads: a file that starts like one is an image, damaged. */
function hasImageSignature(bytes: Uint8Array): boolean {
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  return (
    (bytes[0] === 0xff && bytes[1] === 0xd8) || // JPEG
    ascii(1, 4) === "PNG" ||
    ascii(0, 4) === "GIF8" ||
    (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") ||
    ascii(0, 4) === "II*\0" ||
    ascii(0, 4) === "MM\0*" ||
    ascii(4, 8) === "ftyp" // AVIF, HEIF
  );
}

async function readBytes(input: ImageInput): Promise<Uint8Array> {
  if (typeof input !== "string") return input.bytes;
  try {
    return await readRegularFile(input, { code: "BAD_IMAGE", what: "an image", maxBytes: MAX_IMAGE_BYTES });
  } catch (cause) {
    if (cause instanceof FacepriorError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw badImage(input, "no such file", "Check the path.", cause);
    if (code === "EACCES") throw badImage(input, "cannot be read (permission denied)", "Check the file's permissions.", cause);
    throw badImage(input, `cannot be read (${(cause as Error).message})`, "Check the file.", cause);
  }
}

/** Reads `input` and checks it is a non-empty image within `maxPixels`, from its header alone. */
async function checkedBytes(input: ImageInput, maxPixels: number): Promise<{ name: string; bytes: Uint8Array }> {
  const name = inputName(input);
  const bytes = await readBytes(input);
  if (bytes.byteLength === 0) throw badImage(name, "is empty (0 bytes)", "Re-export or re-download it.");
  let meta: Metadata;
  try {
    // The header alone is read here; sharp's own pixel limit would call a huge image corrupt.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (cause) {
    if (hasImageSignature(bytes)) throw corrupt(name, cause);
    throw badImage(name, "is not an image sharp can read", "Use JPEG, PNG, WebP, GIF, TIFF or AVIF.", cause);
  }
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > maxPixels) {
    const mp = (n: number) => `${(n / 1e6).toFixed(1)} MP`;
    throw badImage(name, `is ${meta.width}x${meta.height} (${mp(pixels)}), over the ${mp(maxPixels)} limit`, "Downscale it first.");
  }
  return { name, bytes };
}

/** How sharp reads encoded bytes: upright, within `maxPixels`, refusing damaged files. */
const encodedInput = (maxPixels: number): SharpOptions => ({ autoOrient: true, limitInputPixels: maxPixels, failOn: "warning" });

/** Upright 8-bit sRGB pixels, alpha over black, with `resize` applied: the steps of the module comment. */
async function decodeRgb(
  name: string,
  bytes: Uint8Array,
  input: SharpOptions,
  resize: ResizeOptions,
): Promise<{ data: Buffer; info: OutputInfo }> {
  try {
    return await sharp(bytes, input)
      .flatten({ background: { r: 0, g: 0, b: 0 } })
      .toColourspace("srgb")
      .resize({ kernel: "cubic", background: { r: 0, g: 0, b: 0 }, fastShrinkOnLoad: false, ...resize })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (cause) {
    throw corrupt(name, cause);
  }
}

/**
 * Decodes one image to 8-bit sRGB, `size` x `size`, interleaved: [S, S, 3] bytes.
 * The steps are those of the module comment.
 */
export async function decodeImageRgb(input: ImageInput, options: Omit<DecodeImageOptions, "mean" | "std">): Promise<Uint8Array> {
  if (!Number.isInteger(options.size) || options.size <= 0) throw invalidArgument("size", "a positive integer", options.size);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const { name, bytes } = await checkedBytes(input, maxPixels);
  const { data, info } = await decodeRgb(name, bytes, encodedInput(maxPixels), {
    width: options.size,
    height: options.size,
    fit: options.fit ?? "cover",
    kernel: options.kernel ?? "cubic",
  });
  if (info.channels !== 3 || info.width !== options.size || info.height !== options.size) {
    throw new Error(
      `decodeImageRgb: ${name} decoded to ${info.width}x${info.height}x${info.channels}, expected ${options.size}x${options.size}x3`,
    );
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export type RgbImage = { data: Uint8Array; width: number; height: number; channels: 3 };

/**
 * Decodes one image to upright 8-bit sRGB at its own size, shrunk (never enlarged) to fit
 * `maxSide` so that very large photos cost bounded memory: what face detection works on.
 */
export async function decodeImageUpright(input: ImageInput, { maxSide = 1024, maxPixels = DEFAULT_MAX_PIXELS } = {}): Promise<RgbImage> {
  const { name, bytes } = await checkedBytes(input, maxPixels);
  return uprightRgb(name, bytes, encodedInput(maxPixels), maxSide);
}

/**
 * Raw pixels (checkRawPixels) as decodeImageUpright gives a file with the same pixels: alpha
 * over black, shrunk to fit `maxSide` by the same resize. They are taken as upright sRGB, and
 * have no pixel limit: they are in memory already.
 */
export function rawPixelsUpright(
  name: string,
  { bytes, width, height, channels }: CheckedPixels,
  { maxSide = 1024 } = {},
): Promise<RgbImage> {
  return uprightRgb(name, bytes, { raw: { width, height, channels }, limitInputPixels: false }, maxSide);
}

async function uprightRgb(name: string, bytes: Uint8Array, input: SharpOptions, maxSide: number): Promise<RgbImage> {
  const { data, info } = await decodeRgb(name, bytes, input, { width: maxSide, height: maxSide, fit: "inside", withoutEnlargement: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: 3 };
}

/** One image -> Float32 [3, S, S], normalised. */
export async function decodeImage(input: ImageInput, options: DecodeImageOptions): Promise<Float32Array> {
  return normalizeRgb(await decodeImageRgb(input, options), options.mean, options.std);
}

/** Images -> Float32 [B, 3, S, S], decoded concurrently (sharp works on its own threads). */
export async function decodeImageBatch(inputs: ImageInput[], options: DecodeImageOptions): Promise<Float32Array> {
  const plane = 3 * options.size * options.size;
  const out = new Float32Array(inputs.length * plane);
  const decoded = await Promise.all(inputs.map((input) => decodeImageRgb(input, options)));
  decoded.forEach((rgb, i) => normalizeRgb(rgb, options.mean, options.std, out, i * plane));
  return out;
}
