import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { tree } from "../engine/jax.js";
import { startEngine } from "../engine/engine.js";
import { readRunState } from "../train/run-state.js";
import { train } from "../train/train-loop.js";
import * as tiny from "../../test/fixtures/train/tiny-classifier.js";
import { hostValues } from "../../test/fixtures/train/host-tree.js";
import { scratchDir } from "../../test/support/scratch-dir.js";
import { BEST_FILE, openModelSelection } from "./model-selection.js";

await startEngine();

/** Scores handed out in order, one per checkpoint, as a validation set would give them. */
function scripted(values: number[]) {
  let calls = 0;
  return { score: async () => values[calls++]!, calls: () => calls };
}

const CONFIG = { batchSize: 12, epochs: 6, lr: 1e-3, checkpointEvery: 4, keepCheckpoints: 1 };

async function trainSelecting(runDir: string, values: number[], patience: number | null) {
  const scores = scripted(values);
  const selection = await openModelSelection<tiny.Params>({
    runDir,
    metric: "validation accuracy",
    higherIsBetter: true,
    valFaces: 12,
    patience,
    score: scores.score,
  });
  const result = await train<tiny.Params, tiny.Batch>({
    runDir,
    config: CONFIG,
    init: tiny.init,
    loss: tiny.loss,
    data: { size: tiny.EXAMPLES, batch: tiny.batch },
    onCheckpoint: (saved) => selection.onCheckpoint(saved),
  });
  return { selection, result, calls: scores.calls() };
}

test("the best-scoring epoch is kept, and patience stops the run after that many epochs without a better score", async () => {
  const runDir = await scratchDir("faceprior-select-");
  const { selection, result, calls } = await trainSelecting(runDir, [0.5, 0.7, 0.6, 0.65, 0.9, 0.9], 2);
  assert.equal(calls, 4, "scored at steps 4, 8, 12, 16; no better score after step 8 for 2 epochs");
  assert.equal(result.step, 16, "stopped at the checkpoint that ran out of patience, not at step 24");
  assert.deepEqual(selection.record.best, { step: 8, value: 0.7 });
  assert.equal(selection.record.stoppedAt, 16);
  const best = await readRunState(join(runDir, BEST_FILE));
  assert.equal(best.meta.step, 8, "best.safetensors is the step-8 checkpoint");
  const params = await selection.bestParams();
  assert.deepEqual(await hostValues(params), await hostValues(best.params));
  const saved = JSON.parse(await readFile(join(runDir, "selection.json"), "utf8"));
  assert.deepEqual(
    saved.history.map((h: { step: number }) => h.step),
    [4, 8, 12, 16],
  );
  tree.dispose([result.params, best.params, best.optState]);
});

test("without patience the run trains to the end; lower-is-better metrics keep the lowest", async () => {
  const runDir = await scratchDir("faceprior-select-");
  const scores = scripted([9, 7, 8, 6.5, 6.6, 7]);
  const selection = await openModelSelection<tiny.Params>({
    runDir,
    metric: "validation MAE (years)",
    higherIsBetter: false,
    valFaces: 12,
    patience: null,
    score: scores.score,
  });
  const result = await train<tiny.Params, tiny.Batch>({
    runDir,
    config: CONFIG,
    init: tiny.init,
    loss: tiny.loss,
    data: { size: tiny.EXAMPLES, batch: tiny.batch },
    onCheckpoint: (s) => selection.onCheckpoint(s),
  });
  assert.equal(result.step, 24);
  assert.deepEqual(selection.record.best, { step: 16, value: 6.5 });
  assert.equal(selection.record.stoppedAt, null);
  tree.dispose(result.params);
});

test("a reopened selection continues the record, and a selection file of another metric is refused", async () => {
  const runDir = await scratchDir("faceprior-select-");
  await trainSelecting(runDir, [0.5, 0.7, 0.6, 0.65], 2);
  const before = (await stat(join(runDir, BEST_FILE))).mtimeMs;
  const reopened = await openModelSelection<tiny.Params>({
    runDir,
    metric: "validation accuracy",
    higherIsBetter: true,
    valFaces: 12,
    patience: 2,
    score: async () => 0,
  });
  assert.equal(reopened.record.stoppedAt, 16);
  assert.deepEqual(reopened.record.best, { step: 8, value: 0.7 });
  assert.equal((await stat(join(runDir, BEST_FILE))).mtimeMs, before);
  await assert.rejects(
    openModelSelection<tiny.Params>({
      runDir,
      metric: "validation MAE (years)",
      higherIsBetter: false,
      valFaces: 12,
      patience: null,
      score: async () => 0,
    }),
    /selection\.json: selects by validation accuracy, this run by validation MAE \(years\)\. Use a new run directory\./,
  );
});

test("a run stopped between a checkpoint and its score gets that checkpoint scored before it resumes", async () => {
  const runDir = await scratchDir("faceprior-select-");
  const first = await openModelSelection<tiny.Params>({
    runDir,
    metric: "validation accuracy",
    higherIsBetter: true,
    valFaces: 12,
    patience: null,
    score: async () => 0.5,
  });
  const result = await train<tiny.Params, tiny.Batch>({
    runDir,
    config: { ...CONFIG, epochs: 1 },
    init: tiny.init,
    loss: tiny.loss,
    data: { size: tiny.EXAMPLES, batch: tiny.batch },
  });
  tree.dispose(result.params);
  assert.deepEqual(first.record.history, [], "trained without scoring, as if killed before each score");
  const reopened = await openModelSelection<tiny.Params>({
    runDir,
    metric: "validation accuracy",
    higherIsBetter: true,
    valFaces: 12,
    patience: null,
    score: async () => 0.6,
  });
  await reopened.catchUp();
  assert.deepEqual(reopened.record.history, [{ step: 4, value: 0.6 }], "the latest checkpoint (step 4) is scored");
  await reopened.catchUp();
  assert.equal(reopened.record.history.length, 1, "and only once");
});
