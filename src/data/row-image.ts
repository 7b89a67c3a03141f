/**
 * A dataset row as input for image decoding (`image.ts`): its file, or, for rows that hold
 * their pixels (FER2013's csv), those pixels encoded as a lossless PNG named by the row's path.
 */
import sharp from "sharp";
import type { DatasetRow } from "./dataset.js";
import type { ImageInput } from "./image.js";

export async function rowImageInput(row: DatasetRow): Promise<ImageInput> {
  if (!row.pixels) return row.file;
  const { width, height, channels, data } = row.pixels;
  const image = sharp(data, { raw: { width, height, channels } });
  const bytes = await (channels === 1 ? image.toColourspace("b-w") : image).png().toBuffer();
  return { name: row.path, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}
