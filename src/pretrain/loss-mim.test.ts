import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np, random } from "../engine/jax.js";
import { maxAbsDiff } from "../../test/support/numerics.js";
import { maskedMse, mimLoss, pixelTargets } from "./loss-mim.js";

// A 4x4 image, patch 2: L = 4 patches of P = 3·2·2 = 12 values, in (c, i, j) order.
const S = 4;
const pixel = (c: number, y: number, x: number) => Math.sin(1.3 * c + 0.7 * y * y + 0.45 * x + 0.1 * y * x) * (1 + c);
const image = Float32Array.from({ length: 3 * S * S }, (_, k) => pixel(Math.floor(k / 16), Math.floor(k / 4) % 4, k % 4));
const images = () => np.array(image).reshape([1, 3, S, S]);

/** Patch l's 12 values by hand, (c, i, j) order, optionally standardised with the unbiased variance. */
function handTarget(l: number, norm: boolean): number[] {
  const [row, col] = [Math.floor(l / 2), l % 2];
  const values: number[] = [];
  for (let c = 0; c < 3; c++) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) values.push(pixel(c, 2 * row + i, 2 * col + j));
  if (!norm) return values;
  const mean = values.reduce((a, b) => a + b, 0) / 12;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / 11;
  return values.map((v) => (v - mean) / Math.sqrt(variance + 1e-6));
}

test("L_mim equals the hand-computed per-patch MSE on normalised pixels, over masked patches only", () => {
  const pred = Array.from({ length: 4 }, (_, l) => Array.from({ length: 12 }, (_, k) => Math.cos(l + 0.3 * k)));
  const mask = [1, 0, 1, 1];
  for (const norm of [true, false]) {
    const perPatch = pred.map((row, l) => row.reduce((s, v, k) => s + (v - handTarget(l, norm)[k]!) ** 2, 0) / 12);
    const expected = (perPatch[0]! + perPatch[2]! + perPatch[3]!) / 3;
    const got = maskedMse(np.array(pred).reshape([1, 4, 12]), pixelTargets(images(), 2, norm), np.array([mask])).js() as number;
    assert.ok(Math.abs(got - expected) < 1e-5 * expected, `normPix ${norm}: ${got} vs ${expected}`);
  }
});

test("L_mim is zero when the decoder predicts the normalised target, and ignores visible patches", () => {
  // decoder_pred = identity on 12-wide tokens that already hold the target.
  const identity = { weight: np.eye(12), bias: np.zeros([12]) };
  const target = pixelTargets(images(), 2, true);
  const mask = np.array([[1, 0, 1, 1]]);
  const zero = mimLoss(identity, target.ref, images(), mask.ref, { patchSize: 2, normPixLoss: true }).js() as number;
  assert.ok(Math.abs(zero) < 1e-10, `loss ${zero}`);
  // Wrong predictions at the visible patch (1) cost nothing; at a masked one they do.
  const noise = random.normal(random.key(1), [1, 4, 12]);
  const atVisible = np.array([[0, 1, 0, 0]]).reshape([1, 4, 1]);
  const spoiled = mimLoss({ weight: np.eye(12), bias: np.zeros([12]) }, target.ref.add(noise.ref.mul(atVisible)), images(), mask.ref, {
    patchSize: 2,
    normPixLoss: true,
  });
  assert.ok(Math.abs(spoiled.js() as number) < 1e-10);
  const wrong = mimLoss({ weight: np.eye(12), bias: np.zeros([12]) }, target.add(noise), images(), mask, {
    patchSize: 2,
    normPixLoss: true,
  });
  assert.ok((wrong.js() as number) > 0.1);
});

test("with norm_pix, a patch's brightness and contrast do not change its target", () => {
  const plain = pixelTargets(images(), 2, true).dataSync();
  const shifted = pixelTargets(images().mul(2.5).add(-0.7), 2, true).dataSync();
  const worst = maxAbsDiff(plain, shifted);
  assert.ok(worst < 1e-4, `max difference ${worst}`);
});
