/**
 * Which face model to ship: two or more models on the validation faces of a multi-task run (the
 * recipe's split, never a test face), each run as it ships (its heads' balancing and mirror
 * averaging included). Per part of the run (each task, then each meta label such as UTKFace's
 * gender teaching `Male`) the headline and its improvement over the trivial baseline; their mean is
 * the metric the runs chose their checkpoints by. Then what a user would look at beside one mean:
 * expression's balanced accuracy and predicted class shares, age's error per decade.
 *
 *   npm run build && node dist/bench/compare-models.js --model a.safetensors --model b.safetensors
 *       [--cache ../cache] [--recipe recipes/finetune-multitask-v4.json] [--out bench/results/compare-models.json]
 */
import "./errors-without-stack.js";
import { parseArgs } from "node:util";
import { EXPRESSION_CLASSES } from "../src/data/tasks.js";
import { FacepriorError, invalidArgument } from "../src/errors.js";
import { createModelRunner, UNIT_RGB, type EncoderRunner } from "../src/face-model/encoder-runner.js";
import { readFaceModel, type FaceModel } from "../src/face-model/face-model.js";
import { writeJsonAtomic } from "../src/io/atomic-write.js";
import { imageBatch } from "../src/priors/cache-dataset.js";
import { taskMetrics, type TaskMetrics } from "../src/transfer/evaluate.js";
import type { DecadeError } from "../src/transfer/metrics.js";
import { columnOf, meanImprovement, type MultitaskTask } from "../src/transfer/multitask-finetune.js";
import { TRANSFER_TASKS, type TransferTaskName } from "../src/transfer/tasks/index.js";
import { validationTasks } from "./multitask-validation.js";

const { values: args } = parseArgs({
  options: {
    model: { type: "string", multiple: true },
    cache: { type: "string", default: "../cache" },
    recipe: { type: "string", default: "recipes/finetune-multitask-v4.json" },
    out: { type: "string", default: "bench/results/compare-models.json" },
  },
});
if ((args.model?.length ?? 0) < 2)
  throw invalidArgument("--model", "two or more face models, each after its own --model", args.model ?? []);

type PartScore = { part: string; task: TransferTaskName; faces: number; metrics: TaskMetrics; baseline: { name: string; value: number } };

/** One part's validation predictions by `runner`: its head's outputs, or the one output a meta label teaches. */
async function predict(runner: EncoderRunner, part: MultitaskTask): Promise<Float32Array> {
  const outputs = await runner.map(part.valFaces.length, (start, end) =>
    imageBatch(part.data.cache, part.valFaces.slice(start, end), UNIT_RGB.mean, UNIT_RGB.std),
  );
  const all = outputs[part.task]!;
  return part.output === undefined ? all : columnOf(all, all.length / part.valFaces.length, part.output);
}

async function scoreModel(model: FaceModel, parts: readonly MultitaskTask[]): Promise<PartScore[]> {
  const scores: PartScore[] = [];
  // One session per model, for all its parts.
  const runner = await createModelRunner(model, "onnx", 2, 32);
  try {
    for (const part of parts) scores.push(await scorePart(model, runner, part));
  } finally {
    await runner.dispose();
  }
  return scores;
}

async function scorePart(model: FaceModel, runner: EncoderRunner, part: MultitaskTask): Promise<PartScore> {
  if (!model.heads.some((h) => h.name === part.task))
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `${model.source}: has no ${part.task} head, which ${args.recipe} trains. Compare face models of the same tasks.`,
    );
  const labels = part.data.labelsOf(part.valFaces);
  const width = part.output === undefined ? part.data.columns.length : 1;
  return {
    part: part.name,
    task: part.task,
    faces: part.valFaces.length,
    metrics: taskMetrics(part.task, await predict(runner, part), labels, part.valFaces.length),
    baseline: TRANSFER_TASKS[part.task].trivialBaseline(part.data.labelsOf(part.trainFaces), labels, width),
  };
}

const { own, metaParts } = await validationTasks(args.recipe!, args.cache!);
const parts = [...own, ...metaParts];
const models = await Promise.all(args.model!.map((path) => readFaceModel(path)));
const results: { model: string; description: unknown; meanImprovement: number; parts: PartScore[] }[] = [];
for (const model of models) {
  console.error(`scoring ${model.source} on ${parts.reduce((n, p) => n + p.valFaces.length, 0)} validation faces`);
  const scores = await scoreModel(model, parts);
  // The file's own description names the model where its path (models/faceprior-default...) will not.
  results.push({ model: model.source, description: model.about.description, meanImprovement: meanImprovement(scores), parts: scores });
}

const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
const header = (first: string[]) =>
  [row([...first, ...results.map((r) => r.model)]), row([...first, ...results].map(() => "---"))].join("\n");
const scoreOf = (r: (typeof results)[number], part: string) => r.parts.find((p) => p.part === part)!;

console.log(`Validation faces of ${args.recipe}'s split, each model as it ships\n`);
console.log(header(["part", "faces", "metric"]));
for (const part of parts) {
  const first = scoreOf(results[0]!, part.name);
  console.log(
    row([
      part.name,
      first.faces,
      first.metrics.headline.name,
      ...results.map((r) => scoreOf(r, part.name).metrics.headline.value.toFixed(4)),
    ]),
  );
}
console.log(
  row(["mean improvement over the trivial baselines", "", "(selection metric)", ...results.map((r) => r.meanImprovement.toFixed(4))]),
);

if (parts.some((p) => p.name === "expression")) {
  console.log(`\nExpression: balanced accuracy, then each class's predicted share (true share)\n`);
  console.log(header(["", "true share"]));
  const expression = results.map((r) => scoreOf(r, "expression").metrics);
  console.log(row(["balanced accuracy", "", ...expression.map((m) => (m.meanClassAccuracy as { mean: number }).mean.toFixed(4))]));
  EXPRESSION_CLASSES.forEach((name, c) => {
    const trueShare = (expression[0]!.trueShare as number[])[c]!;
    console.log(row([name, trueShare.toFixed(3), ...expression.map((m) => (m.predictedShare as number[])[c]!.toFixed(3))]));
  });
}
if (parts.some((p) => p.name === "age")) {
  console.log(`\nAge: MAE / mean prediction per decade of the true age\n`);
  console.log(header(["decade", "faces"]));
  const decades = results.map((r) => scoreOf(r, "age").metrics.perDecade as DecadeError[]);
  decades[0]!.forEach((d, i) =>
    console.log(row([d.decade, d.faces, ...decades.map((m) => `${m[i]!.mae.toFixed(1)} / ${m[i]!.meanPredicted.toFixed(1)}`)])),
  );
}
await writeJsonAtomic(args.out!, { date: new Date().toISOString(), recipe: args.recipe, results });
console.log(`\nwritten to ${args.out}`);
