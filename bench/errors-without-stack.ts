/**
 * How a bench script ends on an error it expected, as the CLI does: a FacepriorError (a bad
 * option value, a missing model) or a rejected command line (parseArgs: an unknown option, a
 * missing value) prints one line without a stack and exits 2 for usage, 1 otherwise. Anything
 * else is a bug and keeps its stack. Import it first, for its effect:
 *
 *   import "./errors-without-stack.js";
 */
import { basename } from "node:path";
import { EXIT_FAILURE, EXIT_USAGE, exitSoon, reportError } from "../src/cli/errors.js";
import { FacepriorError } from "../src/errors.js";

/** The errors node:util's parseArgs throws for a wrong command line. */
function isCommandLineError(error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

process.on("uncaughtException", (error: unknown) => {
  if (error instanceof FacepriorError) return exitSoon(reportError(error, false));
  if (isCommandLineError(error)) {
    process.stderr.write(`${basename(process.argv[1] ?? "bench")}: ${error.message}\n`);
    return exitSoon(EXIT_USAGE);
  }
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  exitSoon(EXIT_FAILURE);
});
