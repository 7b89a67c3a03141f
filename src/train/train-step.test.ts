import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np, random, tree, type Array as JaxArray } from "../engine/jax.js";
import { startEngine } from "../engine/engine.js";
import { adamw, type AdamWState } from "./adamw.js";
import { makeAccumulatedStep, makeTrainStep, trainStepFunction, type StepMetrics } from "./train-step.js";
import { assertTreesClose, deviceTree, hostValues } from "../../test/fixtures/train/host-tree.js";
import * as tiny from "../../test/fixtures/train/tiny-classifier.js";

await startEngine();

// A linear regression head whose loss is a mean over the batch: y ≈ x·Wᵀ + b.
type Linear = { head: { weight: JaxArray; bias: JaxArray } };
type Regression = { x: JaxArray; y: JaxArray };

function linearParams(): Linear {
  return deviceTree({
    "head.weight": { shape: [2, 3], values: [0.3, -0.2, 0.5, 0.1, 0.4, -0.6] },
    "head.bias": { shape: [2], values: [0.05, -0.1] },
  }) as Linear;
}

function regressionBatch(rows: number[], poison?: number): Regression {
  const x = rows.flatMap((r) => [Math.sin(r), Math.cos(2 * r), r / 8]);
  const y = rows.flatMap((r) => [2 * Math.sin(r) - r / 8, Math.cos(2 * r) + 1]);
  if (poison !== undefined) x[0] = poison;
  return { x: np.array(x).reshape([rows.length, 3]), y: np.array(y).reshape([rows.length, 2]) };
}

function meanSquaredError(params: Linear, { x, y }: Regression, key: JaxArray): [JaxArray, Record<string, JaxArray>] {
  key.dispose();
  const prediction = np.matmul(x, params.head.weight.transpose()).add(params.head.bias);
  const mse = np.square(prediction.sub(y)).sum(-1).mean();
  return [mse.ref, { mse }];
}

async function scalars(m: StepMetrics): Promise<Record<string, number>> {
  const [loss, gradNorm, finite, mse] = [m.loss, m.gradNorm, m.finite, m.parts.mse!].map((a) => a.jsAsync());
  return { loss: await loss!, gradNorm: await gradNorm!, finite: Number(await finite!), mse: await mse! };
}

test("2 accumulated half batches give the same 2 updates as full batches", async () => {
  // Clipping at 0.5 is active (the gradient norm is above it), so the mean is taken before clipping.
  const optimizer = adamw({ weightDecay: 0.1 });
  const full = makeTrainStep<Linear, AdamWState, Regression>(meanSquaredError, optimizer, { clipNorm: 0.5 });
  const accumulated = makeAccumulatedStep<Linear, AdamWState, Regression>(meanSquaredError, optimizer, { clipNorm: 0.5 });
  let [p1, p2] = [linearParams(), linearParams()];
  let [s1, s2] = [optimizer.init(tree.ref(p1)), optimizer.init(tree.ref(p2))];
  for (const [start, lr] of [
    [0, 0.1],
    [8, 0.05],
  ] as const) {
    const rows = Array.from({ length: 8 }, (_, i) => start + i);
    const [a, b, m1] = full(p1, s1, regressionBatch(rows), random.key(0), np.array(lr));
    const halves = [regressionBatch(rows.slice(0, 4)), regressionBatch(rows.slice(4))];
    const [c, d, m2] = accumulated(p2, s2, halves, random.key(0), np.array(lr));
    [p1, s1, p2, s2] = [a, b, c, d];
    const [v1, v2] = [await scalars(m1), await scalars(m2)];
    assert.ok(v1.gradNorm > 0.5, `the clip must be active, grad norm ${v1.gradNorm}`);
    for (const key of ["loss", "gradNorm", "mse", "finite"]) {
      assert.ok(Math.abs(v1[key]! - v2[key]!) <= 1e-6 * Math.abs(v1[key]!), `${key}: ${v1[key]} vs ${v2[key]}`);
    }
  }
  assertTreesClose(await hostValues(p2), await hostValues(p1), 1e-5, 1e-7);
  assertTreesClose(await hostValues(s2.nu), await hostValues(s1.nu), 1e-5, 1e-10);
  const [moved, start] = [await hostValues(p1), await hostValues(linearParams())];
  assert.ok(Math.abs(moved["head.weight"]![0]! - start["head.weight"]![0]!) > 1e-2, "the updates must move the parameters");
  full.dispose();
  accumulated.dispose();
  tree.dispose([p1, p2, s1, s2]);
});

test("the jitted step equals the eager step on the tiny ViT, key-dependent noise included", async () => {
  // eps = 1 keeps Adam from blowing rounding noise up to full-size steps: the key bias of
  // attention has a zero gradient in exact arithmetic, so with eps = 1e-8 its update is noise.
  const optimizer = adamw({ eps: 1, weightDecay: 0.05, layerDecay: 0.75 });
  const eager = trainStepFunction<tiny.Params, AdamWState, tiny.Batch>(tiny.loss, optimizer, { clipNorm: 1 });
  const jitted = makeTrainStep<tiny.Params, AdamWState, tiny.Batch>(tiny.loss, optimizer, { clipNorm: 1 });
  let [pe, pj] = [tiny.init(random.key(1)), tiny.init(random.key(1))];
  let [se, sj] = [optimizer.init(tree.ref(pe)), optimizer.init(tree.ref(pj))];
  for (const step of [0, 1]) {
    const rows = [0, 1, 2, 3, 4, 5].map((i) => i + 6 * step);
    const [a, b, me] = eager(pe, se, tiny.batch(rows), random.key(10 + step), np.array(0.5));
    const [c, d, mj] = jitted(pj, sj, tiny.batch(rows), random.key(10 + step), np.array(0.5));
    [pe, se, pj, sj] = [a, b, c, d];
    const [le, lj] = [await me.loss.ref.jsAsync(), await mj.loss.ref.jsAsync()];
    assert.ok(Math.abs(le - lj) <= 1e-5 * le, `step ${step} loss: eager ${le}, jit ${lj}`);
    tree.dispose([me, mj]);
  }
  assertTreesClose(await hostValues(pj), await hostValues(pe), 1e-5, 1e-7);
  jitted.dispose();
  tree.dispose([pe, pj, se, sj]);
});

test("the finite flag is computed on device: false for NaN or Inf inputs, true otherwise", async () => {
  const optimizer = adamw();
  const step = makeTrainStep<Linear, AdamWState, Regression>(meanSquaredError, optimizer, { clipNorm: 1 });
  const rows = [0, 1, 2, 3];
  for (const [poison, finite] of [
    [undefined, 1],
    [NaN, 0],
    [Infinity, 0],
  ] as const) {
    const params = linearParams();
    const [p, s, m] = step(params, optimizer.init(tree.ref(params)), regressionBatch(rows, poison), random.key(0), np.array(0.1));
    const values = await scalars(m);
    assert.equal(values.finite, finite, `poison ${poison}: finite ${values.finite}, loss ${values.loss}`);
    tree.dispose([p, s]);
  }
  step.dispose();
});
