import assert from "node:assert/strict";
import { test } from "node:test";
import { heldOutCount, holdOut, scoreHeldOut } from "./head-holdout.js";
import type { LabelledPhotos } from "./labelled-photos.js";
import { wilsonInterval } from "../metrics.js";

/** A softmax source with `counts[k]` photos of class k, named `<k>/<i>.jpg`. */
function classes(...counts: number[]): LabelledPhotos {
  const photos = counts.flatMap((n, k) =>
    Array.from({ length: n }, (_, i) => ({ file: `${k}/${i}.jpg`, path: `${k}/${i}.jpg`, targets: [k] })),
  );
  return { source: "photos", activation: "softmax", labels: counts.map((_, k) => `class${k}`), photos };
}

const classOf = (photos: LabelledPhotos, indices: number[]) => indices.map((i) => photos.photos[i]!.targets[0]);
const count = (values: number[], v: number) => values.filter((x) => x === v).length;

test("held-out count per class: round(f·n), at least one from 3 photos, none below 3 or at f = 0", () => {
  assert.deepEqual(
    [2, 3, 4, 10, 12, 13].map((n) => heldOutCount(n, 0.2)),
    [0, 1, 1, 2, 2, 3],
  );
  assert.deepEqual(
    [3, 10].map((n) => heldOutCount(n, 0)),
    [0, 0],
  );
  assert.equal(heldOutCount(10, 0.5), 5);
});

test("the split is stratified by class and keeps 2 training photos of every class", () => {
  const photos = classes(10, 10, 3, 2);
  const { train, heldOut } = holdOut(photos, 0.2, 0);
  const held = classOf(photos, heldOut);
  assert.deepEqual(
    [0, 1, 2, 3].map((k) => count(held, k)),
    [2, 2, 1, 0],
  );
  assert.deepEqual(
    [...train, ...heldOut].sort((a, b) => a - b),
    [...photos.photos.keys()],
    "every photo on exactly one side",
  );
  // At f = 0.5 a class of 3 would lose 2 by rounding, leaving 1: it keeps 2.
  const half = classOf(photos, holdOut(photos, 0.5, 0).heldOut);
  assert.deepEqual(
    [0, 1, 2, 3].map((k) => count(half, k)),
    [5, 5, 1, 0],
  );
  assert.deepEqual(holdOut(photos, 0, 0).heldOut, []);
});

test("the split is a function of the seed and the paths: repeatable, different across seeds, whatever the photos' order", () => {
  const photos = classes(10, 10);
  const paths = (indices: number[]) => indices.map((i) => photos.photos[i]!.path);
  assert.deepEqual(holdOut(photos, 0.2, 7), holdOut(photos, 0.2, 7));
  const bySeed = [0, 1, 2, 3].map((seed) => paths(holdOut(photos, 0.2, seed).heldOut).join());
  assert.ok(new Set(bySeed).size > 1, `seeds 0-3 all hold out ${bySeed[0]}`);
  // Reversing the photo order does not move any photo to the other side.
  const reversed = { ...photos, photos: [...photos.photos].reverse() };
  const reversedHeld = holdOut(reversed, 0.2, 7)
    .heldOut.map((i) => reversed.photos[i]!.path)
    .sort();
  assert.deepEqual(reversedHeld, paths(holdOut(photos, 0.2, 7).heldOut).sort());
});

test("a multi-label split holds out round(f·n) photos while each label keeps 2 training photos with it and 2 without", () => {
  // hat on photos 0-2 only: at most one of them may be held out.
  const targets = [
    [1, 0],
    [1, 1],
    [1, 0],
    [0, 1],
    [0, 0],
    [0, 1],
    [0, 0],
    [0, 1],
    [0, 0],
    [0, 1],
  ];
  const photos: LabelledPhotos = {
    source: "labels.csv",
    activation: "sigmoid",
    labels: ["hat", "glasses"],
    photos: targets.map((t, i) => ({ file: `${i}.jpg`, path: `${i}.jpg`, targets: t })),
  };
  for (let seed = 0; seed < 20; seed++) {
    const { train, heldOut } = holdOut(photos, 0.5, seed);
    assert.equal(heldOut.length, 5, `seed ${seed}`);
    for (const k of [0, 1]) {
      for (const v of [0, 1]) assert.ok(train.filter((i) => targets[i]![k] === v).length >= 2, `seed ${seed}: label ${k} = ${v} keeps 2`);
    }
  }
});

test("held-out scores against the training majority, by hand", () => {
  // softmax: train classes [0, 0, 1] (majority 0); held out true [0, 1, 1], predicted [0, 1, 0].
  const photos = classes(3, 3);
  const split = { train: [0, 1, 3], heldOut: [2, 4, 5] };
  const probabilities = Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.6, 0.4]);
  assert.deepEqual(scoreHeldOut(photos, split, probabilities), {
    photos: 3,
    accuracy: 2 / 3,
    interval: wilsonInterval(2, 3),
    majorityBaseline: 1 / 3,
    right: [1, 1],
  });
  // sigmoid: train [[1, 0], [1, 1], [0, 0]] (majority [1, 0]); held out true [[1, 1], [0, 0]], predicted [[1, 0], [1, 0]].
  const multi: LabelledPhotos = {
    source: "labels.csv",
    activation: "sigmoid",
    labels: ["hat", "glasses"],
    photos: [
      [1, 0],
      [1, 1],
      [0, 0],
      [1, 1],
      [0, 0],
    ].map((t, i) => ({ file: `${i}`, path: `${i}`, targets: t })),
  };
  const score = scoreHeldOut(multi, { train: [0, 1, 2], heldOut: [3, 4] }, Float32Array.from([0.7, 0.2, 0.5, 0.4]));
  // hat right 1 of 2, glasses right 1 of 2: 0.5, 2 of 4 decisions; the majority [1, 0] scores the same 0.5; found: hat 1, glasses 0.
  assert.deepEqual(score, { photos: 2, accuracy: 0.5, interval: wilsonInterval(2, 4), majorityBaseline: 0.5, right: [1, 0] });
});
