/**
 * `--json`, with one meaning in every command: the command's results as JSON, into a file
 * (`--json results.json`, written atomically) or on standard output (`--json -`, or `--json`
 * alone). Text that would mix with JSON on standard output goes to standard error instead.
 */
import { resolve } from "node:path";
import { writeJsonAtomic } from "../io/atomic-write.js";
import { STDOUT } from "./options.js";

/** File names a bare `--json` takes as its value; anything else after it stays an input. */
export const JSON_SUFFIXES = [".json", ".jsonl", ".ndjson"] as const;

/** The option's table entry; `what` names the results, e.g. "The summary". */
export const jsonOption = (what: string) =>
  ({
    type: "output",
    suffixes: JSON_SUFFIXES,
    description: `${what} as JSON, into <file> or, with - or no value, on standard output.`,
  }) as const;

/** Writes `value` where `--json` said: pretty JSON on standard output for `-`, else atomically into the file. */
export async function writeJsonOutput(target: string, value: unknown, stdout: NodeJS.WritableStream): Promise<void> {
  if (target === STDOUT) stdout.write(JSON.stringify(value, null, 2) + "\n");
  else await writeJsonAtomic(resolve(target), value);
}
