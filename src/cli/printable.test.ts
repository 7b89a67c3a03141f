/** Names from outside are printed escaped: an escape code in a file name never reaches the terminal. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FacepriorError } from "../errors.js";
import { formatError } from "./errors.js";
import { printable } from "./printable.js";

test("control characters in a name are shown escaped, on one line", () => {
  assert.equal(printable("photos/e\x1b[2J\nvil\t\x07.jpg"), "photos/e\\x1b[2J\\nvil\\t\\x07.jpg");
  assert.equal(printable("café/ünïcode.png"), "café/ünïcode.png", "printable text is kept");
});

test("an error quoting a file name with an escape code prints it escaped, keeping the message's own lines", () => {
  const text = formatError(
    new FacepriorError("BAD_IMAGE", "x\x1b]0;owned\x07.jpg: is not an image sharp can read. Use JPEG.\nSecond line."),
    false,
  );
  assert.equal(text, "faceprior [BAD_IMAGE]: x\\x1b]0;owned\\x07.jpg: is not an image sharp can read. Use JPEG.\nSecond line.\n");
});
