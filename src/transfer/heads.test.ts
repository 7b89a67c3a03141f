import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np, random, tree } from "../engine/jax.js";
import { adamw } from "../train/adamw.js";
import { makeTrainStep } from "../train/train-step.js";
import { headLogits } from "../model/vit.js";
import { initTaskHead, type TaskHead } from "./heads.js";
import { probeLoss, type ProbeBatch } from "./probe.js";
import { argmaxRows } from "./metrics.js";
import { TRANSFER_TASKS } from "./tasks/index.js";

test("the head is timm's fc_norm then head: logits by hand", () => {
  const head = {
    fc_norm: { weight: np.array([1, 2, 1]), bias: np.array([0, 0, 1]) },
    head: {
      weight: np.array([
        [1, 0, 0],
        [0, 1, -1],
      ]),
      bias: np.array([0.5, 0]),
    },
  };
  // [1, 2, 3] normalised: (x − 2) / sqrt(2/3 + 1e-6), then ·[1, 2, 1] + [0, 0, 1].
  const s = 1 / Math.sqrt(2 / 3 + 1e-6);
  const normed = [-s, 0, s + 1];
  const want = [normed[0]! + 0.5, normed[1]! - normed[2]!];
  const got = headLogits(head, np.array([[1, 2, 3]])).js() as number[][];
  got[0]!.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5, `logit ${i}: ${v} vs ${want[i]}`));
});

test("head init: weight N(0, initStd²) with bias 0, fc_norm only when asked", () => {
  const probe = initTaskHead(random.key(3), 64, 50);
  assert.equal(probe.fc_norm, undefined);
  const w = probe.head.weight.dataSync() as Float32Array;
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(std - 0.01) < 0.001, `std ${std}`);
  assert.deepEqual(probe.head.bias.js(), new Array(50).fill(0));
  const tuned = initTaskHead(random.key(3), 4, 2, { fcNorm: true, initStd: 2e-5 });
  assert.deepEqual(tuned.fc_norm!.weight.js(), [1, 1, 1, 1]);
  assert.ok(Math.max(...(tuned.head.weight.dataSync() as Float32Array).map(Math.abs)) < 1e-4);
});

test("the probe loss is the task loss of the head's logits, logged under the task's name", () => {
  const head = {
    head: {
      weight: np.array([
        [1, 0],
        [0, 1],
        [1, 1],
      ]),
      bias: np.zeros([3]),
    },
  };
  const features = [
    [0.5, -1],
    [2, 0],
  ];
  const classes = [2, 0];
  const loss = TRANSFER_TASKS.expression.makeLoss({ labelSmoothing: 0, classBalance: 0, classWeights: null });
  const [total, parts] = probeLoss("expression", loss)(
    head,
    { features: np.array(features), targets: np.array(classes, { dtype: np.int32 }) },
    random.key(0),
  );
  const want =
    features
      .map(([a, b], i) => {
        const z = [a!, b!, a! + b!];
        return Math.log(z.reduce((s, v) => s + Math.exp(v), 0)) - z[classes[i]!]!;
      })
      .reduce((s, v) => s + v, 0) / 2;
  const value = total.item();
  // jax-js's log is accurate to about 1.3e-5 absolute (measured).
  assert.ok(Math.abs(value - want) < 2e-5, `${value} vs ${want}`);
  assert.deepEqual(Object.keys(parts), ["expression"]);
  assert.equal(parts.expression!.item(), value);
});

test("the probe loss trains in the shared jitted step: a separable 3-class set is fitted", () => {
  // Class c sits around 2·e_c in 4-D; the fourth coordinate is noise.
  const classes = Array.from({ length: 12 }, (_, i) => i % 3);
  const features = classes.map((c, i) => [0, 1, 2, 3].map((d) => (d === c ? 2 : 0) + 0.3 * Math.sin(7 * i + d)));
  const task = TRANSFER_TASKS.expression;
  const lossFn = probeLoss("expression", task.makeLoss({ labelSmoothing: 0, classBalance: 0, classWeights: null }));
  const optimizer = adamw({ weightDecay: 0 });
  const step = makeTrainStep<TaskHead, ReturnType<typeof optimizer.init>, ProbeBatch>(lossFn, optimizer);
  let head = initTaskHead(random.key(5), 4, 3, { fcNorm: true });
  let state = optimizer.init(tree.ref(head));
  const losses: number[] = [];
  for (let i = 0; i < 40; i++) {
    const batch = { features: np.array(features), targets: np.array(classes, { dtype: np.int32 }) };
    const [next, nextState, metrics] = step(head, state, batch, random.key(i), np.array(0.05));
    [head, state] = [next, nextState];
    losses.push(metrics.loss.item());
    tree.dispose([metrics.parts, metrics.gradNorm, metrics.finite]);
  }
  step.dispose();
  const probs = task.predict(headLogits(head, np.array(features))).dataSync() as Float32Array;
  tree.dispose(state);
  assert.ok(losses[0]! > 1 && losses.at(-1)! < 0.1, `loss ${losses[0]} -> ${losses.at(-1)}`);
  assert.deepEqual([...argmaxRows(probs, 3)], classes);
});
