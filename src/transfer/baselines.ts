/**
 * Trivial baselines for the report: what each metric gives when the prediction ignores the
 * image. Each takes the training labels (what a constant predictor may know) and the test
 * labels (what it is scored on), in the layouts of metrics.ts.
 *
 * - expression: always the most frequent training class. On a class-balanced set (our
 *   fer2013 subset) this is about 1/7 accuracy, and its mean class accuracy is exactly
 *   1 / (classes present in the test set).
 * - age: always the mean training age; MAE and CS@5 of that constant.
 * - attributes: per attribute, always the training majority value; accuracy per attribute and
 *   the mean over them. This is the reference CelebA papers quote (about 80% mean accuracy).
 * - AU: predicting every AU present. Its F1 on a label with positive rate p in the test fold is
 *   TP = pN, FP = (1−p)N, FN = 0, so 2pN / (2pN + (1−p)N) = 2p / (1+p): the usual "chance"
 *   reference for AU F1. Predicting every AU absent gives F1 = 0 on every scored label, which
 *   says nothing; `constantF1(..., 0)` computes it for completeness. Both use the exclusion rule
 *   of `f1FromCounts` (labels without a test positive are not scored).
 */
import { FacepriorError } from "../errors.js";
import {
  accuracy,
  attributeAccuracy,
  cumulativeScore,
  meanAbsoluteError,
  meanClassAccuracy,
  multiLabelF1,
  type PerLabel,
} from "./metrics.js";

/** F1 per label and its mean when every prediction is `value` (1: all present, 0: all absent); targets [N, K]. */
export function constantF1(targets: ArrayLike<number>, numLabels: number, value: 0 | 1): PerLabel {
  return multiLabelF1(new Float64Array(targets.length).fill(value), targets, numLabels);
}

/** The most frequent class of targets [N]; ties go to the lower class index. */
export function majorityClass(targets: ArrayLike<number>, numClasses: number): number {
  if (targets.length === 0) {
    throw new FacepriorError("BAD_ARGUMENT", "majorityClass: the training targets are empty. Pass at least one label.");
  }
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < targets.length; i++) {
    const c = targets[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new FacepriorError("BAD_ARGUMENT", `majorityClass: target ${i} is ${c}. Class indices must be integers 0-${numClasses - 1}.`);
    }
    counts[c]!++;
  }
  return counts.reduce((best, count, c) => (count > counts[best]! ? c : best), 0);
}

export type ClassBaseline = { predictedClass: number; accuracy: number; meanClassAccuracy: PerLabel };

/** Expression: always the majority training class; scored on test targets [M]. */
export function majorityClassBaseline(trainTargets: ArrayLike<number>, testTargets: ArrayLike<number>, numClasses: number): ClassBaseline {
  const predictedClass = majorityClass(trainTargets, numClasses);
  const predicted = new Int32Array(testTargets.length).fill(predictedClass);
  return {
    predictedClass,
    accuracy: accuracy(predicted, testTargets),
    meanClassAccuracy: meanClassAccuracy(predicted, testTargets, numClasses),
  };
}

export type AgeBaseline = { predictedAge: number; mae: number; cs5: number };

/** Age: always the mean training age (unclipped years); scored on test ages [M]. */
export function meanAgeBaseline(trainAges: ArrayLike<number>, testAges: ArrayLike<number>): AgeBaseline {
  if (trainAges.length === 0) {
    throw new FacepriorError("BAD_ARGUMENT", "meanAgeBaseline: the training ages are empty. Pass at least one age.");
  }
  let sum = 0;
  for (let i = 0; i < trainAges.length; i++) sum += trainAges[i]!;
  const predictedAge = sum / trainAges.length;
  const predicted = new Float64Array(testAges.length).fill(predictedAge);
  return { predictedAge, mae: meanAbsoluteError(predicted, testAges), cs5: cumulativeScore(predicted, testAges) };
}

export type AttributeBaseline = { predicted: number[]; accuracy: PerLabel };

/**
 * Attributes: per attribute, always the training majority value (a tie, exactly half positive,
 * predicts 0); trainLabels [N, K], testLabels [M, K].
 */
export function attributeMajorityBaseline(
  trainLabels: ArrayLike<number>,
  testLabels: ArrayLike<number>,
  numLabels: number,
): AttributeBaseline {
  const n = trainLabels.length / numLabels;
  if (!Number.isInteger(n) || n < 1) {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `attributeMajorityBaseline: ${trainLabels.length} training values do not make rows of ${numLabels} labels. ` +
        "Pass row-major [N, K] labels, N >= 1.",
    );
  }
  const predicted = Array.from({ length: numLabels }, (_, j) => {
    let positives = 0;
    for (let i = 0; i < n; i++) positives += trainLabels[i * numLabels + j]!;
    return positives * 2 > n ? 1 : 0;
  });
  const constant = Float64Array.from({ length: testLabels.length }, (_, i) => predicted[i % numLabels]!);
  return { predicted, accuracy: attributeAccuracy(constant, testLabels, numLabels) };
}
