/** The PyTorch side of a benchmark: a Python script that prints its numbers as one JSON object, last. */
import { execFileSync } from "node:child_process";

/**
 * Runs `python script ...args` (Debian's python3-torch) and returns the JSON object it printed
 * last, or null when PyTorch cannot run here; the reason then goes to stderr, so the benchmark
 * still reports its own numbers.
 */
export function runPytorchReference<T>(python: string, script: string, args: string[]): T | null {
  try {
    const out = execFileSync(python, [script, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    return JSON.parse(out.trim().split("\n").at(-1)!) as T;
  } catch (error) {
    console.error(`PyTorch reference skipped: ${(error as Error).message.split("\n")[0]}`);
    return null;
  }
}
