/**
 * Scoring the systems' answers as a user meets them: "no face found" is an answer of its own
 * (wrong for expression and gender, left out of age errors but counted), and every headline
 * comes with the shape of the answers behind it: the predicted class distribution and per-class
 * recall for expression, error and mean prediction per decade for age (a model pulled to the
 * middle ages shows as young decades predicted old and old ones young), the predicted male share
 * for gender. Undefined values are NaN here and null in JSON.
 */
import { EXPRESSION_CLASSES } from "../../src/data/tasks.js";
import { accuracy, AGE_DECADES, cumulativeScore, decadeOf, meanAbsoluteError, meanClassAccuracy } from "../../src/transfer/metrics.js";
import type { FaceAnswer } from "./systems.js";
import type { TestFace, TestSet } from "./test-sets.js";

/** The predicted-class key of a face a system did not find. */
export const NO_FACE = "no face";

/** A system's answer on one test image: undefined where it found no face. */
export type Answer<T> = T | undefined;

export type ExpressionReport = {
  /** Share of all faces answered with their true class; no face found counts as wrong. */
  accuracy: number;
  /** Mean over the 7 classes of per-class recall (no face found counts as a miss). */
  balancedAccuracy: number;
  perClassRecall: Record<string, number>;
  /** Per true class, how its faces were answered (predictedCounts): where each class's misses go. */
  confusion: Record<string, Record<string, number>>;
};

/** How many answers fall in each of the 7 classes, and how many found no face. */
export function predictedCounts(predicted: readonly Answer<number>[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries([...EXPRESSION_CLASSES, NO_FACE].map((name) => [name, 0]));
  for (const c of predicted) counts[c === undefined ? NO_FACE : EXPRESSION_CLASSES[c]!]!++;
  return counts;
}

export function expressionReport(predicted: readonly Answer<number>[], targets: readonly number[]): ExpressionReport {
  // No face found is an extra class index that no target has: wrong for accuracy, a miss in the
  // true class's recall, and itself excluded from the mean (it has no faces of its own).
  const noFace = EXPRESSION_CLASSES.length;
  const asClasses = predicted.map((c) => c ?? noFace);
  const recall = meanClassAccuracy(asClasses, targets, EXPRESSION_CLASSES.length + 1);
  return {
    accuracy: accuracy(asClasses, targets),
    balancedAccuracy: recall.mean,
    perClassRecall: Object.fromEntries(EXPRESSION_CLASSES.map((name, c) => [name, recall.perLabel[c]!])),
    confusion: Object.fromEntries(
      EXPRESSION_CLASSES.map((name, c) => [name, predictedCounts(predicted.filter((_, i) => targets[i] === c))]),
    ),
  };
}

/** One decade of true age: its faces and their mean age; those found, their MAE and mean predicted age. */
export type DecadeRow = { decade: string; faces: number; meanTrue: number; found: number; mae: number; meanPredicted: number };
export type AgeReport = { faces: number; found: number; mae: number; cs5: number; perDecade: DecadeRow[] };

const mean = (values: readonly number[]) => (values.length === 0 ? NaN : values.reduce((s, v) => s + v, 0) / values.length);

/** MAE, CS@5 and the mean prediction over the faces found; per decade of the true age too. */
export function ageReport(predicted: readonly Answer<number>[], targets: readonly number[]): AgeReport {
  const found = targets.flatMap((age, i) => (predicted[i] === undefined ? [] : [{ age, guess: predicted[i]! }]));
  const score = (pairs: typeof found) =>
    pairs.length === 0
      ? NaN
      : meanAbsoluteError(
          pairs.map((p) => p.guess),
          pairs.map((p) => p.age),
        );
  const perDecade = AGE_DECADES.map((decade, d) => {
    const ages = targets.filter((age) => decadeOf(age) === d);
    const inDecade = found.filter((p) => decadeOf(p.age) === d);
    return {
      decade,
      faces: ages.length,
      meanTrue: mean(ages),
      found: inDecade.length,
      mae: score(inDecade),
      meanPredicted: mean(inDecade.map((p) => p.guess)),
    };
  });
  const cs5 =
    found.length === 0
      ? NaN
      : cumulativeScore(
          found.map((p) => p.guess),
          found.map((p) => p.age),
        );
  return { faces: targets.length, found: found.length, mae: score(found), cs5, perDecade };
}

export type GenderReport = {
  /** Share of all faces with the right answer; no face found (or no answer) counts as wrong. */
  accuracy: number;
  /** Share of the answers that say male. */
  predictedMaleShare: number;
  /** Share of the faces that are male. */
  trueMaleShare: number;
};

export function genderReport(predicted: readonly Answer<boolean>[], targets: readonly boolean[]): GenderReport {
  const answered = predicted.filter((male) => male !== undefined);
  // -1 for no answer never equals a 0/1 target.
  const asNumbers = predicted.map((male) => (male === undefined ? -1 : Number(male)));
  return {
    accuracy: accuracy(asNumbers, targets.map(Number)),
    predictedMaleShare: mean(answered.map(Number)),
    trueMaleShare: mean(targets.map(Number)),
  };
}

export type SystemScores = {
  faces: number;
  noFace: number;
  /** On every test set, labelled for expression or not: does it collapse onto a few classes? */
  predictedExpressions: Record<string, number>;
  expression?: ExpressionReport;
  age?: AgeReport;
  gender?: GenderReport;
};

/** One system's answers on the faces of a test set, scored on the tasks the set is labelled for. */
export function scoreAnswers(
  set: Pick<TestSet, "tasks">,
  faces: readonly TestFace[],
  answers: readonly Answer<FaceAnswer>[],
): SystemScores {
  const said = <K extends keyof FaceAnswer>(key: K) => answers.map((answer) => answer?.[key]);
  const truth = <K extends keyof TestFace>(key: K) => faces.map((face) => face[key]!);
  return {
    faces: faces.length,
    noFace: answers.filter((answer) => answer === undefined).length,
    predictedExpressions: predictedCounts(said("expression")),
    expression: set.tasks.includes("expression") ? expressionReport(said("expression"), truth("expression")) : undefined,
    age: set.tasks.includes("age") ? ageReport(said("age"), truth("age")) : undefined,
    gender: set.tasks.includes("gender") ? genderReport(said("male"), truth("male")) : undefined,
  };
}
