/**
 * The lowered step against jax-js on tiny models of every loss the project trains: the four task
 * losses on a fine-tuned ViT (classification with label smoothing, DLDL age, multi-label BCE with
 * positive weights, attributes), and pretraining with every prior loss (the component task's two
 * views included), plus the tiny classifier whose loss draws noise from the key (the host prelude).
 * Checked: loss, parts and gradients, then the optimizer step from those gradients (clipping,
 * AdamW with weight and layer decay), each output within 1e-4 of its scale. The two compose to
 * the whole training step; compared whole, a step differs more where a gradient is near 0 (a
 * key bias's is 1e-9 noise), since Adam's first update there is g / (|g| + 1e-8) on both engines.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { skipUnlessOnnxRuntime } from "../../../test/support/onnx-runtime.js";
import { maxAbsDiff } from "../../../test/support/numerics.js";
import * as tinyClassifier from "../../../test/fixtures/train/tiny-classifier.js";
import { jit, numpy as np, random, tree, valueAndGrad, type Array as JaxArray } from "../jax.js";
import { headLogits as taskHeadLogits, initVit, poolTokens, vitFeatures, type VitParams } from "../../model/vit.js";
import { initMae } from "../../pretrain/mae.js";
import { makePretrainLoss } from "../../pretrain/pretrain-loss.js";
import { PRETRAIN_VARIANTS } from "../../pretrain/variants.js";
import { syntheticPretrainBatch } from "../../../test/support/synthetic-pretrain-batch.js";
import { adamw } from "../../train/adamw.js";
import { meanUpdate, type LossFn } from "../../train/train-step.js";
import type { Tree } from "../../train/tree-names.js";
import { initTaskHead, type TaskHead } from "../../transfer/heads.js";
import { taskLoss, TRANSFER_TASKS, type TransferTaskName } from "../../transfer/tasks/index.js";
import { CELEBA_ATTRIBUTES } from "../../data/tasks.js";
import { compileForOnnxRuntime } from "./onnx-function.js";
import { tinyMaeConfig } from "../../../test/support/tiny-mae.js";

const skip = await skipUnlessOnnxRuntime();
const MAE = tinyMaeConfig();
const ENCODER = MAE.encoder;
const BATCH = 6;

/** Each flat output of `fn` on both engines; the worst error relative to each output's scale. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function compare(
  fn: (...args: any[]) => unknown,
  args: unknown[],
  hostArguments: number[],
): Promise<{ worst: number; outputs: number }> {
  const compiled = await compileForOnnxRuntime(fn as never, args as never, { hostArguments, threads: 2 });
  try {
    const flatArgs = args.map((arg, i) => (hostArguments.includes(i) ? null : (tree.leaves(tree.ref(arg as Tree)) as JaxArray[])));
    const hostData = await Promise.all(
      flatArgs.flatMap((leaves, i) => leaves ?? tree.leaves(args[i] as Tree).map(() => null)).map((a) => a && a.data()),
    );
    const keys = hostArguments.flatMap((i) => tree.leaves(tree.ref(args[i] as Tree)) as JaxArray[]);
    const lowered = await compiled.run(hostData as never, keys);
    const reference = tree.leaves((jit(fn as never) as unknown as (...a: unknown[]) => Tree)(...args)) as JaxArray[];
    assert.equal(lowered.length, reference.length);
    let worst = 0;
    for (const [i, ref] of reference.entries()) {
      const expected = Float64Array.from((await ref.data()) as ArrayLike<number>);
      const got = Float64Array.from(lowered[i] as ArrayLike<number>);
      const scale = Math.max(1e-3, ...expected.map(Math.abs));
      worst = Math.max(worst, maxAbsDiff(expected, got) / scale);
    }
    return { worst, outputs: reference.length };
  } finally {
    await compiled.dispose();
  }
}

/** Loss, parts and gradients (`valueAndGrad` with aux) of `loss` at `params`, and the optimizer step from those gradients. */
async function checkLoss<P extends Tree, B extends Tree>(name: string, loss: LossFn<P, B>, params: () => P, batch: () => B) {
  const lossAndGrads = valueAndGrad(loss as (p: Tree, b: Tree, key: JaxArray) => [JaxArray, Tree], { hasAux: true });
  const gradients = (p: P, b: B, key: JaxArray) => lossAndGrads(p, b, key);
  const grads = await compare(gradients, [params(), batch(), random.key(5)], [2]);
  const optimizer = adamw({ weightDecay: 0.05, layerDecay: 0.75 });
  const p = params();
  const [[value, parts], g] = (gradients as (...a: unknown[]) => unknown)(tree.ref(p), batch(), random.key(5)) as [[JaxArray, Tree], P];
  const update = meanUpdate<P, ReturnType<typeof optimizer.init>>(optimizer, { clipNorm: 1 }, 1);
  const stepped = await compare(update, [p, optimizer.init(tree.ref(p)), { grads: g, loss: value, parts }, np.array(1e-3)], []);
  console.log(
    `# ${name}: gradients ${grads.outputs} outputs, worst error ${grads.worst.toExponential(2)} of scale; optimizer step ${stepped.outputs} outputs, ${stepped.worst.toExponential(2)}`,
  );
  assert.ok(grads.worst < 1e-4, `${name}: gradients differ by ${grads.worst} of their scale`);
  assert.ok(stepped.worst < 1e-4, `${name}: the step differs by ${stepped.worst} of its outputs' scale`);
}

