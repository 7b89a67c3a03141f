/**
 * Where a command that reads a user's files writes its own: never over one of those inputs, and
 * under names that keep enough of each input's path to be unique. Overlays mirror the inputs'
 * folders below their common folder (`trip/day1/a.jpg` -> `<overlay dir>/day1/a.jpg.overlay.png`),
 * so photos with one base name in different folders, or `a.jpg` beside `a.png`, never share one.
 *
 * Only the inputs given by name are remembered: a folder walk yields image names only, and an
 * output is named *.overlay.png (which a walk leaves out) or *.json, so no output can be a file a
 * walk found, and a run over 100,000 photos holds none of their paths.
 */
import { stat } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { usageError } from "./errors.js";

/** How overlay files end; a folder walk leaves out files named so, the outputs of an earlier run. */
export const OVERLAY_SUFFIX = ".overlay.png";

/** The deepest folder holding every input (a folder input counts as itself, a file as its folder). */
async function commonFolder(inputs: readonly string[]): Promise<string> {
  const folders = await Promise.all(
    inputs.map(async (input) => {
      const path = resolve(input);
      const isFolder = (await stat(path).catch(() => undefined))?.isDirectory();
      return isFolder ? path : dirname(path);
    }),
  );
  return folders.reduce((common, folder) => {
    while (common !== dirname(common) && folder !== common && !folder.startsWith(common + sep)) common = dirname(common);
    return common;
  });
}

/** `path` if it exists, else its nearest folder above that does, with what it is. */
async function nearestExisting(path: string): Promise<{ path: string; isFolder: boolean }> {
  for (let at = resolve(path); ; at = dirname(at)) {
    const found = await stat(at).catch(() => undefined);
    if (found || at === dirname(at)) return { path: at, isFolder: found?.isDirectory() ?? true };
  }
}

/** Fails at once, before any work, when a file stands where `path` needs a folder above it. */
async function checkFoldersAbove(path: string, flag: string): Promise<{ path: string; isFolder: boolean }> {
  const existing = await nearestExisting(path);
  if (existing.path !== resolve(path) && !existing.isFolder) {
    throw usageError(
      `${flag} ${path}: ${existing.path} is a file, not a folder, so nothing can be written below it. Pass a path whose folders are folders.`,
    );
  }
  return existing;
}

/** Fails at once, before any work, when `path` names a folder or lies below a file: the results could not be written there. */
export async function checkOutputFile(path: string, flag: string): Promise<void> {
  const existing = await checkFoldersAbove(path, flag);
  if (existing.path === resolve(path) && existing.isFolder) {
    throw usageError(`${flag} ${path}: is a folder. Pass a file name, e.g. ${join(path, "results.json")}.`);
  }
}

/** Fails at once, before any work, when `path` is a file or lies below one: no file could be written in it. */
export async function checkOutputFolder(path: string, flag: string): Promise<void> {
  const existing = await checkFoldersAbove(path, flag);
  if (!existing.isFolder) throw usageError(`${flag} ${path}: is a file, not a folder. Pass a folder to write into.`);
}

export type OutputPaths = {
  /** Whether a file found by a folder walk is an overlay an earlier run wrote. */
  isOverlay(file: string): boolean;
  /** The overlay file for input `file` in `dir`. */
  overlayFor(file: string, dir: string): string;
  /** `path` resolved, unless it is one of the inputs; `flag` names the option in the error. */
  checked(path: string, flag: string): string;
};

/** Output paths for a run over `inputs` (the paths as given: files and folders). */
export async function outputPaths(inputs: readonly string[]): Promise<OutputPaths> {
  const root = await commonFolder(inputs);
  const given = new Set(inputs.map((input) => resolve(input)));
  const checked = (path: string, flag: string) => {
    const target = resolve(path);
    if (given.has(target))
      throw usageError(
        `${flag}: would write "${path}", which is one of the inputs. Choose another ${flag === "--overlay" ? "folder" : "file"}.`,
      );
    return target;
  };
  return {
    isOverlay: (file) => file.endsWith(OVERLAY_SUFFIX) && !given.has(resolve(file)),
    overlayFor: (file, dir) => checked(join(dir, relative(root, resolve(file)) + OVERLAY_SUFFIX), "--overlay"),
    checked,
  };
}
