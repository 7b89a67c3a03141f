import assert from "node:assert/strict";
import { test } from "node:test";
import { EXPRESSION_CLASSES } from "../../src/data/tasks.js";
import { describeMapping, expressionClassOf, FACE_API_EXPRESSIONS, HUMAN_EMOTIONS } from "./labels.js";

test("each peer's expression labels map one to one onto the 7 classes", () => {
  for (const [system, labels] of [
    ["human", HUMAN_EMOTIONS],
    ["face-api", FACE_API_EXPRESSIONS],
  ] as const) {
    const classes = labels.map((label) => expressionClassOf(system, label));
    assert.deepEqual([...classes].sort(), [0, 1, 2, 3, 4, 5, 6], system);
  }
  assert.deepEqual(
    FACE_API_EXPRESSIONS.map((label) => EXPRESSION_CLASSES[expressionClassOf("face-api", label)]),
    ["neutral", "happy", "sad", "angry", "fear", "disgust", "surprise"],
  );
});

test("the mapping is described for the report, renamed labels first", () => {
  assert.equal(describeMapping("human", HUMAN_EMOTIONS), "one to one, same names");
  assert.equal(
    describeMapping("face-api", FACE_API_EXPRESSIONS),
    "one to one: fearful -> fear, disgusted -> disgust, surprised -> surprise; the others by name",
  );
});

test("an expression label outside the 7 classes is an error naming the system", () => {
  assert.throws(() => expressionClassOf("face-api", "contempt"), /face-api answered the expression "contempt"/);
});
