import assert from "node:assert/strict";
import { test } from "node:test";
import { FacepriorError } from "../errors.js";
import {
  NO_AUGMENT,
  applyAugmentParams,
  augmentImage,
  augmentLabels,
  augmentSample,
  drawAugmentParams,
  parseAugmentConfig,
  type AugmentConfig,
} from "./augment.js";
import { flipSample, meshMirrorTable } from "./flip.js";
import { seededRng } from "./prng.js";
import { blobImage, brightness, syntheticSample } from "../../test/support/synthetic-sample.js";
import { teacherUVMap } from "../priors/teacher.js";

const meshMirror = meshMirrorTable(teacherUVMap());
const S = 32;
const DEFAULTS = parseAugmentConfig({});
const only = (overrides: Partial<AugmentConfig>): AugmentConfig => ({ ...NO_AUGMENT, ...overrides });

test("an empty config takes the documented defaults; bad fields are named with their values", () => {
  assert.deepEqual(DEFAULTS, {
    flipProbability: 0.5,
    grayscaleProbability: 0,
    colorJitter: { brightness: 0.3, contrast: 0.3, saturation: 0.3, hue: 0 },
    affine: { rotationDeg: 10, scale: [0.95, 1.05], translate: 0.05 },
  });
  assert.equal(parseAugmentConfig({ affine: { rotationDeg: 5 } }).affine.translate, 0.05, "nested defaults fill in");
  assert.throws(
    () => parseAugmentConfig({ flipProbability: 1.5, affine: { scale: [1.2, 0.8] } }, "study.json augment"),
    (e: unknown) =>
      e instanceof FacepriorError &&
      e.code === "BAD_CONFIG" &&
      /^study\.json augment: flipProbability: .*\(got 1\.5\); affine\.scale: .*min <= max/.test(e.message),
  );
  assert.throws(() => parseAugmentConfig({ flip: 0.5 }), /Unrecognized key.*flip/);
});

test("the no-augmentation config leaves every sample unchanged", () => {
  for (const seed of [0, 1, 99]) {
    const sample = syntheticSample(S, seed);
    assert.deepEqual(augmentSample(sample, seed, NO_AUGMENT, meshMirror), sample);
  }
});

test("the same seed gives the same sample; different seeds give different ones", () => {
  const sample = syntheticSample(S, 3);
  const a = augmentSample(sample, 12, DEFAULTS, meshMirror);
  assert.deepEqual(augmentSample(sample, 12, DEFAULTS, meshMirror), a);
  for (const other of [13, 14, 1012]) {
    const b = augmentSample(sample, other, DEFAULTS, meshMirror);
    assert.notDeepEqual(b.image, a.image, `seed ${other}`);
    assert.notDeepEqual(b.landmarks68, a.landmarks68, `seed ${other}`);
  }
});

test("each step can run alone: flip alone is flipSample, jitter alone touches only the image", () => {
  const sample = syntheticSample(S, 4);
  assert.deepEqual(augmentSample(sample, 5, only({ flipProbability: 1 }), meshMirror), flipSample(sample, meshMirror));
  const jittered = augmentSample(sample, 5, only({ colorJitter: DEFAULTS.colorJitter }), meshMirror);
  assert.deepEqual([jittered.parsing, jittered.landmarks68, jittered.mesh], [sample.parsing, sample.landmarks68, sample.mesh]);
  assert.notDeepEqual(jittered.image, sample.image);
});

test("flips happen at the configured rate, and turning the flip off leaves the other draws alone", () => {
  const flips = Array.from({ length: 400 }, (_, seed) => drawAugmentParams(seed, S, DEFAULTS).flip);
  const rate = flips.filter(Boolean).length / flips.length;
  assert.ok(Math.abs(rate - 0.5) < 0.1, `flip rate ${rate}`);
  const noFlip = { ...DEFAULTS, flipProbability: 0 };
  for (let seed = 0; seed < 20; seed++) {
    const [withFlip, without] = [drawAugmentParams(seed, S, DEFAULTS), drawAugmentParams(seed, S, noFlip)];
    assert.deepEqual([without.affine, without.colorJitter], [withFlip.affine, withFlip.colorJitter]);
  }
});

