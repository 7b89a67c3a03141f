/**
 * Keeping row paths inside their dataset folder: the text of a path (no absolute paths, no
 * `..`), then the disk (no symlink, file or folder, that resolves outside the real root).
 */
import { lstatSync, readlinkSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, posix, resolve, sep } from "node:path";

/** The longest path, and file or folder name, in bytes that Linux and macOS file systems take. */
const MAX_PATH_BYTES = 4096;
const MAX_NAME_BYTES = 255;

/** The normalised relative path, or why the text cannot be one. */
export function normaliseRowPath(path: string): { path: string } | { problem: string; fix: string } {
  if (path.trim() === "") return { problem: "path is empty", fix: "Give each row the image's path inside the dataset folder." };
  if (/[\u0000-\u001f\u007f]/.test(path)) {
    return {
      problem: `path ${JSON.stringify(path)} holds a control character`,
      fix: "Write the file's name without control characters (NUL, newline, escape).",
    };
  }
  const longest = Math.max(...path.split(/[\\/]/).map((part) => Buffer.byteLength(part)));
  if (Buffer.byteLength(path) > MAX_PATH_BYTES || longest > MAX_NAME_BYTES) {
    return {
      problem: `path "${path.slice(0, 40)}..." is ${Buffer.byteLength(path)} bytes long`,
      fix: `Use a path of at most ${MAX_PATH_BYTES} bytes, each name at most ${MAX_NAME_BYTES}.`,
    };
  }
  if (isAbsolute(path) || path.startsWith("/") || path.startsWith("\\") || /^[A-Za-z]:/.test(path)) {
    return { problem: `path "${path}" is absolute`, fix: "Use a path relative to the dataset folder." };
  }
  const normalised = posix.normalize(path.replace(/\\/g, "/"));
  if (normalised === ".." || normalised.startsWith("../")) {
    return { problem: `path "${path}" leaves the dataset folder`, fix: "Use a path inside it." };
  }
  if (path.split(/[\\/]/).includes("..")) {
    return { problem: `path "${path}" goes through ".."`, fix: `Write it without "..": "${normalised}".` };
  }
  if (normalised === "." || normalised === "./")
    return { problem: `path "${path}" names the dataset folder itself`, fix: "Give the image file's path inside the folder." };
  return { path: posix.normalize(path) };
}

function inside(real: string, root: string): boolean {
  return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Checks that files resolve inside a root, through symlinks. Folder lookups are cached, so a
 * dataset of 100k rows costs one `lstat` per row.
 */
export class RootGuard {
  readonly root: string;
  private readonly realRoot: string;
  private readonly folders = new Map<string, string>();

  constructor(root: string) {
    this.root = resolve(root);
    this.realRoot = realpathSync.native(this.root);
  }

  /** The real path of a folder, or of its nearest existing ancestor when it does not exist. */
  private realFolder(folder: string): string {
    const known = this.folders.get(folder);
    if (known !== undefined) return known;
    let real: string;
    try {
      real = realpathSync.native(folder);
    } catch {
      const up = dirname(folder);
      real = up === folder ? folder : this.realFolder(up);
    }
    this.folders.set(folder, real);
    return real;
  }

  /** Where `relative` really lands when it escapes the root (a symlink), else undefined. */
  escape(relative: string): string | undefined {
    const file = join(this.root, relative);
    const folder = this.realFolder(dirname(file));
    if (!inside(folder, this.realRoot)) return folder;
    if (lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) {
      let real: string;
      try {
        real = realpathSync.native(file);
      } catch {
        // A dangling link: judge where its target would be.
        const target = resolve(dirname(file), readlinkSync(file));
        real = join(this.realFolder(dirname(target)), basename(target));
      }
      if (!inside(real, this.realRoot)) return real;
    }
    return undefined;
  }
}
