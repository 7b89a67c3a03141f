/**
 * Each peer's expression labels, as it names them, onto the project's 7 classes
 * (EXPRESSION_CLASSES). Both peers know the same 7 basic expressions, so the mapping is one to
 * one: Human uses the project's own names; face-api says fearful, disgusted and surprised,
 * which the project's aliases (EXPRESSION_ALIASES) already read as fear, disgust and surprise.
 * No class is merged or dropped.
 */
import { FacepriorError } from "../../src/errors.js";
import { EXPRESSION_CLASSES, expressionIndex } from "../../src/data/tasks.js";

/** @vladmandic/human's emotion labels (its `Emotion` type), in its model's output order. */
export const HUMAN_EMOTIONS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"] as const;

/** @vladmandic/face-api's expression labels (its `FaceExpressions` keys), in its model's output order. */
export const FACE_API_EXPRESSIONS = ["neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"] as const;

/** The project's class index of one of a system's expression labels. */
export function expressionClassOf(system: string, label: string): number {
  const index = expressionIndex(label);
  if (index === undefined) {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `${system} answered the expression "${label}", which is none of ${EXPRESSION_CLASSES.join(", ")} nor an alias of one. Add its mapping to bench/peers/labels.ts.`,
    );
  }
  return index;
}

/** The mapping in words, for the report: "fearful -> fear, ...; the others by name". */
export function describeMapping(system: string, labels: readonly string[]): string {
  const renamed = labels.filter((label) => EXPRESSION_CLASSES[expressionClassOf(system, label)] !== label);
  const pairs = renamed.map((label) => `${label} -> ${EXPRESSION_CLASSES[expressionClassOf(system, label)]}`);
  return pairs.length === 0 ? "one to one, same names" : `one to one: ${pairs.join(", ")}; the others by name`;
}
