/**
 * Temporary files and folders that must not outlive the process: each is registered while it
 * exists and removed, synchronously, on process exit. The CLI turns Ctrl-C and SIGTERM into an
 * exit (cli/errors.ts), so an interrupted command leaves nothing behind either; only SIGKILL
 * can, and atomic writes sweep up after that (atomic-write.ts).
 */
import { rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const pending = new Set<string>();

function removeAllPending(): void {
  for (const path of pending) {
    try {
      rmSync(path, { recursive: true, force: true });
    } catch {
      // Best effort: the process is ending, and there is no one left to tell.
    }
  }
  pending.clear();
}

/** Removes `path` at exit unless the returned function is called first (the path was kept or removed). */
export function removeOnExit(path: string): () => void {
  if (pending.size === 0) process.once("exit", removeAllPending);
  pending.add(path);
  return () => {
    pending.delete(path);
    if (pending.size === 0) process.removeListener("exit", removeAllPending);
  };
}

export type TempDir = { path: string /** Removes the folder now (synchronous, so it can run in exit handlers). */; remove(): void };

/** A new folder under the system's temp folder, named `<prefix>XXXXXX`, removed at exit at the latest. */
export async function makeTempDir(prefix: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  const forget = removeOnExit(path);
  return {
    path,
    remove() {
      forget();
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Runs `work` in a new temp folder and removes the folder after it, whatever happens. */
export async function withTempDir<T>(prefix: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await makeTempDir(prefix);
  try {
    return await work(dir.path);
  } finally {
    dir.remove();
  }
}
