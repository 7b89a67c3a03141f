/**
 * Looking at benchmark folders on disk: which of a few candidate paths exists, image files
 * under a folder, and how a folder of video frames names them (`12.jpg` or `0012.png`).
 */
import { readdir, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import { isImageName } from "../image-files.js";

export async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

export async function isFolder(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** The first candidate (relative to root) that exists as a file, or undefined. */
export async function firstFile(root: string, candidates: readonly string[]): Promise<string | undefined> {
  for (const candidate of candidates) if (await isFile(join(root, candidate))) return candidate;
  return undefined;
}

/** The first candidate (relative to root) that exists as a folder, or undefined. */
export async function firstFolder(root: string, candidates: readonly string[]): Promise<string | undefined> {
  for (const candidate of candidates) if (await isFolder(join(root, candidate))) return candidate;
  return undefined;
}

/** Names in a folder ([] when it is absent), sorted, hidden entries left out. */
export async function entries(folder: string): Promise<{ name: string; folder: boolean }[]> {
  const found = await readdir(folder, { withFileTypes: true }).catch(() => []);
  return found
    .filter((entry) => !entry.name.startsWith("."))
    .map((entry) => ({ name: entry.name, folder: entry.isDirectory() }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Image files under `folder` to `depth` levels of subfolders, as sorted paths relative to it. */
export async function listImages(folder: string, depth: number, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await entries(join(folder, prefix))) {
    const relative = prefix === "" ? entry.name : posix.join(prefix, entry.name);
    if (entry.folder && depth > 0) found.push(...(await listImages(folder, depth - 1, relative)));
    else if (!entry.folder && isImageName(entry.name)) found.push(relative);
  }
  return found;
}

/**
 * How a folder of extracted video frames names frame n: zero-padded to the width of its
 * names when they start with 0, and their extension; `<n>.jpg` when the folder is absent or
 * holds no numbered image.
 */
export async function frameNamer(folder: string): Promise<(frame: number) => string> {
  for (const { name } of await entries(folder)) {
    const match = /^(\d+)(\.[A-Za-z]+)$/.exec(name);
    if (!match || !isImageName(name)) continue;
    const width = match[1].length > 1 && match[1].startsWith("0") ? match[1].length : 0;
    return (frame) => String(frame).padStart(width, "0") + match[2];
  }
  return (frame) => `${frame}.jpg`;
}
