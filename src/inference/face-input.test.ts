/**
 * The inputs FaceAnalyzer reads besides a path: raw RGB(A) pixels give what the photo's file
 * gives, bad pixel buffers are refused saying why, and a stream of inputs is analysed lazily.
 */
import assert from "node:assert/strict";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import sharp from "sharp";
import { assertFacepriorError, rejectsWithError } from "../../test/support/faceprior-error.js";
import { REPO_ROOT } from "../../test/support/shared-data.js";
import type { FacepriorError } from "../errors.js";
import { DEFAULT_MODEL_PATH, FaceAnalyzer, type FaceInput, type ImageAnalysis } from "./face-analyzer.js";

const PHOTO = join(REPO_ROOT, "examples", "astronaut.jpg");
const skip = await access(DEFAULT_MODEL_PATH).then(
  () => false,
  () => `the bundled model ${DEFAULT_MODEL_PATH} is missing`,
);

let analyzer: FaceAnalyzer;
before(async () => {
  if (!skip) analyzer = await FaceAnalyzer.load();
});
after(() => analyzer?.dispose());

/** The photo's pixels as another decoder would hand them over: RGB, or RGBA with opaque alpha. */
async function photoPixels(channels: 3 | 4): Promise<{ data: Uint8Array; width: number; height: number }> {
  const image = channels === 4 ? sharp(PHOTO).ensureAlpha(1) : sharp(PHOTO);
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, channels);
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

const withoutSource = ({ source: _, ...rest }: ImageAnalysis) => rest;

test("raw RGB and RGBA pixels of a real photo give exactly the analysis and embedding of its file", { skip }, async () => {
  const fromFile = await analyzer.analyze(PHOTO);
  assert.equal(fromFile.faces.length, 1, "the astronaut photo has one face");
  const rgb = await analyzer.analyze({ ...(await photoPixels(3)), name: "frame-rgb" });
  const rgba = await analyzer.analyze(await photoPixels(4)); // channels inferred, as from an ImageData
  assert.equal(rgb.source, "frame-rgb");
  assert.equal(rgba.source, "<512x512 pixels>");
  assert.deepEqual(withoutSource(rgb), withoutSource(fromFile));
  assert.deepEqual(withoutSource(rgba), withoutSource(fromFile));

  const [streamed] = await collect(analyzer.embedAll([{ ...(await photoPixels(3)), channels: 3 }]));
  assert.deepEqual(streamed!.faces, await analyzer.embed(PHOTO), "embedAll on pixels = embed on the file");
});

test("pixel buffers of the wrong size, channel count or type are refused, naming the input and the sizes that fit", { skip }, async () => {
  const { data } = await photoPixels(3);
  const cases: [FaceInput, RegExp][] = [
    [
      { data, width: 512, height: 511, name: "cam" },
      /^cam: data has 786432 bytes, which fits neither layout \(512x511 RGB is 784896 bytes, RGBA 1046528\)\. Check width and height, or pass channels\.$/,
    ],
    [
      { data, width: 512, height: 512, channels: 4 },
      /^<512x512 pixels>: data has 786432 bytes, but 512x512 RGB is 786432 bytes, RGBA 1048576\. Check width, height and channels\.$/,
    ],
    [
      { data, width: 512, height: 512, channels: 1 as 3 },
      /^<512x512 pixels>: channels 1 is not supported\. Pass RGB \(3\) or RGBA \(4\) pixels/,
    ],
    [
      { data, width: 0, height: 512 },
      /^<0x512 pixels>: width 0 is not a positive integer\. Pass the image's width and height in pixels\.$/,
    ],
    [
      { data: new Float32Array(12) as unknown as Uint8Array, width: 2, height: 2 },
      /^<2x2 pixels>: data is a Float32Array, not 8-bit pixels\. Pass a Uint8Array or Uint8ClampedArray/,
    ],
    [42 as unknown as FaceInput, /^input: 42 \(number\) is not an image FaceAnalyzer reads\. Pass a path, encoded image bytes/],
  ];
  for (const [input, message] of cases) await rejectsWithError(analyzer.analyze(input), "BAD_ARGUMENT", message);
});

test("analyzeAll reads a stream only as results are taken, in order, and reports unreadable images when asked", { skip }, async () => {
  let pulled = 0;
  const notes = { name: "notes.txt", bytes: new TextEncoder().encode("not a photo") };
  const grey = { data: new Uint8Array(64 * 64 * 3).fill(128), width: 64, height: 64, name: "grey" };
  async function* inputs(): AsyncGenerator<FaceInput> {
    for (const input of [PHOTO, notes, grey]) {
      pulled++;
      yield input;
    }
  }
  const unreadable: [string, string][] = [];
  const results = analyzer.analyzeAll(inputs(), {
    onUnreadable: (error: FacepriorError, source) => unreadable.push([source, error.message]),
  });
  const first = await results.next();
  assert.equal(pulled, 1, "the first result came before the second input was read");
  const rest = await collect(results);
  assert.deepEqual(
    [first.value, ...rest].map((a: ImageAnalysis) => [a.source, a.faces.length]),
    [
      [PHOTO, 1],
      ["grey", 0],
    ],
  );
  assert.deepEqual(unreadable, [["notes.txt", "notes.txt: is not an image sharp can read. Use JPEG, PNG, WebP, GIF, TIFF or AVIF."]]);

  // Without onUnreadable, the unreadable image ends the run with its error.
  await assert.rejects(collect(analyzer.analyzeAll([notes])), (error) =>
    assertFacepriorError(error, "BAD_IMAGE", /^notes\.txt: is not an image/),
  );
});
