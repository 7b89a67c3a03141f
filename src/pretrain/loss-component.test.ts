import assert from "node:assert/strict";
import { test } from "node:test";
import { grad, numpy as np, random } from "../engine/jax.js";
import { maxAbsDiff } from "../../test/support/numerics.js";
import { componentCoverage, componentEmbeddings, infoNce, jitterImages, MIN_COVERAGE, NUM_COMPONENTS } from "./loss-component.js";

const unit = (angle: number) => [Math.cos(angle), Math.sin(angle)];
const TAU = 0.1;

/** Symmetric cross-view InfoNCE by hand, over the rows/columns where valid is 1. */
function handNce(z1: number[][], z2: number[][], valid: number[]): number {
  const ids = valid.flatMap((v, i) => (v ? [i] : []));
  const logit = (a: number[], b: number[]) => (a[0]! * b[0]! + a[1]! * b[1]!) / TAU;
  const direction = (anchors: number[][], others: number[][]) =>
    ids.reduce(
      (s, i) => s + Math.log(ids.reduce((t, j) => t + Math.exp(logit(anchors[i]!, others[j]!)), 0)) - logit(anchors[i]!, others[i]!),
      0,
    ) / ids.length;
  return (direction(z1, z2) + direction(z2, z1)) / 2;
}

const nce = (z1: number[][], z2: number[][], valid: number[]) => infoNce(np.array(z1), np.array(z2), np.array(valid), TAU).js() as number;

// 2 images x 2 components, rows (image 0, comp 0), (0, 1), (1, 0), (1, 1).
const Z1 = [unit(0.1), unit(1.7), unit(0.5), unit(2.6)];
const Z2 = [unit(0.3), unit(1.2), unit(0.9), unit(2.2)];

test("InfoNCE equals the hand-computed value for 2 images x 2 components", () => {
  const expected = handNce(Z1, Z2, [1, 1, 1, 1]);
  const got = nce(Z1, Z2, [1, 1, 1, 1]);
  assert.ok(Math.abs(got - expected) < 1e-5 * expected, `${got} vs ${expected}`);
});

test("InfoNCE is lower when positives align than when they are swapped", () => {
  const aligned = nce(Z1, Z1, [1, 1, 1, 1]);
  const swapped = nce(Z1, [Z1[1]!, Z1[0]!, Z1[3]!, Z1[2]!], [1, 1, 1, 1]);
  assert.ok(aligned < nce(Z1, Z2, [1, 1, 1, 1]) && aligned < swapped, `aligned ${aligned}, swapped ${swapped}`);
});

test("a component without coverage is neither anchor nor negative", () => {
  const valid = [1, 0, 1, 1];
  const expected = handNce(Z1, Z2, valid);
  const got = nce(Z1, Z2, valid);
  assert.ok(Math.abs(got - expected) < 1e-5 * expected, `${got} vs ${expected}`);
  const moved = nce([Z1[0]!, unit(0.5), Z1[2]!, Z1[3]!], [Z2[0]!, unit(0.9), Z2[2]!, Z2[3]!], valid);
  assert.ok(Math.abs(moved - got) < 1e-6, "the excluded row changed the loss");
});

test("component coverage sums the component's classes; the mouth is both lips and the inner mouth", () => {
  // Classes: 0 background, 1 skin, 2-5 brows and eyes, 6 nose, 7 upper lip, 8 lower lip, 9 inner mouth.
  const hist = np.array([[[0.4, 0, 0, 0, 0.1, 0, 0.2, 0.1, 0.15, 0.05]]]);
  const coverage = (componentCoverage(hist).js() as number[][][])[0]![0]!;
  const expected = [0, 0, 0.1, 0, 0.2, 0.3]; // left_brow, right_brow, left_eye, right_eye, nose, mouth
  assert.ok(maxAbsDiff(coverage, expected) < 1e-6, `${coverage}`);
});

test("component embeddings are coverage-weighted means; an uncovered component is absent, zero, and has finite gradients", () => {
  const tokens = np.array([
    [
      [1, 2],
      [10, 20],
      [3, -4],
    ],
  ]);
  const cov = Array.from({ length: 3 }, () => new Array(NUM_COMPONENTS).fill(0));
  [cov[0]![0], cov[2]![0]] = [0.5, 0.25]; // component 0 on patches 0 and 2
  cov[1]![1] = MIN_COVERAGE / 2; // component 1: a sliver, below the threshold
  const { embeddings, present } = componentEmbeddings(tokens, np.array([cov]));
  const e = (embeddings.js() as number[][][])[0]!;
  assert.ok(maxAbsDiff(e[0]!, [(0.5 * 1 + 0.25 * 3) / 0.75, (0.5 * 2 - 0.25 * 4) / 0.75]) < 1e-5, `${e[0]}`);
  assert.deepEqual(e[5], [0, 0]);
  assert.deepEqual((present.js() as number[][])[0], [1, 0, 0, 0, 0, 0]);
  const g = grad((t: typeof tokens) => {
    const out = componentEmbeddings(t, np.array([cov]));
    out.present.dispose();
    return out.embeddings.sum();
  })(
    np.array([
      [
        [1, 2],
        [10, 20],
        [3, -4],
      ],
    ]),
  );
  assert.ok((g.dataSync() as Float32Array).every(Number.isFinite));
});

test("the second view's jitter is set by its key, per image, and stays in the encoder's range", () => {
  const images = random.uniform(random.key(1), [3, 3, 8, 8], { minval: -1, maxval: 1 });
  const a = jitterImages(random.key(2), images.ref, 0.4).dataSync() as Float32Array;
  const b = jitterImages(random.key(2), images.ref, 0.4).dataSync();
  const c = jitterImages(random.key(3), images.ref, 0.4).dataSync();
  assert.equal(maxAbsDiff(a, b), 0);
  assert.ok(maxAbsDiff(a, c) > 0.01);
  assert.ok(a.every((v) => v >= -1 && v <= 1));
  // Images get different jitters: their shifts from the input differ.
  const input = images.ref.dataSync();
  const shift = (i: number) => a[i * 192]! - input[i * 192]!;
  assert.ok(Math.abs(shift(0) - shift(1)) > 1e-3 || Math.abs(shift(1) - shift(2)) > 1e-3);
  assert.equal(maxAbsDiff(jitterImages(random.key(2), images.ref, 0).dataSync(), input), 0);
  images.dispose();
});
