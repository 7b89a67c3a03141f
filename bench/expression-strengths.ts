/**
 * What a face model's expression head answers at other balancing strengths (issue #12; MODEL_CARD
 * "Known limits"). A multi-task run balances the head by subtracting τ·log(training share) from
 * each logit, τ chosen on FER2013's validation faces (logit-adjustment.ts). This re-balances the
 * shipped probabilities on the host, log p + (τ_shipped − τ)·log prior, for each τ of the grid the
 * run chose from (τ_shipped 0 for a head left unbalanced, as in model v3.3), and reports:
 *   - FER2013 PrivateTest (labelled): accuracy and balanced accuracy;
 *   - UTKFace and CelebA-HQ test faces (colour photos without expression labels): how often each
 *     class is answered, UTKFace split at age 50, where it over-answers disgust.
 * Faces come from the prior caches (aligned as `analyze` aligns them), so no detection runs.
 *
 *   npm run build && node dist/bench/expression-strengths.js [--model models/faceprior-default.safetensors]
 *       [--cache ../cache] [--out bench/results/expression-strengths.json]
 */
import "./errors-without-stack.js";
import { parseArgs } from "node:util";
import { EXPRESSION_CLASSES } from "../src/data/tasks.js";
import { splitDataset } from "../src/data/splits.js";
import { FacepriorError } from "../src/errors.js";
import { createModelRunner, UNIT_RGB, type EncoderRunner } from "../src/face-model/encoder-runner.js";
import { readFaceModel, type FaceModel } from "../src/face-model/face-model.js";
import { writeJsonAtomic } from "../src/io/atomic-write.js";
import { facesOfRows, imageBatch } from "../src/priors/cache-dataset.js";
import { ADJUSTMENT_STRENGTHS, logGroupPrior } from "../src/transfer/logit-adjustment.js";
import { accuracy, meanClassAccuracy } from "../src/transfer/metrics.js";
import { loadTaskCaches } from "../src/transfer/task-data.js";
import type { TransferTaskName } from "../src/transfer/tasks/index.js";

const { values: args } = parseArgs({
  options: {
    model: { type: "string", default: "models/faceprior-default.safetensors" },
    cache: { type: "string", default: "../cache" },
    out: { type: "string", default: "bench/results/expression-strengths.json" },
  },
});

const K = EXPRESSION_CLASSES.length;
/** Where UTKFace's answers are split: the showcase and the peers bench found disgust on older faces. */
const OLDER = 50;

type TestFaces = { probabilities: Float32Array; labels: Float32Array; count: number };

/**
 * The shipped head's balancing, as the run recorded it in the model's metadata; a head left
 * unbalanced is at τ 0, with the prior of its training faces (FER2013's and its extra faces'
 * training parts, as the multi-task run takes them).
 */
async function shippedBalance(model: FaceModel, cache: string): Promise<{ tau: number; logPrior: number[] }> {
  const recorded = (model.about.logitAdjustment as Record<string, { tau: number; logPrior: number[] }> | undefined)?.expression;
  if (recorded) return recorded;
  if (!model.heads.some((h) => h.name === "expression")) {
    throw new FacepriorError("BAD_CHECKPOINT", `${model.source}: no expression head. Pass a model with one, e.g. the bundled model.`);
  }
  const data = await loadTaskCaches("expression", [`${cache}/fer2013`, `${cache}/fer2013_extra`]);
  const trainFaces = [...facesOfRows(data.primary, splitDataset(data.dataset).train), ...data.extraFaces];
  return { tau: 0, logPrior: logGroupPrior(Array.from(data.labelsOf(trainFaces)), K) };
}

/** The model's expression probabilities and the task's labels on one dataset's test faces. */
async function testFaces(runner: EncoderRunner, task: TransferTaskName, cacheDir: string): Promise<TestFaces> {
  const data = await loadTaskCaches(task, [cacheDir]);
  const faces = facesOfRows(data.primary, splitDataset(data.dataset).test);
  const outputs = await runner.run(imageBatch(data.cache, faces, UNIT_RGB.mean, UNIT_RGB.std), faces.length);
  // The runner's output buffers are reused by its next run: keep a copy.
  return { probabilities: outputs.expression!.slice(), labels: data.labelsOf(faces), count: faces.length };
}

/** Each face's class after moving the balancing from `shipped` to `tau`. */
function classesAt(set: TestFaces, logPrior: readonly number[], shipped: number, tau: number): Int32Array {
  return Int32Array.from({ length: set.count }, (_, i) => {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < K; c++) {
      const score = Math.log(set.probabilities[i * K + c]!) + (shipped - tau) * logPrior[c]!;
      if (score > bestScore) [best, bestScore] = [c, score];
    }
    return best;
  });
}

function answerCounts(classes: ArrayLike<number>): Record<string, number> {
  const counts = Object.fromEntries(EXPRESSION_CLASSES.map((name) => [name, 0]));
  for (let i = 0; i < classes.length; i++) counts[EXPRESSION_CLASSES[classes[i]!]!]!++;
  return counts;
}

const model = await readFaceModel(args.model!);
const { tau: shipped, logPrior } = await shippedBalance(model, args.cache!);
const runner = await createModelRunner(model, "onnx", 2, 32);
const fer = await testFaces(runner, "expression", `${args.cache}/fer2013`);
const utk = await testFaces(runner, "age", `${args.cache}/utkface`);
const celeba = await testFaces(runner, "attributes", `${args.cache}/celebahq_attr`);
await runner.dispose();
const older = Array.from(utk.labels, (age) => age >= OLDER);

const rows = ADJUSTMENT_STRENGTHS.map((tau) => {
  const ferClasses = classesAt(fer, logPrior, shipped, tau);
  const utkClasses = classesAt(utk, logPrior, shipped, tau);
  return {
    tau,
    shipped: tau === shipped,
    fer: { accuracy: accuracy(ferClasses, fer.labels), balancedAccuracy: meanClassAccuracy(ferClasses, fer.labels, K).mean },
    utkface: {
      younger: answerCounts(utkClasses.filter((_, i) => !older[i])),
      older: answerCounts(utkClasses.filter((_, i) => older[i])),
    },
    celebahq: answerCounts(classesAt(celeba, logPrior, shipped, tau)),
  };
});

const olderCount = older.filter(Boolean).length;
const counts = (c: Record<string, number>) => EXPRESSION_CLASSES.map((name) => c[name]).join(", ");
console.log(`${model.source}: expression balanced at τ ${shipped}; answers are counts of ${EXPRESSION_CLASSES.join(", ")}\n`);
console.log(
  `| τ | FER2013 accuracy (${fer.count}) | balanced | UTKFace under ${OLDER} (${utk.count - olderCount}) | UTKFace ${OLDER}+ (${olderCount}) | CelebA-HQ (${celeba.count}) |`,
);
console.log("| --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  const tau = r.shipped ? `**${r.tau}** (shipped)` : `${r.tau}`;
  console.log(
    `| ${tau} | ${r.fer.accuracy.toFixed(4)} | ${r.fer.balancedAccuracy.toFixed(4)} | ${counts(r.utkface.younger)} | ${counts(r.utkface.older)} | ${counts(r.celebahq)} |`,
  );
}
await writeJsonAtomic(args.out!, { date: new Date().toISOString(), model: model.source, shippedTau: shipped, rows });
console.log(`\nwritten to ${args.out}`);
