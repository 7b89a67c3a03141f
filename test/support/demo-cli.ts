/** Runs `faceprior demo` as a user would, until stopped: its URL is the first line it prints. */
import { spawn } from "node:child_process";
import { CLI_MAIN } from "./run-cli.js";

export type RunningDemo = {
  url: string;
  /** What it printed once serving: the address lines and the model line. */
  stdout(): string;
  /** Stops it as Ctrl-C (SIGINT) or `kill` (SIGTERM) would; resolves with its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
};

/** `faceprior demo --port 0 ...args` in `cwd`, once it serves; fails with its stderr if it exits first. */
export async function startDemoCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<RunningDemo> {
  const child = spawn(process.execPath, [CLI_MAIN, "demo", "--port", "0", ...args], { cwd, env });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const found = /^faceprior demo: (http:\/\/\S+)$/m.exec(stdout);
      if (found && /Ctrl-C stops the server/.test(stdout)) resolve(found[1]!);
    });
    child.on("close", (code) => reject(new Error(`faceprior demo exited with ${code} before serving: ${stderr}`)));
  });
  const stop = async (signal: NodeJS.Signals = "SIGINT") => {
    const closed = new Promise<number | null>((resolve) => child.once("close", resolve));
    child.kill(signal);
    return closed;
  };
  return { url, stdout: () => stdout, stop };
}
