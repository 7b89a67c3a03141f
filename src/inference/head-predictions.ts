/**
 * A face model's head outputs read as named predictions, by each head's activation. No Node
 * imports: FaceAnalyzer and the browser demo (on onnxruntime-web's outputs) share it.
 */
import type { HeadSpec } from "./face-model.js";

/** One head's reading of one face. */
export type HeadPrediction =
  /** softmax: the most likely label and every label's probability. */
  | { kind: "class"; label: string; probability: number; probabilities: Record<string, number> }
  /** sigmoid: each label's probability, independently. */
  | { kind: "labels"; probabilities: Record<string, number> }
  /** expected-age: a number, in the label's unit (years). */
  | { kind: "value"; value: number };

/** Head outputs (flat, per face) -> named predictions. */
export function readPredictions(heads: readonly Pick<HeadSpec, "name" | "activation" | "labels">[], outputs: Record<string, Float32Array>, face: number): Record<string, HeadPrediction> {
  return Object.fromEntries(heads.map((head) => {
    const values = outputs[head.name]!;
    if (head.activation === "expected-age") return [head.name, { kind: "value", value: values[face]! }];
    const k = head.labels.length;
    const row = values.subarray(face * k, (face + 1) * k);
    const probabilities = Object.fromEntries(head.labels.map((label, i) => [label, row[i]!]));
    if (head.activation === "sigmoid") return [head.name, { kind: "labels", probabilities }];
    const best = row.reduce((b, v, i) => (v > row[b]! ? i : b), 0);
    return [head.name, { kind: "class", label: head.labels[best]!, probability: row[best]!, probabilities }];
  }));
}
