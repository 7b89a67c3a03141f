import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np, random } from "../../engine/jax.js";
import { CELEBA_ATTRIBUTES } from "../../data/tasks.js";
import { TRANSFER_TASK_NAMES, TRANSFER_TASKS, taskLoss } from "./index.js";

test("the task table is frozen and covers the four labelled tasks", () => {
  assert.deepEqual([...TRANSFER_TASK_NAMES], ["au", "expression", "age", "attributes"]);
  assert.ok(Object.isFrozen(TRANSFER_TASKS));
  for (const name of TRANSFER_TASK_NAMES) {
    assert.ok(Object.isFrozen(TRANSFER_TASKS[name]), `${name} is frozen`);
    assert.equal(TRANSFER_TASKS[name].task, name);
  }
});

test("each task's head gives K logits for its label columns, and predict decodes them", () => {
  const columns = { au: ["AU1", "AU4", "AU12"], expression: ["expression"], age: ["age"], attributes: [...CELEBA_ATTRIBUTES] };
  const expected = { au: [2, 3], expression: [2, 7], age: [2], attributes: [2, 40] };
  for (const name of TRANSFER_TASK_NAMES) {
    const def = TRANSFER_TASKS[name];
    const k = def.numOutputs(columns[name]);
    const head = def.initHead(random.key(1), 4, k);
    assert.deepEqual(head.head.weight.shape, [k, 4]);
    const logits = np.matmul(np.ones([2, 4]), head.head.weight.transpose()).add(head.head.bias);
    assert.deepEqual(def.predict(logits).shape, expected[name], name);
  }
});

test("attributes need CelebA's 40 columns in order", () => {
  const swapped = [...CELEBA_ATTRIBUTES];
  [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!];
  assert.throws(
    () => TRANSFER_TASKS.attributes.numOutputs(swapped),
    /attributes head: the dataset's 40 label columns are not CelebA's 40 attributes in order/,
  );
});

test("taskLoss resolves the options to save and builds the loss from them", () => {
  const train = [
    [1, 0],
    [0, 0],
    [0, 0],
    [0, 1],
  ];
  const au = taskLoss("au", train);
  assert.deepEqual(au.options, { maxPosWeight: 10, posWeight: [3, 3] });
  const expression = taskLoss("expression", [[0]], { labelSmoothing: 0 });
  assert.deepEqual(expression.options, { labelSmoothing: 0, classBalance: 0, classWeights: null });
  // ε = 0 with uniform logits over 7 classes: log 7.
  const value = expression.loss(np.zeros([1, 7]), np.array([4], { dtype: np.int32 })).item();
  // jax-js's log is accurate to about 1.3e-5 absolute (measured).
  assert.ok(Math.abs(value - Math.log(7)) < 2e-5, `${value}`);
  assert.deepEqual(taskLoss("attributes", [[0]]).options, { posWeight: null });
  assert.deepEqual(taskLoss("age", [[30]], { sigma: 3 }).options, { sigma: 3 });
});
