/** Spawns the built `faceprior` program, as a user would run it, and collects what it printed. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { REPO_ROOT } from "./shared-data.js";

export const CLI_MAIN = join(REPO_ROOT, "dist", "src", "cli", "main.js");

export type Run = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/**
 * Runs `faceprior ...args` in `cwd`, with `env` added to this process's environment; aborting
 * `signal` kills it with SIGKILL, as a crash would.
 */
export function runCli(
  args: string[],
  cwd: string,
  { signal, env }: { signal?: AbortSignal; env?: Record<string, string> } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { cwd, signal, killSignal: "SIGKILL", env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", (error) => {
      if (error.name !== "AbortError") reject(error);
    });
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * The effective config a run printed first, `<command>: config {...} (saved in <file>)`, checked
 * to be what that file keeps.
 */
export async function printedConfig(run: Run, command: string): Promise<Record<string, unknown>> {
  const line = new RegExp(`^${command}: config (\\{.*\\}) \\(saved in (.+)\\)$`, "m").exec(run.stderr);
  assert.ok(line, `${command} printed no config:\n${run.stderr}`);
  const printed = JSON.parse(line[1]!);
  assert.deepEqual(JSON.parse(await readFile(line[2]!, "utf8")), printed, `${line[2]} keeps what was printed`);
  return printed;
}

export function assertNoStack(run: Run): void {
  assert.doesNotMatch(run.stderr, /^\s+at /m, "stderr has a stack trace");
}

/** Runs `faceprior ...args` and kills it with SIGKILL, as a lost node would die, once `file` exists. */
export async function runCliKilledAt(file: string, args: string[], cwd: string): Promise<Run> {
  const controller = new AbortController();
  const poll = setInterval(() => existsSync(file) && controller.abort(), 10);
  try {
    return await runCli(args, cwd, { signal: controller.signal });
  } finally {
    clearInterval(poll);
  }
}
