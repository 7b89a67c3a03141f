/**
 * What mirror averaging (test-time flip) adds to a face model, on each task's validation faces:
 * the multi-task run's held-out part of training (FER2013's PublicTest, 10% of UTKFace's and
 * CelebA-HQ's training faces, CK+ fold 0's validation subjects), never a test face, since this is
 * how model v3.3 chose to average. Each face is scored three ways with the model's own heads:
 * alone, mirrored, and as the mean of the two's features (what `mirrorAverage` models compute).
 * Faces come from the prior caches (aligned as `analyze` aligns them), so no detection runs.
 *
 *   npm run build && node dist/bench/mirror-average.js [--model models/faceprior-default.safetensors]
 *       [--cache ../cache] [--recipe recipes/finetune-multitask-v3.3.json] [--out bench/results/mirror-average.json]
 */
import "./errors-without-stack.js";
import { parseArgs } from "node:util";
import { flipImage } from "../src/augment/flip.js";
import { createModelRunner, UNIT_RGB } from "../src/face-model/encoder-runner.js";
import { readFaceModel, type FaceModel } from "../src/face-model/face-model.js";
import { writeJsonAtomic } from "../src/io/atomic-write.js";
import { imageBatch } from "../src/priors/cache-dataset.js";
import type { MultitaskTask } from "../src/transfer/multitask-finetune.js";
import { taskMetrics, type TaskMetrics } from "../src/transfer/evaluate.js";
import { validationTasks } from "./multitask-validation.js";

const { values: args } = parseArgs({
  options: {
    model: { type: "string", default: "models/faceprior-default.safetensors" },
    cache: { type: "string", default: "../cache" },
    recipe: { type: "string", default: "recipes/finetune-multitask-v3.3.json" },
    out: { type: "string", default: "bench/results/mirror-average.json" },
  },
});

/** The head's predictions for these faces, the model run with or without mirror averaging, on mirrored faces or not. */
async function predictions(model: FaceModel, set: MultitaskTask, how: string) {
  const runner = await createModelRunner({ ...model, mirrorAverage: how === "averaged" }, "onnx", 2, 32);
  const size = set.data.cache.index.options.size;
  const mirror = how === "mirrored" ? (image: Uint8Array) => flipImage(image, size) : undefined;
  try {
    const outputs = await runner.map(set.valFaces.length, (start, end) =>
      imageBatch(set.data.cache, set.valFaces.slice(start, end), UNIT_RGB.mean, UNIT_RGB.std, mirror),
    );
    return outputs[set.task]!;
  } finally {
    await runner.dispose();
  }
}

const model = await readFaceModel(args.model!);
const WAYS = ["alone", "mirrored", "averaged"] as const;
console.log(`${model.source} on validation faces (${args.recipe}'s split)\n`);
console.log(`| task | faces | metric | ${WAYS.join(" | ")} |\n| --- | --- | --- | --- | --- | --- |`);
const rows = [];
for (const set of (await validationTasks(args.recipe!, args.cache!)).own) {
  const { task } = set;
  if (!model.heads.some((h) => h.name === task)) continue;
  const faces = set.valFaces.length;
  const labels = set.data.labelsOf(set.valFaces);
  const scores: Partial<Record<(typeof WAYS)[number], TaskMetrics>> = {};
  for (const how of WAYS) scores[how] = taskMetrics(task, await predictions(model, set, how), labels, faces);
  rows.push({ task, faces, scores });
  const metric = (name: string, of: (m: TaskMetrics) => number) =>
    console.log(`| ${task} | ${faces} | ${name} | ${WAYS.map((how) => of(scores[how]!).toFixed(4)).join(" | ")} |`);
  metric(scores.alone!.headline.name, (m) => m.headline.value);
  if (task === "expression") metric("balanced accuracy", (m) => (m.meanClassAccuracy as { mean: number }).mean);
}
await writeJsonAtomic(args.out!, { date: new Date().toISOString(), model: model.source, recipe: args.recipe, rows });
console.log(`\nwritten to ${args.out}`);
