/**
 * Permission tests need a user whom the file system can refuse. Root reads everything, so under
 * root the code under test runs in a child process as `nobody`; anyone else runs it as themselves.
 */
import { spawn } from "node:child_process";
import { chmod } from "node:fs/promises";

const NOBODY = 65534;

export type ChildRun = { code: number | null; stdout: string; stderr: string };

/** Runs `node <args>` as a user that permission bits apply to, in `cwd`. */
export function runNodeUnprivileged(args: string[], cwd: string): Promise<ChildRun> {
  const asNobody = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, ...asNobody });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Lets that user into the folders (scratch folders are made private to their owner). */
export async function openToAll(...folders: string[]): Promise<void> {
  for (const folder of folders) await chmod(folder, 0o755);
}
