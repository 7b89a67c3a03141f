/**
 * The one error type of faceprior. `code` is stable for programs; `message` follows
 * `<file, line or argument>: <what is wrong, quoting the value>. <the fix>.` Library code names
 * options by their API names, never by CLI flags: an error about one option starts with its name
 * and carries it as `option`, which the CLI shows as the flag that set it (`imgSize` is
 * `--img-size`).
 */
export type ErrorCode =
  | "BAD_ARGUMENT"
  | "BAD_CHECKPOINT"
  | "BAD_IMAGE"
  | "BAD_CONFIG"
  | "BAD_DATASET"
  | "BAD_SHARDS"
  | "CANNOT_WRITE"
  | "MISSING_PACKAGE"
  | "NO_DEVICE"
  | "NON_FINITE_LOSS"
  | "RUN_STATE";

export class FacepriorError extends Error {
  readonly code: ErrorCode;
  /** The option the message starts with, by its API name (`config`, `imgSize`), when one is at fault. */
  readonly option?: string;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; option?: string }) {
    super(message, options);
    this.name = "FacepriorError";
    this.code = code;
    this.option = options?.option;
  }
}

/** In the spirit of sharp's `invalidParameterError`: name, expectation, the value and its type. */
export function invalidArgument(name: string, expected: string, value: unknown): FacepriorError {
  const shown = typeof value === "string" ? `"${value}"` : JSON.stringify(value);
  const type = value === null ? "null" : typeof value;
  return new FacepriorError("BAD_ARGUMENT", `${name}: expected ${expected}, got ${shown} (${type}).`, { option: name });
}
