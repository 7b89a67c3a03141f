import assert from "node:assert/strict";
import { test } from "node:test";
import { transformPoints } from "../data/affine-warp.js";
import { PARSING_CLASSES } from "../priors/face-sample.js";
import { affineSample, drawAffine, similarityAboutCentre } from "./affine.js";
import { seededRng } from "./prng.js";
import { blobImage, brightness, syntheticSample } from "../../test/support/synthetic-sample.js";

const S = 48;
const RANGES = { rotationDeg: 20, scale: [0.85, 1.15], translate: 0.08 } as const;

test("image and landmarks move together: a dot drawn at a landmark ends up at the moved landmark", () => {
  for (let seed = 0; seed < 12; seed++) {
    const rng = seededRng(seed, "affine-test");
    const [x, y] = [12 + rng() * 24, 12 + rng() * 24];
    const sample = syntheticSample(S, seed);
    sample.landmarks68.set([x, y], 2 * 30);
    const moved = affineSample({ ...sample, image: blobImage(S, x, y, 1.2) }, drawAffine(rng, S, RANGES));
    const [tx, ty] = [moved.landmarks68[60]!, moved.landmarks68[61]!];
    const { peak, centroid } = brightness(moved.image, S);
    assert.ok(Math.hypot(peak[0] - tx, peak[1] - ty) <= 1, `seed ${seed}: brightest pixel ${peak} vs landmark (${tx}, ${ty})`);
    // Tighter: the blob's centroid finds half-pixel convention errors that the peak cannot.
    assert.ok(Math.hypot(centroid[0] - tx, centroid[1] - ty) <= 0.1, `seed ${seed}: centroid ${centroid} vs landmark (${tx}, ${ty})`);
  }
});

test("the parsing mask moves with the points, keeps only its own classes, and fills background", () => {
  const eye = PARSING_CLASSES.indexOf("left_eye");
  const sample = syntheticSample(S, 7);
  sample.parsing.fill(PARSING_CLASSES.indexOf("skin"));
  for (let row = 10; row < 22; row++) sample.parsing.fill(eye, row * S + 14, row * S + 26); // square, centre (20, 16)
  const t = similarityAboutCentre(S, (15 * Math.PI) / 180, 0.8, 3, -2);
  const moved = affineSample(sample, t);
  assert.deepEqual(new Set(moved.parsing), new Set([0, 1, eye]));
  assert.equal(moved.parsing[0], 0, "a corner that came from outside the crop is background");
  let [n, sx, sy] = [0, 0, 0];
  moved.parsing.forEach((c, p) => {
    if (c === eye) [n, sx, sy] = [n + 1, sx + (p % S) + 0.5, sy + Math.floor(p / S) + 0.5];
  });
  const [cx, cy] = transformPoints(Float32Array.from([20, 16]), t);
  assert.ok(Math.hypot(sx / n - cx!, sy / n - cy!) < 0.5, `eye centroid (${sx / n}, ${sy / n}) vs moved centre (${cx}, ${cy})`);
  assert.ok(Math.abs(n - 144 * 0.64) < 12, `eye area ${n}, expected about ${144 * 0.64}`);
});

test("landmarks and mesh take the same transform", () => {
  const sample = syntheticSample(S, 8);
  const t = drawAffine(seededRng(8, "affine-test"), S, RANGES);
  const moved = affineSample(sample, t);
  assert.deepEqual(moved.landmarks68, transformPoints(sample.landmarks68, t));
  assert.deepEqual(moved.mesh, transformPoints(sample.mesh, t));
});

test("zero ranges draw the identity, which leaves a sample unchanged exactly", () => {
  const t = drawAffine(seededRng(3, "affine-test"), S, { rotationDeg: 0, scale: [1, 1], translate: 0 });
  assert.ok(
    t.every((v, i) => v === [1, 0, 0, 0, 1, 0][i]),
    `not the identity: [${t}]`,
  ); // -0 counts as 0
  const sample = syntheticSample(S, 9);
  assert.deepEqual(affineSample(sample, t), sample);
});

test("drawn transforms stay inside the configured rotation, scale and translation ranges, and use them", () => {
  const angles: number[] = [];
  for (let seed = 0; seed < 200; seed++) {
    const [a, , c, d, , f] = drawAffine(seededRng(seed, "affine-test"), S, RANGES);
    const angle = (Math.atan2(d, a) * 180) / Math.PI;
    const scale = Math.hypot(a, d);
    angles.push(angle);
    assert.ok(Math.abs(angle) <= RANGES.rotationDeg, `angle ${angle}`);
    assert.ok(scale >= RANGES.scale[0] - 1e-12 && scale <= RANGES.scale[1] + 1e-12, `scale ${scale}`);
    // The centre moves only by the translation.
    const [mx, my] = [a * (S / 2) - d * (S / 2) + c - S / 2, d * (S / 2) + a * (S / 2) + f - S / 2];
    assert.ok(Math.max(Math.abs(mx), Math.abs(my)) <= RANGES.translate * S + 1e-9, `centre moved by (${mx}, ${my})`);
  }
  assert.ok(Math.min(...angles) < -15 && Math.max(...angles) > 15, "draws should cover most of the ±20° range");
});
