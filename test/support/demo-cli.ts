/** Runs `faceprior demo` as a user would, until stopped: its URL is the first line it prints. */
import { spawn } from "node:child_process";
import { CLI_MAIN } from "./run-cli.js";

export type RunningDemo = { url: string; stop(): Promise<void> };

/** `faceprior demo --port 0 ...args` in `cwd`, once it serves; fails with its stderr if it exits first. */
export async function startDemoCli(args: string[], cwd: string): Promise<RunningDemo> {
  const child = spawn(process.execPath, [CLI_MAIN, "demo", "--port", "0", ...args], { cwd });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const found = /^faceprior demo: (http:\/\/\S+)$/m.exec(stdout);
      if (found) resolve(found[1]!);
    });
    child.on("close", (code) => reject(new Error(`faceprior demo exited with ${code} before serving: ${stderr}`)));
  });
  const stop = async () => {
    const closed = new Promise((resolve) => child.once("close", resolve));
    child.kill("SIGINT"); // as Ctrl-C
    await closed;
  };
  return { url, stop };
}
