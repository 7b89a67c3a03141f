import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { sharedPath, skipUnlessShared } from "../../test/support/shared-data.js";
import { CELEBA_ATTRIBUTES, SHARED_DATA_TASKS, detectTask, expressionIndex, labelDomain, parseLabel } from "./tasks.js";

test("each task accepts exactly its label values", () => {
  assert.deepEqual(
    ["0", "1", " 1 ", "-1", "2", "", "x", "0.5"].map((raw) => parseLabel("au", raw)),
    [0, 1, 1, undefined, undefined, undefined, undefined, undefined],
  );
  assert.deepEqual(
    ["0", "1", "-1", "2"].map((raw) => parseLabel("attributes", raw)),
    [0, 1, 0, undefined],
    "CelebA's -1 reads as 0",
  );
  assert.deepEqual(
    ["0", "116", "120", "121", "-1", "25.5", ""].map((raw) => parseLabel("age", raw)),
    [0, 116, 120, undefined, undefined, undefined, undefined],
  );
  assert.deepEqual(
    ["angry", "neutral", "surprise", "Angry", "contempt"].map((raw) => parseLabel("expression", raw)),
    [0, 6, 5, undefined, undefined],
  );
  assert.equal(labelDomain("age"), "an integer 0-120");
  assert.equal(labelDomain("expression"), "one of angry, disgust, fear, happy, sad, surprise, neutral");
});

test("expression names of benchmarks map onto the 7 classes", () => {
  assert.deepEqual(["anger", "Happiness", "SADNESS", "surprised", "fearful", "disgusted", "neutral", "contempt"].map(expressionIndex), [
    0,
    3,
    4,
    5,
    2,
    1,
    6,
    undefined,
  ]);
});

test("the task is detected from the label columns", () => {
  assert.deepEqual(detectTask([]), { task: "none", labelColumns: [] });
  assert.deepEqual(detectTask(["expression"]), { task: "expression", labelColumns: ["expression"] });
  assert.deepEqual(detectTask(["AU12", "AU2", "AU1"]), { task: "au", labelColumns: ["AU1", "AU2", "AU12"] }, "AU columns sort by number");
  const shuffled = [...CELEBA_ATTRIBUTES].reverse();
  assert.deepEqual(detectTask(shuffled), { task: "attributes", labelColumns: [...CELEBA_ATTRIBUTES] }, "attributes keep CelebA's order");
});

test("columns of no task, of two tasks, extra or missing columns are problems that name them", () => {
  const cases: [string[], string][] = [
    [["emotion"], 'columns "emotion" belong to no task'],
    [["age", "expression"], 'has columns of 2 tasks (expression: "expression"; age: "age")'],
    [["AU1", "AU02"], 'has columns "AU02" that the au task does not have'],
    [["age", "gender"], 'has columns "gender" that the age task does not have'],
    [CELEBA_ATTRIBUTES.filter((name) => name !== "Bald" && name !== "Young"), 'misses attributes columns "Bald", "Young"'],
  ];
  for (const [columns, problem] of cases) {
    const detected = detectTask(columns);
    assert.ok("problem" in detected, `${columns.join(",")} should be a problem`);
    assert.equal(detected.problem, problem);
  }
});

for (const [folder, task] of Object.entries(SHARED_DATA_TASKS)) {
  test(`../shared/data/${folder} holds ${task} labels by its columns`, { skip: skipUnlessShared(`data/${folder}/manifest.csv`) }, () => {
    const header = readFileSync(sharedPath("data", folder, "manifest.csv"), "utf8")
      .split("\n")[0]
      .trim()
      .split(",");
    const detected = detectTask(header.filter((column) => column !== "path"));
    assert.ok(!("problem" in detected), JSON.stringify(detected));
    assert.equal(detected.task, task);
  });
}
