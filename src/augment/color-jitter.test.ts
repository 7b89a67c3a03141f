import assert from "node:assert/strict";
import { test } from "node:test";
import { IDENTITY_COLOR_JITTER, applyColorJitter, drawColorJitter } from "./color-jitter.js";
import { seededRng } from "./prng.js";
import { syntheticSample } from "../../test/support/synthetic-sample.js";

const image = syntheticSample(16, 1).image;
const jitter = (params: Partial<typeof IDENTITY_COLOR_JITTER>, pixels: Uint8Array = image) =>
  applyColorJitter(pixels, { ...IDENTITY_COLOR_JITTER, ...params });
const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;

test("zero strengths draw the identity jitter, which returns the image unchanged", () => {
  assert.deepEqual(drawColorJitter(seededRng(5, "color"), { brightness: 0, contrast: 0, saturation: 0, hue: 0 }), IDENTITY_COLOR_JITTER);
  const out = applyColorJitter(image, IDENTITY_COLOR_JITTER);
  assert.deepEqual(out, image);
  assert.notEqual(out, image, "a copy, not the input");
});

test("brightness scales every channel and clamps at 255", () => {
  assert.deepEqual(jitter({ brightness: 0.5 }, Uint8Array.from([200, 101, 0])), Uint8Array.from([100, 51, 0]));
  assert.deepEqual(jitter({ brightness: 2 }, Uint8Array.from([200, 100, 3])), Uint8Array.from([255, 200, 6]));
});

test("contrast 0 gives the image's mean grey everywhere; saturation 0 gives each pixel's own grey", () => {
  const flat = jitter({ contrast: 0 });
  let mean = 0;
  for (let p = 0; p < image.length / 3; p++) mean += luma(image[3 * p]!, image[3 * p + 1]!, image[3 * p + 2]!) / (image.length / 3);
  assert.ok(
    flat.every((v) => v === Math.round(mean)),
    `expected all ${Math.round(mean)}`,
  );
  const grey = jitter({ saturation: 0 });
  for (let p = 0; p < image.length / 3; p++) {
    const want = Math.round(luma(image[3 * p]!, image[3 * p + 1]!, image[3 * p + 2]!));
    assert.deepEqual([...grey.subarray(3 * p, 3 * p + 3)], [want, want, want], `pixel ${p}`);
  }
});

test("a hue shift turns the colour wheel and leaves greys alone", () => {
  const pixels = Uint8Array.from([255, 0, 0, 200, 100, 50, 90, 90, 90]);
  assert.deepEqual(jitter({ hue: 1 / 3 }, pixels), Uint8Array.from([0, 255, 0, 50, 200, 100, 90, 90, 90]));
  assert.deepEqual(jitter({ hue: -1 / 3 }, pixels), Uint8Array.from([0, 0, 255, 100, 50, 200, 90, 90, 90]));
  assert.deepEqual(jitter({ hue: 1 / 12 }, pixels.subarray(0, 3)), Uint8Array.from([255, 128, 0]));
});

test("drawn factors stay inside [1 - s, 1 + s] and spread over it", () => {
  const options = { brightness: 0.4, contrast: 0.2, saturation: 1.5, hue: 0.1 };
  const drawn = Array.from({ length: 300 }, (_, seed) => drawColorJitter(seededRng(seed, "color"), options));
  for (const key of ["brightness", "contrast", "saturation"] as const) {
    const values = drawn.map((p) => p[key]);
    const [lo, hi] = [Math.max(0, 1 - options[key]), 1 + options[key]];
    assert.ok(
      values.every((v) => v >= lo && v < hi),
      `${key} outside [${lo}, ${hi})`,
    );
    assert.ok(Math.min(...values) < lo + 0.1 * (hi - lo) && Math.max(...values) > hi - 0.1 * (hi - lo), `${key} does not cover its range`);
  }
  assert.ok(drawn.every((p) => Math.abs(p.hue) <= 0.1));
});
