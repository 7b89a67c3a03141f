import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np, random } from "../../engine/jax.js";
import { CELEBA_ATTRIBUTES } from "../../data/tasks.js";
import { DEFAULT_FINETUNE_RECIPE, FinetuneRecipeSchema } from "../finetune-recipe.js";
import { recipeLossOverrides, TRANSFER_TASK_NAMES, TRANSFER_TASKS, taskLoss } from "./index.js";

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
  assert.deepEqual(taskLoss("age", [[30]], { sigma: 3 }).options, { sigma: 3, ageBalance: 0, decadeWeights: null });
  // Ages 5, 8, 75: decades 0-9 (2 faces) and 70+ (1) of n = 3. At β = 1 the raw weights n/(8·n_d) are 3/16 and 3/8
  // (1 for the empty decades), their mean over the faces (2·3/16 + 3/8)/3 = ¼, so the weights are ¾, 3/2 (and 4).
  assert.deepEqual(taskLoss("age", [[5], [8], [75]], { ageBalance: 1 }).options.decadeWeights, [0.75, 4, 4, 4, 4, 4, 4, 1.5]);
});

test("a recipe's balance reaches only its task's loss options, and the default recipe changes nothing", () => {
  const recipe = FinetuneRecipeSchema.parse({ classBalance: 0.5, ageBalance: 1 });
  assert.deepEqual(recipeLossOverrides("age", recipe), { ageBalance: 1 });
  assert.deepEqual(recipeLossOverrides("expression", recipe), { classBalance: 0.5 });
  assert.deepEqual(recipeLossOverrides("au", recipe), {});
  assert.equal(DEFAULT_FINETUNE_RECIPE.ageBalance, 0);
  assert.deepEqual(taskLoss("age", [[5], [8], [75]], recipeLossOverrides("age", DEFAULT_FINETUNE_RECIPE)).options, {
    sigma: 2,
    ageBalance: 0,
    decadeWeights: null,
  });
});
