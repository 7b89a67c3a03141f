/**
 * The one gate every input file passes before a byte of it is read: only a regular file of
 * bounded size is opened for reading. A FIFO named `x.jpg` would block the read forever and
 * `/dev/zero` never ends; both are refused here. The open is non-blocking, so a FIFO is seen
 * for what it is instead of waiting for a writer, and the checks run on the opened file, so it
 * cannot be swapped between check and read. Errors from the open itself (no such file,
 * permission denied) pass through for the caller to word.
 */
import { constants, type Stats } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { FacepriorError, type ErrorCode } from "../errors.js";

export type FileKind = {
  /** The error code for this kind of input: BAD_IMAGE, BAD_CHECKPOINT, ... */
  code: ErrorCode;
  /** The input in words, with its article, for messages: "an image", "a checkpoint". */
  what: string;
  /** The most bytes such a file may hold. */
  maxBytes: number;
};

const MIB = 1024 * 1024;

/** What a non-regular file is, in words. */
function describeType(stats: Stats): string {
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  return "not a regular file";
}

const sizeText = (bytes: number) => (bytes >= MIB ? `${(bytes / MIB).toFixed(1)} MiB` : `${bytes} bytes`);

/** Throws unless `stats` are a regular file's of at most `kind.maxBytes`. */
export function checkRegularFile(stats: Stats, shown: string, kind: FileKind): void {
  if (stats.isDirectory()) throw new FacepriorError(kind.code, `${shown}: is a folder, not ${kind.what}. Pass a file.`);
  if (!stats.isFile()) throw new FacepriorError(kind.code, `${shown}: is ${describeType(stats)}, not ${kind.what}. Pass a regular file.`);
  if (stats.size > kind.maxBytes) {
    throw new FacepriorError(
      kind.code,
      `${shown}: is ${sizeText(stats.size)}, over the ${sizeText(kind.maxBytes)} faceprior reads as ${kind.what}. Pass a smaller file.`,
    );
  }
}

/** Opens `path` for reading once it is known to be a regular file within the limit; the caller closes it. */
export async function openRegularFile(path: string, kind: FileKind, shown = path): Promise<FileHandle> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    checkRegularFile(await handle.stat(), shown, kind);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The bytes of a regular file within the limit. */
export async function readRegularFile(path: string, kind: FileKind, shown = path): Promise<Buffer> {
  const handle = await openRegularFile(path, kind, shown);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
