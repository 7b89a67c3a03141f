/**
 * A finished fine-tuning run's outcome: its predictions come back bit for bit, its milestone
 * weights go, and a file that is not this run's outcome is refused, naming it.
 */
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { rejectsWithError } from "../../test/support/faceprior-error.js";
import { scratchDir } from "../../test/support/scratch-dir.js";
import { FINISHED_FILE, keepFinishedRun, readFinishedRun } from "./finished-run.js";

const TEST_FACES = 3;
const RUN = { train: { seed: 0, epochs: 1 }, testFaces: TEST_FACES };
const outcome = {
  // Two outputs per face, with values JSON decimals would round.
  predictions: new Float32Array([0.1, 1 / 3, -2.5e-8, 7, Math.PI, 3.4e38]),
  selection: null,
  augmented: true,
  seconds: 12.5,
};

async function keptRun() {
  const dir = await scratchDir("faceprior-finished-");
  const runDir = join(dir, "run");
  const milestone = join(dir, "milestones", "fold0-seed0");
  await mkdir(runDir, { recursive: true });
  await mkdir(milestone, { recursive: true });
  for (const file of ["milestone.safetensors", "best.safetensors", "selection.json", "log.jsonl"])
    await writeFile(join(milestone, file), "x");
  await keepFinishedRun(outcome, RUN, { runDir, milestone });
  return { runDir, milestone };
}

test("a kept outcome reads back exactly from either folder, and the milestone folder keeps nothing else", async () => {
  const { runDir, milestone } = await keptRun();
  assert.deepEqual(await readdir(milestone), [FINISHED_FILE]);
  assert.deepEqual(await readFinishedRun([runDir, milestone], RUN), outcome);
  assert.deepEqual(await readFinishedRun([join(runDir, "missing"), milestone], RUN), outcome);
  assert.equal(await readFinishedRun([join(runDir, "missing")], RUN), undefined, "no outcome: the run trains");
});

test("an outcome of another config or other test faces, with broken predictions or a missing field is refused, naming the file", async () => {
  const { runDir } = await keptRun();
  const path = join(runDir, FINISHED_FILE);
  const record = JSON.parse(await readFile(path, "utf8"));
  const cases: [object, typeof RUN, RegExp][] = [
    [record, { ...RUN, testFaces: TEST_FACES + 1 }, /predictions are not for the run's 4 test faces/],
    [record, { ...RUN, train: { seed: 0, epochs: 2 } }, /it was trained under another config: epochs 1 -> 2/],
    [{ ...record, predictions: Buffer.from([1, 2, 3]).toString("base64") }, RUN, /predictions are not for the run's 3 test faces/],
    [{ ...record, predictions: "not base64!" }, RUN, /predictions: /],
    [{ ...record, seconds: undefined }, RUN, /seconds: /],
  ];
  for (const [written, run, reason] of cases) {
    await writeFile(path, JSON.stringify(written));
    await rejectsWithError(readFinishedRun([runDir], run), "RUN_STATE", new RegExp(`is not this run's outcome \\(.*${reason.source}`));
  }
  await writeFile(path, "{");
  await rejectsWithError(
    readFinishedRun([runDir], RUN),
    "RUN_STATE",
    /finished\.json: is not valid JSON .*Delete it to train the run again\./,
  );
});
