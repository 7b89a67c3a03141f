import assert from "node:assert/strict";
import { test } from "node:test";
import { ageReport, expressionReport, genderReport, NO_FACE, predictedCounts, scoreAnswers } from "./scores.js";
import { AGE_DECADES, decadeOf } from "../../src/transfer/metrics.js";

test("ages fall in decades 0-9 ... 60-69, and 70+ for every older age", () => {
  assert.deepEqual(
    [0, 9, 10, 19, 69, 70, 116].map((age) => AGE_DECADES[decadeOf(age)]),
    ["0-9", "0-9", "10-19", "10-19", "60-69", "70+", "70+"],
  );
});

test("no face found is a wrong expression answer and a miss in its true class's recall", () => {
  // angry, angry, happy, happy: one angry face not found, one happy face called angry.
  const report = expressionReport([0, undefined, 3, 0], [0, 0, 3, 3]);
  assert.equal(report.accuracy, 0.5);
  assert.equal(report.perClassRecall.angry, 0.5);
  assert.equal(report.perClassRecall.happy, 0.5);
  assert.ok(Number.isNaN(report.perClassRecall.sad!));
  assert.equal(report.balancedAccuracy, 0.5);
  assert.deepEqual(
    [report.confusion.angry!.angry, report.confusion.angry![NO_FACE], report.confusion.happy!.happy, report.confusion.happy!.angry],
    [1, 1, 1, 1],
    "each class's answers, the face not found among them",
  );
  assert.equal(
    Object.values(report.confusion.sad!).reduce((a, b) => a + b),
    0,
    "a class without faces has no answers",
  );
});

test("predicted class counts show a collapse onto one class, and the faces not found", () => {
  const counts = predictedCounts([3, 3, 3, undefined]);
  assert.equal(counts.happy, 3);
  assert.equal(counts[NO_FACE], 1);
  assert.equal(counts.angry, 0);
});

test("age per decade shows a pull to the middle; faces not found are counted but not scored", () => {
  const report = ageReport([30, 50, undefined], [5, 75, 40]);
  assert.equal(report.found, 2);
  assert.equal(report.mae, 25);
  assert.deepEqual(report.perDecade[0], { decade: "0-9", faces: 1, meanTrue: 5, found: 1, mae: 25, meanPredicted: 30 });
  assert.deepEqual(report.perDecade[7], { decade: "70+", faces: 1, meanTrue: 75, found: 1, mae: 25, meanPredicted: 50 });
  assert.equal(report.perDecade[4]!.found, 0);
  assert.ok(Number.isNaN(report.perDecade[4]!.mae));
});

test("gender: no answer is wrong; the predicted male share is over the answers", () => {
  const report = genderReport([true, undefined, false, true], [true, true, false, false]);
  assert.equal(report.accuracy, 0.5);
  assert.equal(report.predictedMaleShare, 2 / 3);
  assert.equal(report.trueMaleShare, 0.5);
});

test("answers are scored only on the tasks a test set is labelled for", () => {
  const faces = [
    { file: "a", male: true },
    { file: "b", male: false },
  ];
  const scores = scoreAnswers({ tasks: ["gender"] }, faces, [{ expression: 3, age: 30, male: true }, undefined]);
  assert.equal(scores.noFace, 1);
  assert.equal(scores.gender?.accuracy, 0.5);
  assert.equal(scores.predictedExpressions.happy, 1);
  assert.equal(scores.expression, undefined);
  assert.equal(scores.age, undefined);
});
