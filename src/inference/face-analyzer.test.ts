/** The library API as the README shows it: the example script runs and prints what it promises. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { REPO_ROOT } from "../../test/support/shared-data.js";
import { FacepriorError } from "../errors.js";
import { DEFAULT_MODEL_PATH, predictionOf, readPredictions } from "./face-analyzer.js";

const skip = await access(DEFAULT_MODEL_PATH).then(
  () => false,
  () => `the bundled model ${DEFAULT_MODEL_PATH} is missing`,
);

test("heads' outputs become named predictions: top class, per-label probabilities, a value", () => {
  const heads = [
    { name: "expression", activation: "softmax" as const, labels: ["neutral", "happy"] },
    { name: "au", activation: "sigmoid" as const, labels: ["AU6", "AU12"] },
    { name: "age", activation: "expected-age" as const, labels: ["age"] },
  ];
  // Two faces; face 1 is read.
  const outputs = {
    expression: Float32Array.from([0.9, 0.1, 0.3, 0.7]),
    au: Float32Array.from([0.1, 0.2, 0.8, 0.6]),
    age: Float32Array.from([20, 41.5]),
  };
  const p = readPredictions(heads, outputs, 1);
  assert.deepEqual(p.expression, {
    kind: "class",
    label: "happy",
    probability: Float32Array.from([0.7])[0],
    probabilities: { neutral: Float32Array.from([0.3])[0], happy: Float32Array.from([0.7])[0] },
  });
  assert.deepEqual(p.au, { kind: "labels", probabilities: { AU6: Float32Array.from([0.8])[0], AU12: Float32Array.from([0.6])[0] } });
  assert.deepEqual(p.age, { kind: "value", value: 41.5 });
});

test("predictionOf returns the head asked for, typed by its kind, and names the model's heads when it cannot", () => {
  const face = {
    predictions: {
      expression: { kind: "class" as const, label: "happy", probability: 0.7, probabilities: { neutral: 0.3, happy: 0.7 } },
      age: { kind: "value" as const, value: 41.5 },
    },
  };
  assert.equal(predictionOf(face, "expression", "class").label, "happy");
  assert.equal(predictionOf(face, "age", "value").value, 41.5);
  assert.throws(
    () => predictionOf(face, "au", "labels"),
    (e: unknown) =>
      e instanceof FacepriorError &&
      e.code === "BAD_ARGUMENT" &&
      e.message === 'predictionOf: the model has no head "au"; it has "expression", "age". Pass one of them.',
  );
  assert.throws(
    () => predictionOf(face, "age", "class"),
    (e: unknown) => e instanceof FacepriorError && e.message === 'predictionOf: head "age" is a "value" head, not "class". Pass "value".',
  );
});

test("the README's library example (examples/analyze.mjs) analyses and embeds the example photo", { skip }, async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(REPO_ROOT, "examples", "analyze.mjs")], { cwd: REPO_ROOT });
  assert.match(
    stdout,
    /^face at \(\d+, \d+\): (angry|disgust|fear|happy|sad|surprise|neutral) \d\.\d\d, age \d+, AUs [\w ]*\nembedding: 192 numbers, engine (onnx|jax)\n$/,
  );
});
