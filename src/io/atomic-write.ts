/**
 * Atomic file writes: write to a temporary sibling, fsync, then rename over the target, so a
 * reader (or a resumed run) sees either the old file or the new one, never a torn one.
 *
 * The temporary file never outlives a failed write: it is removed when the write or the rename
 * fails and at process exit (Ctrl-C); one left by a killed process (SIGKILL, a power cut) is
 * removed by the next write of the same file. A failure a user can fix (a full disk, a target
 * that is a folder) is a CANNOT_WRITE error naming the file.
 */
import { mkdir, open, readdir, rename, rm, type FileHandle } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import { FacepriorError } from "../errors.js";
import { removeOnExit } from "./exit-cleanup.js";

/** Why a write failed, per errno, and what to do; codes not listed are reported with their message. */
const WRITE_FAILURES: Readonly<Record<string, [problem: string, fix: string]>> = {
  ENOSPC: ["the disk is full", "Free some space, then run again."],
  EDQUOT: ["the disk quota is used up", "Free some space, then run again."],
  EISDIR: ["is a folder", "Pass a file name, not a folder."],
  ENOTDIR: ["a folder on its path is a file", "Pass a path whose folders are folders."],
  EEXIST: ["a folder on its path is a file", "Pass a path whose folders are folders."],
  EACCES: ["permission denied", "Write somewhere you have permission to."],
  EPERM: ["permission denied", "Write somewhere you have permission to."],
  EROFS: ["the file system is read-only", "Write somewhere else."],
};

/** `error` from writing `path` as a CANNOT_WRITE error when the user can fix it; otherwise unchanged. */
export function writeError(path: string, error: unknown): unknown {
  const known = WRITE_FAILURES[(error as NodeJS.ErrnoException).code ?? ""];
  if (!known) return error;
  return new FacepriorError("CANNOT_WRITE", `${path}: cannot be written (${known[0]}). ${known[1]}`, { cause: error });
}

/** `.<name>.<pid>-<time>-<n>.tmp`: the pid says whether the writer still runs. */
let written = 0;
const temporaryName = (path: string) => `.${basename(path)}.${process.pid}-${Date.now()}-${written++}.tmp`;

/** The pid in a temporary name of `path`, or undefined when `name` is not one. */
function writerOf(path: string, name: string): number | undefined {
  const prefix = `.${basename(path)}.`;
  const match = name.startsWith(prefix) ? /^(\d+)-\d+-\d+\.tmp$/.exec(name.slice(prefix.length)) : null;
  return match ? Number(match[1]) : undefined;
}

/** Whether process `pid` is still running. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // it exists, owned by someone else
  }
}

/** Removes temporaries of `path` that processes no longer running left behind. */
async function sweepAbandoned(path: string): Promise<void> {
  const names = await readdir(dirname(path)).catch(() => []);
  for (const name of names) {
    const pid = writerOf(path, name);
    if (pid !== undefined && !isAlive(pid)) await rm(join(dirname(path), name), { force: true });
  }
}

/** A file written in pieces that appears at its path, whole, only on `commit`; `abort` or an exit removes the pieces. */
export type AtomicFile = { write(data: Uint8Array | string): Promise<void>; commit(): Promise<void>; abort(): Promise<void> };

/** Opens `path` for an atomic write; for outputs too large to hold in memory before writing. */
export async function openFileAtomic(path: string): Promise<AtomicFile> {
  const temporary = join(dirname(path), temporaryName(path));
  const forget = removeOnExit(temporary);
  let handle: FileHandle | undefined;
  const discard = async () => {
    await handle?.close().catch(() => {}); // closed already when the rename failed
    await rm(temporary, { force: true }).catch(() => {}); // its folder may be what failed: then it never existed
    forget();
  };
  const fail = async (error: unknown): Promise<never> => {
    await discard();
    throw writeError(path, error);
  };
  try {
    await mkdir(dirname(path), { recursive: true });
    await sweepAbandoned(path);
    handle = await open(temporary, "w");
  } catch (error) {
    return fail(error);
  }
  const file = handle;
  return {
    write: (data) => file.writeFile(data).catch(fail), // writeFile on a handle appends from its position
    async commit() {
      try {
        await file.sync();
        await file.close();
        await rename(temporary, path);
        forget();
      } catch (error) {
        await fail(error);
      }
    },
    abort: discard,
  };
}

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const file = await openFileAtomic(path);
  await file.write(data);
  await file.commit();
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}
