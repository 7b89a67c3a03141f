import assert from "node:assert/strict";
import { test } from "node:test";
import { random } from "../engine/jax.js";
import { startEngine } from "../engine/engine.js";
import { epochOrder, exampleSeed, stepKey, stepKeyData } from "./seeding.js";

await startEngine();

test("each epoch's order is a permutation, the same for the same seed and epoch, different otherwise", () => {
  const order = [...epochOrder(3, 0, 100)];
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.deepEqual([...epochOrder(3, 0, 100)], order);
  assert.notDeepEqual([...epochOrder(3, 1, 100)], order);
  assert.notDeepEqual([...epochOrder(4, 0, 100)], order);
  assert.notDeepEqual(
    order,
    Array.from({ length: 100 }, (_, i) => i),
  );
});

test("the order and the step keys are pinned: checkpoints of earlier runs must resume the same way", () => {
  assert.deepEqual([...epochOrder(0, 0, 8)], [0, 1, 5, 6, 2, 4, 3, 7]);
  assert.deepEqual(stepKeyData(7, 5), [1136564242, 5]);
});

test("step keys differ by step and seed and from random.key(seed)", async () => {
  const draw = async (key: ReturnType<typeof stepKey>) => [...(await random.bits(key, [4]).data())];
  const first = await draw(stepKey(7, 0));
  assert.deepEqual(await draw(stepKey(7, 0)), first);
  assert.notDeepEqual(await draw(stepKey(7, 1)), first);
  assert.notDeepEqual(await draw(stepKey(8, 0)), first);
  assert.notDeepEqual(await draw(random.key(7)), first);
});

test("example seeds are fixed by (seed, step, micro-batch, position) and differ when any changes", () => {
  const at = { step: 5, microBatch: 1 };
  const base = exampleSeed(0, at, 3);
  assert.equal(exampleSeed(0, { step: 5, microBatch: 1 }, 3), base);
  const others = [
    exampleSeed(1, at, 3),
    exampleSeed(0, { step: 6, microBatch: 1 }, 3),
    exampleSeed(0, { step: 5, microBatch: 0 }, 3),
    exampleSeed(0, at, 4),
  ];
  assert.equal(new Set([base, ...others]).size, 5);
  assert.ok(Number.isSafeInteger(base) && base >= 0 && base < 2 ** 32);
});
