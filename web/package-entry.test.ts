/**
 * `faceprior/web` as a page's bundler sees it: resolved through package.json's exports, and
 * bundled for the browser with nothing from Node in it (esbuild refuses node: modules there).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { build } from "esbuild";
import { REPO_ROOT } from "../test/support/shared-data.js";

test("faceprior/web resolves through package.json's exports and bundles for the browser, exporting FaceAnalyzer and readImage", async () => {
  const { metafile } = await build({
    stdin: { contents: 'export { FaceAnalyzer, readImage } from "faceprior/web";', resolveDir: REPO_ROOT },
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  assert.ok("dist/web/faceprior-web.js" in metafile.inputs, `the entry bundled: ${Object.keys(metafile.inputs).join(", ")}`);
  assert.deepEqual(Object.values(metafile.outputs)[0]!.exports.sort(), ["FaceAnalyzer", "readImage"]);
});
