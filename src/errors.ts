/**
 * The one error type of faceprior. `code` is stable for programs; `message` follows
 * `<file, line or argument>: <what is wrong, quoting the value>. <the fix>.`
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
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "FacepriorError";
    this.code = code;
  }
}

/** In the spirit of sharp's `invalidParameterError`: name, expectation, the value and its type. */
export function invalidArgument(name: string, expected: string, value: unknown): FacepriorError {
  const shown = typeof value === "string" ? `"${value}"` : JSON.stringify(value);
  return new FacepriorError("BAD_ARGUMENT", `${name}: expected ${expected}, got ${shown} (${value === null ? "null" : typeof value}).`);
}
