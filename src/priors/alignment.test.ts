import assert from "node:assert/strict";
import { test } from "node:test";
import { transformPoints, type Affine } from "../data/affine-warp.js";
import { similarityTransform, templateForSize } from "./alignment.js";

test("similarityTransform recovers a known rotation, scale and shift exactly", () => {
  const angle = 0.3;
  const scale = 1.7;
  const known: Affine = [scale * Math.cos(angle), -scale * Math.sin(angle), 12, scale * Math.sin(angle), scale * Math.cos(angle), -5];
  const src = Float32Array.from([10, 20, 40, 22, 25, 35, 14, 50, 38, 49]);
  const fitted = similarityTransform(src, transformPoints(src, known));
  fitted.forEach((v, i) => assert.ok(Math.abs(v - known[i]!) < 1e-4, `coefficient ${i}: ${v} vs ${known[i]}`));
});

test("alignment puts five points taken from a similarity of the template within 2 px of it at 112", () => {
  const template = templateForSize(112);
  // Detected points: the template moved by a similarity, plus detector noise of up to 1.5 px.
  const seen = transformPoints(template, [0.8, 0.3, 40, -0.3, 0.8, 70]).map((v, i) => v + Math.sin(i * 7.1) * 1.5);
  const aligned = transformPoints(Float32Array.from(seen), similarityTransform(Float32Array.from(seen), template));
  for (let p = 0; p < 5; p++) {
    const err = Math.hypot(aligned[2 * p]! - template[2 * p]!, aligned[2 * p + 1]! - template[2 * p + 1]!);
    assert.ok(err < 2, `point ${p} lands ${err.toFixed(2)} px from the template`);
  }
});

test("the template scales with the crop size", () => {
  assert.deepEqual(
    [...templateForSize(224)].map((v) => +v.toFixed(4)),
    [...templateForSize(112)].map((v) => +(2 * v).toFixed(4)),
  );
});
