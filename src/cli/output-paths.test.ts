/** Where analyze's outputs go: unique per input, and never over an input. */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { assertFacepriorError } from "../../test/support/faceprior-error.js";
import { scratchDir } from "../../test/support/scratch-dir.js";
import { outputPaths } from "./output-paths.js";

test("overlay names keep the path below the inputs' common folder, so photos sharing a base name never share an overlay", async () => {
  const root = await scratchDir("faceprior-outputs-");
  for (const folder of ["trip/day1", "trip/day2", "home"]) await mkdir(join(root, folder), { recursive: true });
  const photos = ["trip/day1/a.jpg", "trip/day2/a.jpg", "trip/day1/a.png", "home/a.jpg"].map((p) => join(root, p));
  for (const photo of photos) await writeFile(photo, "x");
  const outputs = await outputPaths([join(root, "trip"), join(root, "home", "a.jpg")]);
  const overlays = photos.map((photo) => outputs.overlayFor(photo, join(root, "overlays")));
  assert.deepEqual(
    overlays,
    ["trip/day1/a.jpg", "trip/day2/a.jpg", "trip/day1/a.png", "home/a.jpg"].map((p) => join(root, "overlays", `${p}.overlay.png`)),
  );
  const single = await outputPaths([join(root, "home", "a.jpg")]);
  assert.equal(single.overlayFor(join(root, "home", "a.jpg"), "out"), join(process.cwd(), "out", "a.jpg.overlay.png"));
});

test("no output may replace an input, and a walk's earlier overlays are told apart from photos given by name", async () => {
  const root = await scratchDir("faceprior-outputs-");
  const photo = join(root, "a.jpg");
  const named = join(root, "a.jpg.overlay.png");
  const results = join(root, "results.json");
  for (const file of [photo, named, results]) await writeFile(file, "x");
  const outputs = await outputPaths([root, named, results]);
  assert.throws(
    () => outputs.overlayFor(photo, root),
    (error: unknown) =>
      assertFacepriorError(
        error,
        "BAD_ARGUMENT",
        /^--overlay: would write ".*a\.jpg\.overlay\.png", which is one of the inputs\. Choose another folder\.$/,
      ),
  );
  assert.throws(
    () => outputs.checked(results, "--json"),
    /--json: would write .*results\.json", which is one of the inputs\. Choose another file\./,
  );
  assert.equal(outputs.isOverlay(named), false, "given by name: a photo to analyse");
  assert.equal(outputs.isOverlay(join(root, "b.png.overlay.png")), true, "found by a walk: an earlier run's overlay");
});
