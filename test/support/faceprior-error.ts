/** Asserting on the errors users see: a FacepriorError with its code and a message naming the problem. */
import assert from "node:assert/strict";
import { FacepriorError, type ErrorCode } from "../../src/errors.js";

/** Asserts that `error` is a FacepriorError with `code` whose message matches `pattern`. */
export function assertFacepriorError(error: unknown, code: ErrorCode, pattern: RegExp): true {
  assert.ok(error instanceof FacepriorError, `expected a FacepriorError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  assert.match(error.message, pattern);
  return true;
}

export async function rejectsWithError(promise: Promise<unknown>, code: ErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => assertFacepriorError(error, code, pattern));
}
