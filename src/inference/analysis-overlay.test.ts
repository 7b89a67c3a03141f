/** The captions of `analyze --overlay`: every head of the model, a head added by add-head included. */
import assert from "node:assert/strict";
import { test } from "node:test";
import sharp from "sharp";
import { analysisOverlay, captionLines } from "./analysis-overlay.js";
import type { AnalyzedFace, HeadPrediction } from "./face-analyzer.js";

/** The default model's four heads, then a fifth as `add-head --name glasses` adds it. */
const PREDICTIONS: Record<string, HeadPrediction> = {
  au: { kind: "labels", probabilities: { AU1: 0.7, AU6: 0.9, AU12: 0.8, AU25: 0.2 } },
  expression: { kind: "class", label: "happy", probability: 0.41, probabilities: { happy: 0.41, neutral: 0.3, sad: 0.29 } },
  age: { kind: "value", value: 22.2 },
  attributes: { kind: "labels", probabilities: { Smiling: 0.71, Young: 0.83, Male: 0.25 } },
  glasses: { kind: "class", label: "no_glasses", probability: 0.88, probabilities: { glasses: 0.12, no_glasses: 0.88 } },
};

test("a face's caption has a line for every head, the fifth (added) one too", () => {
  assert.deepEqual(captionLines(PREDICTIONS), [
    "au: AU6 0.90, AU12 0.80, AU1 0.70",
    "expression: happy 0.41",
    "age: 22.2",
    "attributes: Young 0.83, Smiling 0.71,…",
    "glasses: no_glasses 0.88",
  ]);
});

test("the overlay's face tile grows to hold every head's line", async () => {
  const size = 8;
  const face: AnalyzedFace = {
    score: 1,
    box: { x: 1, y: 1, width: 6, height: 6 },
    landmarks: [],
    predictions: PREDICTIONS,
    aligned: { size, image: new Uint8Array(size * size * 3), parsing: new Uint8Array(size * size), landmarks: new Float32Array() },
  };
  const rgb = { width: 300, height: 100, channels: 3 as const, data: new Uint8Array(300 * 100 * 3) };
  const heightWith = async (heads: number) => {
    const predictions = Object.fromEntries(Object.entries(PREDICTIONS).slice(0, heads));
    return (await sharp(await analysisOverlay(rgb, [{ ...face, predictions }])).metadata()).height!;
  };
  assert.equal((await heightWith(5)) - (await heightWith(4)), 13, "one more 13-pixel caption line");
});