/** Deterministic pseudo-random values in [-1, 1). */
const wave = (n: number, seed: number) => Float32Array.from({ length: n }, (_, k) => Math.sin(12.9898 * (k + 1) + 78.233 * seed) % 1);

type FineTuned = VitParams & TaskHead;
const LABELS: Record<TransferTaskName, () => number[][]> = {
  expression: () => globalThis.Array.from({ length: BATCH }, (_, i) => [i % 7]),
  age: () => globalThis.Array.from({ length: BATCH }, (_, i) => [3 + 17 * i]),
  au: () => globalThis.Array.from({ length: BATCH }, (_, i) => [i % 2, (i >> 1) % 2, 1, i === 3 ? 1 : 0]),
  attributes: () =>
    globalThis.Array.from({ length: BATCH }, (_, i) => globalThis.Array.from({ length: 40 }, (_, k) => ((i + k) % 3 === 0 ? 1 : 0))),
};
const COLUMNS: Record<TransferTaskName, readonly string[]> = {
  expression: ["expression"],
  age: ["age"],
  au: ["AU1", "AU2", "AU4", "AU6"],
  attributes: CELEBA_ATTRIBUTES,
};

/** Loss weights from the recipe: ages 3, 20, ..., 88 fall in decades 0, 2, 3, 5, 7, 7, so their weights differ. */
const BALANCED: Partial<Record<TransferTaskName, object>> = { expression: { classBalance: 1 }, age: { ageBalance: 1 } };

for (const task of ["expression", "age", "au", "attributes"] as TransferTaskName[]) {
  test(`lowered ${task} fine-tuning step matches jax-js`, { skip }, async () => {
    const def = TRANSFER_TASKS[task];
    const rows = LABELS[task]();
    const columns = COLUMNS[task];
    // Expression also takes the recipe's key-drawn DropPath (host prelude) and class weights; age its decade weights.
    const recipe = task === "expression";
    const { loss: taskLossFn } = taskLoss(task, rows, BALANCED[task] ?? {});
    const loss: LossFn<FineTuned, { images: JaxArray; targets: JaxArray }> = (params, batch, key) => {
      const dropPath = recipe ? { rate: 0.3, key } : (key.dispose(), undefined);
      const { fc_norm, head, ...vit } = params;
      const logits = taskHeadLogits(
        fc_norm ? { fc_norm, head } : { head },
        poolTokens(vitFeatures(vit, batch.images, ENCODER, dropPath), "avg"),
      );
      const value = taskLossFn(logits, batch.targets);
      return [value.ref, { [task]: value }];
    };
    const params = () => ({
      ...initVit(random.key(1), ENCODER),
      ...initTaskHead(random.key(2), ENCODER.embedDim, def.numOutputs(columns), { fcNorm: true, initStd: 0.02 }),
    });
    const batch = () => ({ images: np.array(wave(BATCH * 3 * 32 * 32, 1)).reshape([BATCH, 3, 32, 32]), targets: def.targets(rows) });
    await checkLoss(task, loss, params, batch);
  });
}

test("lowered tiny classifier step (noise drawn from the key on the host) matches jax-js", { skip }, async () => {
  await checkLoss(
    "classifier with key noise",
    tinyClassifier.loss,
    () => tinyClassifier.init(random.key(0)),
    () => tinyClassifier.batch([0, 1, 2, 3, 4, 5]),
  );
});

for (const variant of ["mae", "full"] as const) {
  test(`lowered ${variant} pretraining step matches jax-js`, { skip }, async () => {
    const loss = makePretrainLoss({ mae: MAE, weights: PRETRAIN_VARIANTS[variant], temperature: 0.1, jitter: 0.4 });
    const heads = { pixel: true, patch: true, component: true };
    await checkLoss(
      `${variant} pretraining`,
      loss,
      () => initMae(random.key(0), MAE, heads),
      () => syntheticPretrainBatch(BATCH),
    );
  });
}
