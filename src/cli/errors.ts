/**
 * How the CLI ends. Only src/cli exits the process: a FacepriorError prints its code and message,
 * `faceprior [BAD_IMAGE]: a.jpg: ...`, without a stack (`--debug` adds it); anything else is a
 * bug and says so. Exit codes: 0 success, 1 failure, 2 usage (a BAD_ARGUMENT error: a flag, a
 * value, a command name), 130 Ctrl-C, 141 a reader that closed the output pipe, 143 SIGTERM.
 */
import { FacepriorError } from "../errors.js";
import { printableLines } from "./printable.js";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_CANCELLED = 130;
/** SIGPIPE, by the shell's 128 + signal number convention: what `yes | head -1` reports for yes. */
export const EXIT_PIPE = 141;
/** SIGTERM, by the shell's 128 + signal number convention. */
export const EXIT_TERMINATED = 143;

/** A usage error: the command line itself is wrong (exit 2). */
export function usageError(message: string): FacepriorError {
  return new FacepriorError("BAD_ARGUMENT", message);
}

export function exitCodeFor(error: unknown): number {
  return error instanceof FacepriorError && error.code === "BAD_ARGUMENT" ? EXIT_USAGE : EXIT_FAILURE;
}

/** The text printed for `error` on stderr; names in it may come from outside, so control characters are escaped. */
export function formatError(error: unknown, debug: boolean): string {
  return printableLines(errorText(error, debug));
}

function errorText(error: unknown, debug: boolean): string {
  if (error instanceof FacepriorError) {
    const detail = debug ? `\n${error.stack ?? ""}${causeStack(error)}` : "";
    return `faceprior [${error.code}]: ${error.message}${detail}\n`;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  if (debug) return `faceprior: internal error: ${err.stack ?? err.message}\n`;
  return `faceprior: internal error: ${err.message}\nThis is a bug in faceprior; rerun with --debug for the stack trace and report it.\n`;
}

function causeStack(error: Error): string {
  const cause = error.cause;
  return cause instanceof Error ? `\nCaused by: ${cause.stack ?? cause.message}` : "";
}

/** Ends with `code` once the event loop drains; if a GPU device or worker keeps it alive, soon after. */
export function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2000).unref();
}

/** Prints `error` and returns the exit code for it. */
export function reportError(error: unknown, debug: boolean, stderr: NodeJS.WritableStream = process.stderr): number {
  stderr.write(formatError(error, debug));
  return exitCodeFor(error);
}

/**
 * Ctrl-C prints one line and exits 130 instead of dying mid-line with a stack; SIGTERM exits
 * 143. Both are exits, so exit handlers remove temporary files and folders (io/exit-cleanup.ts).
 */
export function exitOnInterrupt(): void {
  process.once("SIGINT", () => {
    process.stderr.write("\nfaceprior: cancelled.\n");
    process.exit(EXIT_CANCELLED);
  });
  process.once("SIGTERM", () => {
    process.stderr.write("faceprior: terminated.\n");
    process.exit(EXIT_TERMINATED);
  });
}

/**
 * A reader that stops early (`faceprior analyze photos/ | head -1`) closes the pipe, and the next
 * write fails with EPIPE. Nothing went wrong that the user must hear about: exit at once, quietly,
 * as a Unix tool that SIGPIPE ends. Other stream errors stay errors.
 */
export function exitOnClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
      process.exit(EXIT_PIPE);
    });
  }
}