test("augmentLabels swaps lateral columns exactly when augmentSample flips", () => {
  const labels = [1, 0, 0.25];
  let swapped = 0;
  for (let seed = 0; seed < 40; seed++) {
    const out = augmentLabels(labels, seed, DEFAULTS, [[0, 1]]);
    const flipped = drawAugmentParams(seed, S, DEFAULTS).flip;
    assert.deepEqual(out, flipped ? [0, 1, 0.25] : labels, `seed ${seed}`);
    swapped += Number(flipped);
  }
  assert.ok(swapped > 0 && swapped < 40, "both outcomes should occur");
});

test("a full augmentation keeps the image and the landmarks together, through flips", () => {
  const geometric = {
    ...DEFAULTS,
    colorJitter: NO_AUGMENT.colorJitter,
    affine: { rotationDeg: 15, scale: [0.9, 1.1] as [number, number], translate: 0.08 },
  };
  const seen = new Set<boolean>();
  for (let seed = 0; seed < 10; seed++) {
    const rng = seededRng(seed, "augment-test");
    const [x, y] = [10 + rng() * 12, 10 + rng() * 12]; // far enough inside that the blob stays in the crop
    const sample = syntheticSample(S, seed);
    sample.landmarks68.set([x, y], 2 * 36); // image-left eye outer corner
    const params = drawAugmentParams(seed, S, geometric);
    const out = applyAugmentParams({ ...sample, image: blobImage(S, x, y, 1.2) }, params, meshMirror);
    const index = params.flip ? 45 : 36; // after a flip, the old 36 is the new 45
    const [tx, ty] = [out.landmarks68[2 * index]!, out.landmarks68[2 * index + 1]!];
    const { peak, centroid } = brightness(out.image, S);
    assert.ok(Math.hypot(peak[0] - tx, peak[1] - ty) <= 1, `seed ${seed}: peak ${peak} vs landmark ${index} (${tx}, ${ty})`);
    assert.ok(Math.hypot(centroid[0] - tx, centroid[1] - ty) <= 0.1, `seed ${seed}: centroid ${centroid} vs (${tx}, ${ty})`);
    seen.add(params.flip);
  }
  assert.equal(seen.size, 2, "both flipped and unflipped seeds should be checked");
});

test("a sample whose arrays do not match its size is refused, naming the field", () => {
  const sample = { ...syntheticSample(S, 1), parsing: new Uint8Array(10) };
  assert.throws(
    () => augmentSample(sample, 0, DEFAULTS, meshMirror),
    /augmentSample: sample\.parsing has 10 values, a \[S, S\] array of size 32 has 1024/,
  );
});

test("an image alone gets the same augmentation as the sample it belongs to", () => {
  const sample = syntheticSample(S, 6);
  const config = parseAugmentConfig({ flipProbability: 0.5, grayscaleProbability: 0.5 });
  for (const seed of [0, 1, 2, 3, 40]) {
    assert.deepEqual(augmentImage(sample.image, S, seed, config), augmentSample(sample, seed, config, meshMirror).image, `seed ${seed}`);
  }
  assert.deepEqual(augmentImage(sample.image, S, 7, NO_AUGMENT), sample.image);
  assert.throws(
    () => augmentImage(sample.image.subarray(3), S, 0, config),
    /augmentImage: the image has 3069 bytes; an 32x32 RGB crop has 3072/,
  );
});

test("grayscale turns a colour face grey (R = G = B = Rec. 601 luma) at about its probability", () => {
  const image = Uint8Array.from({ length: S * S * 3 }, (_, i) => [200, 40, 90][i % 3]!);
  const grey = augmentImage(image, S, 0, only({ grayscaleProbability: 1 }));
  assert.deepEqual(
    [...grey.subarray(0, 3)],
    [Math.round(0.299 * 200 + 0.587 * 40 + 0.114 * 90)].flatMap((v) => [v, v, v]),
  );
  const greyCount = Array.from(
    { length: 400 },
    (_, seed) => drawAugmentParams(seed, S, only({ grayscaleProbability: 0.25 })).grayscale,
  ).filter(Boolean).length;
  assert.ok(greyCount > 70 && greyCount < 130, `${greyCount} of 400 grey at p = 0.25`);
});
