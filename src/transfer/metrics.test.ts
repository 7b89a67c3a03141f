import assert from "node:assert/strict";
import { test } from "node:test";
import {
  classShares,
  maeByDecade,
  accuracy,
  argmaxRows,
  attributeAccuracy,
  binaryCounts,
  confusionMatrix,
  cumulativeScore,
  meanAbsoluteError,
  macroF1OfConfusion,
  meanClassAccuracy,
  multiLabelF1,
  wilsonInterval,
} from "./metrics.js";

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual}, expected ${expected}`);

// Six labels over five samples, each label one F1 case (hand-computed in the comments).
const PROBS = [
  [0.9, 0.2, 0.1, 0.6, 0.1, 0.9],
  [0.8, 0.7, 0.3, 0.4, 0.1, 0.0],
  [0.3, 0.6, 0.2, 0.5, 0.1, 0.0],
  [0.6, 0.1, 0.4, 0.1, 0.1, 0.0],
  [0.1, 0.4, 0.0, 0.2, 0.1, 0.0],
].flat();
const TARGETS = [
  [1, 0, 0, 0, 1, 0],
  [1, 1, 0, 0, 0, 0],
  [0, 0, 0, 1, 0, 0],
  [1, 1, 0, 0, 0, 0],
  [0, 1, 0, 0, 0, 0],
].flat();

test("multi-label F1: each edge case gets its documented value, and the mean skips undefined labels", () => {
  const result = multiLabelF1(PROBS, TARGETS, 6);
  // 0: TP 3 → 1.  1: TP 1, FP 1, FN 2 → 2/5.  2: no positive, no prediction → NaN.
  // 3: p = 0.5 counts as positive: TP 1, FP 1 → 2/3.  4: a positive, never predicted → 0.
  // 5: no positive but one false positive → NaN (AU protocols score only AUs that occur).
  const expected = [1, 0.4, NaN, 2 / 3, 0, NaN];
  result.perLabel.forEach((f1, j) => {
    if (Number.isNaN(expected[j]!)) assert.ok(Number.isNaN(f1), `label ${j}: ${f1}, expected NaN`);
    else close(f1, expected[j]!, `label ${j}`);
  });
  close(result.mean, (1 + 0.4 + 2 / 3 + 0) / 4, "mean F1");
  assert.deepEqual(result.excluded, [2, 5]);
});

test("binary counts split every sample into TP, FP, FN, TN per label", () => {
  assert.deepEqual(binaryCounts(PROBS, TARGETS, 6)[1], { tp: 1, fp: 1, fn: 2, tn: 1 });
});

test("mean F1 is NaN when no label has a positive", () => {
  const result = multiLabelF1([0.9, 0.1], [0, 0], 1);
  assert.ok(Number.isNaN(result.mean));
  assert.deepEqual(result.excluded, [0]);
});

// Four classes; class 3 never occurs in the targets but is predicted once.
const PREDICTED = [0, 1, 0, 1, 3, 2];
const TRUE = [0, 0, 0, 1, 1, 2];

test("accuracy, confusion matrix (rows true, columns predicted) and mean class accuracy without an absent class", () => {
  close(accuracy(PREDICTED, TRUE), 4 / 6, "accuracy");
  assert.deepEqual(confusionMatrix(PREDICTED, TRUE, 4), [
    [2, 1, 0, 0],
    [0, 1, 0, 1],
    [0, 0, 1, 0],
    [0, 0, 0, 0],
  ]);
  const mca = meanClassAccuracy(PREDICTED, TRUE, 4);
  close(mca.mean, (2 / 3 + 1 / 2 + 1) / 3, "mean class accuracy");
  assert.ok(Number.isNaN(mca.perLabel[3]!));
  assert.deepEqual(mca.excluded, [3]);
});

test("macro F1 counts over-answered classes against precision, absent classes left out", () => {
  // Class 0: TP 2, FP 0, FN 1 -> 4/5; class 1: TP 1, FP 1, FN 1 -> 1/2; class 2: 1; class 3 never true.
  const f1 = macroF1OfConfusion(confusionMatrix(PREDICTED, TRUE, 4));
  [4 / 5, 1 / 2, 1].forEach((v, c) => close(f1.perLabel[c]!, v, `class ${c}`));
  close(f1.mean, (4 / 5 + 1 / 2 + 1) / 3, "macro F1");
  assert.deepEqual(f1.excluded, [3]);
  // Answering class 0 for every face keeps its recall at 1 but its precision at 1/2: F1 2/3.
  close(macroF1OfConfusion(confusionMatrix([0, 0, 0, 0], [0, 0, 1, 1], 2)).perLabel[0]!, 2 / 3, "all class 0");
});

test("argmax of each row, ties to the lower class", () => {
  assert.deepEqual([...argmaxRows([0.2, 0.4, 0.4, 0.5, 0.1, 0.4], 3)], [1, 0]);
});

test("age MAE in years and CS@5 with the 5-year bound inclusive", () => {
  const predicted = [20.5, 30, 41, 60, 10];
  const truth = [25, 30, 35, 50, 15];
  close(meanAbsoluteError(predicted, truth), (4.5 + 0 + 6 + 10 + 5) / 5, "MAE");
  close(cumulativeScore(predicted, truth), 3 / 5, "CS@5");
  close(cumulativeScore(predicted, truth, 6), 4 / 5, "CS@6");
});

test("attribute accuracy per attribute and its mean", () => {
  const probs = [0.7, 0.2, 0.4, 0.9, 0.5, 0.1, 0.2, 0.6];
  const targets = [1, 0, 0, 1, 0, 0, 0, 1];
  const result = attributeAccuracy(probs, targets, 2);
  assert.deepEqual(result.perLabel, [3 / 4, 1]);
  close(result.mean, 0.875, "mean accuracy");
  assert.deepEqual(result.excluded, []);
});

test("bad inputs are refused with the function, the problem and the fix", () => {
  assert.throws(
    () => multiLabelF1([0.1, 0.2, 0.3], [0, 1], 1),
    /^FacepriorError: multiLabelF1: predictions hold 3 values and targets 2\. Pass both as the same \[N, K\] shape\.$/,
  );
  assert.throws(() => multiLabelF1([0.1, 0.2, 0.3], [0, 1, 1], 2), /do not split into rows of 2 labels/);
  assert.throws(() => multiLabelF1([0.1], [2], 1), /target 0 is 2\. Binary targets must be 0 or 1/);
  assert.throws(() => confusionMatrix([0, 4], [0, 1], 4), /prediction 1 is 4\. Class indices must be integers 0-3/);
  assert.throws(() => accuracy([], []), /there are no samples/);
  assert.throws(() => meanAbsoluteError([NaN], [3]), /age 0 is NaN predicted/);
});

test("class shares: the fraction of rows per class, absent classes 0", () => {
  assert.deepEqual(classShares([3, 3, 0, 3], 5), [0.25, 0, 0, 0.75, 0]);
  assert.throws(() => classShares([5], 5), /classShares/);
});

test("MAE per decade of true age, with the mean prediction, empty decades left out and 70+ open-ended", () => {
  const truth = [3, 8, 25, 71, 95];
  const predicted = [13, 8, 20, 60, 70];
  assert.deepEqual(maeByDecade(predicted, truth), [
    { decade: "0-9", faces: 2, mae: 5, meanPredicted: 10.5 },
    { decade: "20-29", faces: 1, mae: 5, meanPredicted: 20 },
    { decade: "70+", faces: 2, mae: 18, meanPredicted: 65 },
  ]);
});

test("the Wilson interval, by hand: 3 of 4 right is 0.30-0.95 at 95%, not a point at 0 or n, [0, 1] with no trials", () => {
  // centre (p + z²/2n) / (1 + z²/n), half-width z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n), z = 1.96:
  // 3 of 4: (0.75 + 0.4802) / 1.9604 = 0.62753 ± 1.96·sqrt(0.046875 + 0.060025) / 1.9604 = 0.32689.
  const [low, high] = wilsonInterval(3, 4);
  assert.ok(Math.abs(low - 0.30064) < 1e-4 && Math.abs(high - 0.95442) < 1e-4, `${low}, ${high}`);
  // 4 of 4 right: the upper end is 1, the lower end well below it (p ± z·SE would give [1, 1]).
  const [allLow, allHigh] = wilsonInterval(4, 4);
  assert.ok(Math.abs(allLow - 0.51009) < 1e-4 && allHigh === 1, `${allLow}, ${allHigh}`);
  assert.deepEqual(wilsonInterval(0, 0), [0, 1]);
});
