/**
 * Finding image files: paths given by a user, and folders searched recursively. The walk
 * streams: a folder is read entry by entry (fs.opendir), keeping only the names of its images
 * and subfolders, which are sorted and handed out before the next folder is opened, so memory
 * grows with the largest folder's names, never with the files found (bench/folder-listing.ts).
 * The name order makes every run, sharded or not, list the same files in the same order.
 * It skips hidden entries, and never follows a symlink to a folder, so a link to a parent
 * cannot make it loop. Links to files are kept, and the reader judges what they point to
 * (regular-file.ts). A subfolder that cannot be read is reported, and the walk goes on.
 */
import { opendir, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { FacepriorError } from "../errors.js";

/** File extensions that folder listings treat as images (sharp reads them all). */
export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".avif", ".heic", ".heif"];

export function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
}

/** A folder whose images were left out (it cannot be read, or holds none), in the error form's parts. */
export type SkippedFolder = { folder: string; problem: string; fix: string };

/** Whether a symlinked entry is worth handing out: anything but a folder (a dangling link is reported by its reader). */
async function linksToNonFolder(path: string): Promise<boolean> {
  return !(await stat(path).catch(() => undefined))?.isDirectory();
}

type FolderNames = { names: string[]; subfolders: Set<string> };

/**
 * The names of a folder's images (links to folders left out) and subfolders, read entry by
 * entry and sorted; hidden entries are left out.
 */
async function folderNames(folder: string): Promise<FolderNames> {
  const names: string[] = [];
  const subfolders = new Set<string>();
  for await (const entry of await opendir(folder, { bufferSize: 1024 })) {
    if (entry.name.startsWith(".")) continue;
    if (entry.isDirectory()) subfolders.add(entry.name);
    else if (!isImageName(entry.name) || (entry.isSymbolicLink() && !(await linksToNonFolder(join(folder, entry.name))))) continue;
    names.push(entry.name);
  }
  return { names: names.sort(), subfolders };
}

function unreadable(folder: string, error: unknown): SkippedFolder {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code === "EACCES" ? "permission denied" : (error as Error).message;
  return { folder, problem: `cannot be read (${reason})`, fix: "Check the folder's permissions, or leave it out." };
}

/**
 * The image files under `folder`, depth first, each folder's entries in name order; hidden
 * entries and links to folders are skipped. A subfolder that cannot be read goes to `onSkipped`.
 */
export async function* walkImageFiles(folder: string, onSkipped: (skipped: SkippedFolder) => void): AsyncGenerator<string> {
  let listed: FolderNames;
  try {
    listed = await folderNames(folder);
  } catch (error) {
    onSkipped(unreadable(folder, error));
    return;
  }
  for (const name of listed.names) {
    const path = join(folder, name);
    if (listed.subfolders.has(name)) yield* walkImageFiles(path, onSkipped);
    else yield path;
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
