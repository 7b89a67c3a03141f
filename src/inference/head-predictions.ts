/**
 * A face model's head outputs read as named predictions, by each head's activation. No Node
 * imports: FaceAnalyzer and the browser demo (on onnxruntime-web's outputs) share it.
 */
import { FacepriorError } from "../errors.js";
import type { HeadSpec } from "../face-model/face-model.js";
import { predictsAge } from "../model/head-activations.js";

/** softmax: the most likely label and every label's probability. */
export type ClassPrediction = { kind: "class"; label: string; probability: number; probabilities: Record<string, number> };
/** sigmoid: each label's probability, independently. */
export type LabelsPrediction = { kind: "labels"; probabilities: Record<string, number> };
/** expected-age, median-age: a number, in the label's unit (years). */
export type ValuePrediction = { kind: "value"; value: number };

/** One head's reading of one face; `kind` tells which (or ask for one with predictionOf). */
export type HeadPrediction = ClassPrediction | LabelsPrediction | ValuePrediction;

/**
 * Head `head` of a face, checked to be of `kind` and typed as such:
 *
 *   predictionOf(face, "expression", "class").label   // "happy"
 *   predictionOf(face, "age", "value").value          // 31.4
 *   predictionOf(face, "au", "labels").probabilities  // { AU1: 0.70, ... }
 *
 * Throws BAD_ARGUMENT naming the heads the model has when `head` is not one of them, or its kind
 * when that is another.
 */
export function predictionOf<K extends HeadPrediction["kind"]>(
  face: { predictions: Record<string, HeadPrediction> },
  head: string,
  kind: K,
): Extract<HeadPrediction, { kind: K }> {
  const prediction = face.predictions[head];
  if (!prediction) {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `predictionOf: the model has no head "${head}"; it has ${
        Object.keys(face.predictions)
          .map((h) => `"${h}"`)
          .join(", ") || "none"
      }. Pass one of them.`,
    );
  }
  if (prediction.kind !== kind) {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `predictionOf: head "${head}" is a "${prediction.kind}" head, not "${kind}". Pass "${prediction.kind}".`,
    );
  }
  return prediction as Extract<HeadPrediction, { kind: K }>;
}

/** Head outputs (flat, per face) -> named predictions. */
export function readPredictions(
  heads: readonly Pick<HeadSpec, "name" | "activation" | "labels">[],
  outputs: Record<string, Float32Array>,
  face: number,
): Record<string, HeadPrediction> {
  return Object.fromEntries(
    heads.map((head) => {
      const values = outputs[head.name]!;
      if (predictsAge(head.activation)) return [head.name, { kind: "value", value: values[face]! }];
      const k = head.labels.length;
      const row = values.subarray(face * k, (face + 1) * k);
      const probabilities = Object.fromEntries(head.labels.map((label, i) => [label, row[i]!]));
      if (head.activation === "sigmoid") return [head.name, { kind: "labels", probabilities }];
      const best = row.reduce((b, v, i) => (v > row[b]! ? i : b), 0);
      return [head.name, { kind: "class", label: head.labels[best]!, probability: row[best]!, probabilities }];
    }),
  );
}
