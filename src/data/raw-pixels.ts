/**
 * Raw pixels handed in by a program (a camera frame, a canvas's ImageData, a decoder's output):
 * their type and the checks that the data holds width · height · channels bytes. No Node
 * imports. A browser ImageData already has this shape ({ data, width, height }, RGBA).
 */
import { FacepriorError } from "../errors.js";

/** 8-bit pixels, row by row, interleaved RGB or RGBA; `channels` is worked out from the length when left out. */
export type RawPixels = {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels?: 3 | 4;
  /** Names the pixels in results and messages. */
  name?: string;
};

/** Checked raw pixels: bytes over the same memory, and the channel count. */
export type CheckedPixels = { bytes: Uint8Array; width: number; height: number; channels: 3 | 4 };

function badPixels(name: string, problem: string, fix: string): FacepriorError {
  return new FacepriorError("BAD_ARGUMENT", `${name}: ${problem}. ${fix}.`);
}

function checkSide(name: string, side: "width" | "height", value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value) && value > 0) return value;
  throw badPixels(name, `${side} ${JSON.stringify(value)} is not a positive integer`, "Pass the image's width and height in pixels");
}

/** 3 or 4, as given or from the data's length; anything else says which sizes would have fitted. */
function channelCount(name: string, length: number, width: number, height: number, given: unknown): 3 | 4 {
  const pixels = width * height;
  const sizes = `${width}x${height} RGB is ${pixels * 3} bytes, RGBA ${pixels * 4}`;
  if (given === undefined) {
    if (length === pixels * 3 || length === pixels * 4) return length === pixels * 3 ? 3 : 4;
    throw badPixels(name, `data has ${length} bytes, which fits neither layout (${sizes})`, "Check width and height, or pass channels");
  }
  if (given !== 3 && given !== 4)
    throw badPixels(
      name,
      `channels ${JSON.stringify(given)} is not supported`,
      "Pass RGB (3) or RGBA (4) pixels; convert grey or other layouts to RGB first",
    );
  if (length !== pixels * given) throw badPixels(name, `data has ${length} bytes, but ${sizes}`, "Check width, height and channels");
  return given;
}

/** Validates `pixels` once, at the API boundary, naming them `name` in errors. */
export function checkRawPixels({ data, width, height, channels }: RawPixels, name: string): CheckedPixels {
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    const kind = data === null || typeof data !== "object" ? String(data) : `a ${(data as object).constructor.name}`;
    throw badPixels(name, `data is ${kind}, not 8-bit pixels`, "Pass a Uint8Array or Uint8ClampedArray of 0-255 values");
  }
  const w = checkSide(name, "width", width);
  const h = checkSide(name, "height", height);
  const c = channelCount(name, data.length, w, h, channels);
  return { bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: w, height: h, channels: c };
}
