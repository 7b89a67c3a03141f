import assert from "node:assert/strict";
import { test } from "node:test";
import type { StudyCell } from "./study-config.js";
import { recordCellTime, remainingTime, type CellTimes } from "./study-eta.js";

const cell = (encoder: string, task: StudyCell["task"], mode: StudyCell["mode"] = "finetune"): StudyCell => ({
  mode,
  task,
  protocol: "ratio:0.1",
  train: { steps: 300 },
  encoder,
});

test("a timed cell times the cells of its kind with other encoders, and only those", () => {
  const times: CellTimes = new Map();
  recordCellTime(times, cell("scratch", "au"), 2700);
  recordCellTime(times, cell("scratch", "age"), 900);
  recordCellTime(times, cell("mae", "age"), 1100);
  const left = [cell("mae", "au"), cell("full", "au"), cell("full", "age"), cell("full", "expression"), cell("full", "au", "probe")];
  assert.deepEqual(remainingTime(times, left), { seconds: 2700 + 2700 + 1000, timedCells: 3, untimedCells: 2 });
});

test("nothing timed: no seconds, every cell counted as untimed", () => {
  assert.deepEqual(remainingTime(new Map(), [cell("mae", "au")]), { seconds: 0, timedCells: 0, untimedCells: 1 });
});
