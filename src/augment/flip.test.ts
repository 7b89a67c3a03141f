import assert from "node:assert/strict";
import { test } from "node:test";
import { FacepriorError } from "../errors.js";
import { PARSING_CLASSES, type FaceSample } from "../priors/face-sample.js";
import { MESH_INDEX_OF_68, MIRROR_68, landmarks68FromMesh } from "../priors/landmarks68.js";
import { NO_SWAP_PAIRS, flipLabels, flipSample, meshMirrorTable } from "./flip.js";
import { syntheticSample } from "../../test/support/synthetic-sample.js";
import { teacherUVMap } from "../priors/teacher.js";

const uvMap = teacherUVMap();
const meshMirror = meshMirrorTable(uvMap);
const S = 32;
const classId = (name: (typeof PARSING_CLASSES)[number]) => PARSING_CLASSES.indexOf(name);
const point = (points: Float32Array, i: number) => [points[2 * i]!, points[2 * i + 1]!];

test("the mesh mirror table is an involution that pairs the teacher's known left/right points", () => {
  assert.equal(meshMirror.length, 478);
  meshMirror.forEach((j, i) => assert.equal(meshMirror[j], i, `mirror(mirror(${i})) = ${meshMirror[j]}`));
  // Eye outer corners, mouth corners, irises; the nose tip (1) and chin (152) lie on the midline.
  for (const [a, b] of [
    [33, 263],
    [61, 291],
    [468, 473],
    [470, 475],
    [1, 1],
    [152, 152],
  ] as const)
    assert.equal(meshMirror[a], b, `mirror(${a})`);
  assert.equal(meshMirror.filter((j, i) => j === i && i < 468).length, 28, "midline points");
});

test("the mesh mirror table maps each iBUG landmark's mesh point to its MIRROR_68 partner's", () => {
  const wrong = MESH_INDEX_OF_68.flatMap((m, i) => {
    const expected = MESH_INDEX_OF_68[MIRROR_68[i]!]!;
    return meshMirror[m] === expected ? [] : [`landmark ${i}: mesh ${m} mirrors to ${meshMirror[m]}, MIRROR_68 says ${expected}`];
  });
  assert.deepEqual(wrong, []);
});

test("meshMirrorTable rejects a UV map that is not left-right symmetric, naming the point", () => {
  const broken = uvMap.map(([u, v], i) => (i === 33 ? ([u + 0.05, v] as const) : ([u, v] as const)));
  assert.throws(
    () => meshMirrorTable(broken),
    (e: unknown) => e instanceof FacepriorError && /point 33 /.test(e.message),
  );
  assert.throws(() => meshMirrorTable(uvMap.slice(1)), /468 finite \[u, v\] pairs, got 467/);
});

test("flipping twice gives back the image and parsing exactly, and the points exactly on a 1/256 grid", () => {
  const sample = syntheticSample(S, 1, { grid: 256 });
  const twice = flipSample(flipSample(sample, meshMirror), meshMirror);
  assert.deepEqual(twice, sample);
});

test("flipping twice moves arbitrary float32 points by at most one float32 step at S", () => {
  const sample = syntheticSample(S, 2);
  const twice = flipSample(flipSample(sample, meshMirror), meshMirror);
  assert.deepEqual([twice.image, twice.parsing], [sample.image, sample.parsing]);
  const step = S * 2 ** -23;
  for (const key of ["landmarks68", "mesh"] as const) {
    twice[key].forEach((v, i) => assert.ok(Math.abs(v - sample[key][i]!) <= step, `${key}[${i}]: ${v} vs ${sample[key][i]}`));
  }
  assert.ok(
    twice.mesh.some((v, i) => v !== sample.mesh[i]),
    "expected some float32 rounding; the bound above would be vacuous",
  );
});

test("one flip mirrors pixels and swaps eye corners: landmark 36 lands where 45 was, reflected", () => {
  const sample = syntheticSample(S, 3);
  const flipped = flipSample(sample, meshMirror);
  for (const [a, b] of [
    [36, 45],
    [45, 36],
    [0, 16],
    [48, 54],
    [30, 30],
  ] as const) {
    const [x, y] = point(sample.landmarks68, b);
    assert.deepEqual(point(flipped.landmarks68, a), [Math.fround(S - x!), y], `landmark ${a}`);
  }
  for (const [row, col] of [
    [0, 0],
    [5, 9],
    [31, 30],
  ] as const) {
    const at = 3 * (row * S + col);
    const mirroredAt = 3 * (row * S + S - 1 - col);
    assert.deepEqual(flipped.image.subarray(mirroredAt, mirroredAt + 3), sample.image.subarray(at, at + 3), `pixel (${row}, ${col})`);
  }
  // The flipped landmarks are still the 68-point subset of the flipped mesh.
  assert.deepEqual(flipped.landmarks68, landmarks68FromMesh(flipped.mesh));
});

test("one flip moves parsing classes to the mirrored column and swaps left and right", () => {
  const sample: FaceSample = { ...syntheticSample(S, 4), parsing: new Uint8Array(S * S) };
  const put = (row: number, col: number, name: (typeof PARSING_CLASSES)[number]) => (sample.parsing[row * S + col] = classId(name));
  put(10, 4, "left_eye");
  put(11, 20, "right_eye");
  put(3, 7, "left_brow");
  put(3, 25, "right_brow");
  put(20, 16, "upper_lip");
  const flipped = flipSample(sample, meshMirror);
  const at = (row: number, col: number) => PARSING_CLASSES[flipped.parsing[row * S + col]!];
  assert.deepEqual(
    [at(10, S - 1 - 4), at(11, S - 1 - 20), at(3, S - 1 - 7), at(3, S - 1 - 25), at(20, S - 1 - 16)],
    ["right_eye", "left_eye", "right_brow", "left_brow", "upper_lip"],
  );
  assert.equal(flipped.parsing.filter((c) => c !== 0).length, 5);
});

test("flipSample refuses a mirror table that is not an involution, and an unknown parsing class", () => {
  const sample = syntheticSample(S, 5);
  const bad = [...meshMirror];
  bad[33] = 34;
  assert.throws(() => flipSample(sample, bad), /not an involution at 33→34/);
  sample.parsing[S + 2] = PARSING_CLASSES.length;
  assert.throws(() => flipSample(sample, meshMirror), /parsing class 10 at row 1, column 2/);
});

test("flipLabels swaps only the declared column pairs and leaves its input alone", () => {
  const labels = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5]);
  assert.deepEqual(
    flipLabels(labels, [
      [0, 3],
      [1, 4],
    ]),
    Float32Array.from([0.4, 0.5, 0.3, 0.1, 0.2]),
  );
  assert.deepEqual(labels, Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5]));
  const none = flipLabels([1, 0, 1], NO_SWAP_PAIRS);
  assert.deepEqual(none, [1, 0, 1]);
  assert.throws(() => flipLabels(labels, [[0, 5]]), /column 5, which is outside 0\.\.4/);
  assert.throws(
    () =>
      flipLabels(labels, [
        [0, 1],
        [1, 2],
      ]),
    /column 1, which is already in another pair/,
  );
});
