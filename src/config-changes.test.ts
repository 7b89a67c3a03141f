import assert from "node:assert/strict";
import { test } from "node:test";
import { configChanges } from "./config-changes.js";

test("configChanges lists each changed, added and removed key by its path, and skips the ignored ones", () => {
  const saved = { steps: 20, recipe: { augment: { flip: 0.5 }, dropPath: 0.1 }, checkpointEvery: 5 };
  const now = { epochs: 5, recipe: { augment: { flip: 0.5 }, dropPath: 0.2 }, checkpointEvery: 9 };
  assert.deepEqual(configChanges(saved, now, new Set(["checkpointEvery"])), [
    "steps 20 -> (unset)",
    "recipe.dropPath 0.1 -> 0.2",
    "epochs (unset) -> 5",
  ]);
  assert.deepEqual(
    configChanges(saved, { checkpointEvery: 5, recipe: { dropPath: 0.1, augment: { flip: 0.5 } }, steps: 20 }),
    [],
    "an equal config, key order aside, has no changes",
  );
  assert.deepEqual(configChanges({ recipe: null }, { recipe: { dropPath: 0.1 } }), [
    "recipe null -> (unset)",
    "recipe.dropPath (unset) -> 0.1",
  ]);
});
