/**
 * Finding image files: paths given by a user, and folders searched recursively. The walk
 * streams (a folder's entries are read, sorted and handed out before the next folder is
 * opened), skips hidden entries, and never follows a symlink to a folder, so a link to a
 * parent cannot make it loop. Links to files are kept, and the reader judges what they point
 * to (regular-file.ts). A subfolder that cannot be read is reported, and the walk goes on.
 */
import type { Dirent } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { FacepriorError } from "../errors.js";

/** File extensions that folder listings treat as images (sharp reads them all). */
export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".avif", ".heic", ".heif"];

export function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
}

/** A folder whose images were left out (it cannot be read, or holds none), in the error form's parts. */
export type SkippedFolder = { folder: string; problem: string; fix: string };

const byName = (a: Dirent, b: Dirent) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Whether a symlinked entry is worth handing out: anything but a folder (a dangling link is reported by its reader). */
async function linksToNonFolder(path: string): Promise<boolean> {
  return !(await stat(path).catch(() => undefined))?.isDirectory();
}

/**
 * The image files under `folder`, depth first, each folder's entries in name order; hidden
 * entries and links to folders are skipped. A subfolder that cannot be read goes to `onSkipped`.
 */
export async function* walkImageFiles(folder: string, onSkipped: (skipped: SkippedFolder) => void): AsyncGenerator<string> {
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "EACCES" ? "permission denied" : (error as Error).message;
    onSkipped({ folder, problem: `cannot be read (${reason})`, fix: "Check the folder's permissions, or leave it out." });
    return;
  }
  for (const entry of entries.filter((e) => !e.name.startsWith(".")).sort(byName)) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* walkImageFiles(path, onSkipped);
    else if (isImageName(entry.name) && (!entry.isSymbolicLink() || (await linksToNonFolder(path)))) yield path;
  }
}

/** For listings that stop at a skipped folder: it becomes a BAD_IMAGE error. */
function throwSkipped({ folder, problem, fix }: SkippedFolder): never {
  throw new FacepriorError("BAD_IMAGE", `${folder}: ${problem}. ${fix}`);
}

async function collect(files: AsyncIterable<string>): Promise<string[]> {
  const collected: string[] = [];
  for await (const file of files) collected.push(file);
  return collected;
}

/** The image files in a folder and its subfolders, as `walkImageFiles` finds them; an unreadable subfolder is an error. */
export function imageFilesIn(folder: string): Promise<string[]> {
  return collect(walkImageFiles(folder, throwSkipped));
}

/** Checks that every path exists, before any is read: a typo fails at once, not after the others' work. */
async function checkInputPaths(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    await stat(path).catch((cause) => {
      throw new FacepriorError("BAD_IMAGE", `${path}: no such file or folder. Check the path.`, { cause });
    });
  }
}

/**
 * Expands paths into image files as a stream: a file is kept as given (whatever its name), a
 * folder is walked. Unreadable subfolders and folders without images go to `onSkipped`.
 */
export async function* imageFiles(paths: readonly string[], onSkipped: (skipped: SkippedFolder) => void): AsyncGenerator<string> {
  await checkInputPaths(paths);
  for (const path of paths) {
    if (!(await stat(path)).isDirectory()) {
      yield path;
      continue;
    }
    let found = 0;
    for await (const file of walkImageFiles(path, onSkipped)) {
      found++;
      yield file;
    }
    if (found === 0)
      onSkipped({ folder: path, problem: `is a folder with no images (${IMAGE_EXTENSIONS.join(" ")})`, fix: "Check the path." });
  }
}

/** `imageFiles` collected; an unreadable subfolder or a folder without images is an error. */
export function listImageFiles(paths: readonly string[]): Promise<string[]> {
  return collect(imageFiles(paths, throwSkipped));
}
