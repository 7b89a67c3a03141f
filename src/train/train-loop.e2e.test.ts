import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { tree } from "../engine/jax.js";
import { startEngine } from "../engine/engine.js";
import { FacepriorError } from "../errors.js";
import { readRunState, restoreMilestone } from "./run-state.js";
import { train } from "./train-loop.js";
import * as tiny from "../../test/fixtures/train/tiny-classifier.js";
import { hostValues } from "../../test/fixtures/train/host-tree.js";
import { assertSameTraining, readLog, runTiny, type LogLine } from "../../test/fixtures/train/run-tiny.js";
import { skipUnlessOnnxRuntime } from "../../test/support/onnx-runtime.js";
import { scratchDir } from "../../test/support/scratch-dir.js";

await startEngine();

const noOnnx = await skipUnlessOnnxRuntime();

const newRunDir = () => scratchDir("faceprior-train-");

for (const engine of ["jax", "onnx"]) {
  test(`on ${engine}, a run SIGKILLed right after its step-4 checkpoint resumes to the same losses as an uninterrupted run`, {
    skip: engine === "onnx" && noOnnx,
  }, async () => {
    const [whole, broken] = [await newRunDir(), await newRunDir()];
    assert.deepEqual(JSON.parse((await runTiny(whole, "--engine", engine)).stdout), { step: 12, resumedFrom: null });
    const uninterrupted = await readLog(whole);
    assert.equal(uninterrupted.length, 12);
    assert.ok(uninterrupted[11]!.loss! < uninterrupted[0]!.loss! * 0.6, "the tiny model must learn, or equal losses prove little");
    assert.ok(uninterrupted.every((l) => l.engine === engine));

    assert.equal((await runTiny(broken, "--engine", engine, "--kill-after-checkpoint", "4")).signal, "SIGKILL");
    assert.deepEqual(
      (await readLog(broken)).map((l) => l.step),
      [1, 2, 3, 4],
    );
    assert.deepEqual(JSON.parse((await runTiny(broken, "--engine", engine)).stdout), { step: 12, resumedFrom: 4 });
    assertSameTraining(await readLog(broken), uninterrupted);
  });
}

test("a run killed on jax-js resumes on onnxruntime: the log says which engine ran each step, and the losses follow the uninterrupted run", {
  skip: noOnnx,
}, async () => {
  const [whole, switched] = [await newRunDir(), await newRunDir()];
  await runTiny(whole, "--accum", "2");
  assert.equal((await runTiny(switched, "--accum", "2", "--kill-after-checkpoint", "6")).signal, "SIGKILL");
  assert.deepEqual(JSON.parse((await runTiny(switched, "--accum", "2", "--engine", "onnx")).stdout), { step: 12, resumedFrom: 6 });
  const log = await readLog(switched);
  assert.deepEqual(
    log.map((l) => l.engine),
    [...Array(6).fill("jax"), ...Array(6).fill("onnx")],
  );
  assertSameTraining(log, await readLog(whole), 1e-4);
});

test("with accumulation, a kill between checkpoints resumes from the last one and drops the steps after it", async () => {
  const [whole, broken] = [await newRunDir(), await newRunDir()];
  await runTiny(whole, "--accum", "2");
  assert.equal((await runTiny(broken, "--accum", "2", "--kill-after-step", "9")).signal, "SIGKILL");
  assert.equal((await readLog(broken)).length, 9); // step 9 was logged after the step-8 checkpoint
  assert.deepEqual(JSON.parse((await runTiny(broken, "--accum", "2")).stdout), { step: 12, resumedFrom: 8 });
  assertSameTraining(await readLog(broken), await readLog(whole));
});

const NAN_CONFIG = { steps: 8, batchSize: 8, checkpointEvery: 2, lr: 2e-3, warmupSteps: 1, seed: 3 };

for (const engine of ["jax", "onnx"] as const) {
  test(`on ${engine}, a NaN loss at step 5 stops the run naming the step, the loss parts and the intact step-4 checkpoint`, {
    skip: engine === "onnx" && noOnnx,
  }, async () => {
    const runDir = await newRunDir();
    const hashes = new Map<number, string>();
    const hashOf = async (path: string) =>
      createHash("sha256")
        .update(await readFile(path))
        .digest("hex");
    const run = train({
      runDir,
      engine,
      config: NAN_CONFIG,
      init: tiny.init,
      loss: tiny.loss,
      data: tiny.poisonedData(5),
      onCheckpoint: async ({ step, path }) => void hashes.set(step, await hashOf(path)),
    });
    const checkpoint = join(runDir, "checkpoints", "step-00000004.safetensors");
    await assert.rejects(run, (error: FacepriorError) => {
      assert.equal(error.code, "NON_FINITE_LOSS");
      assert.match(error.message, /step 5 has a non-finite loss \(loss NaN, ce NaN, l2 [0-9.]+, grad norm NaN\)/);
      assert.ok(error.message.includes(checkpoint), error.message);
      return true;
    });
    assert.equal(await hashOf(checkpoint), hashes.get(4), "the last good checkpoint was changed");
    assert.deepEqual(JSON.parse(await readFile(join(runDir, "latest.json"), "utf8")).step, 4);
    const saved = await readRunState(checkpoint);
    assert.equal(saved.meta.step, 4);
    assert.ok(
      Object.values(await hostValues(saved.params))
        .flat()
        .every(Number.isFinite),
    );
    tree.dispose([saved.params, saved.optState]);

    // With the data fixed, the same call resumes from step 4 and finishes.
    const resumed = await train({ runDir, engine, config: NAN_CONFIG, init: tiny.init, loss: tiny.loss, data: tiny.poisonedData(-1) });
    assert.equal(resumed.resumedFrom, 4);
    assert.deepEqual(
      (await readLog(runDir)).map((l) => l.step),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.ok((await readLog(runDir)).every((l) => Number.isFinite(l.loss)));
    tree.dispose(resumed.params);
  });
}

test("resuming under a config that changes the math is refused, naming the field", async () => {
  const runDir = await newRunDir();
  const config = { steps: 2, batchSize: 8, checkpointEvery: 1, lr: 1e-3 };
  const data = { size: tiny.EXAMPLES, batch: tiny.batch };
  const first = await train({ runDir, config, init: tiny.init, loss: tiny.loss, data });
  tree.dispose(first.params);
  await assert.rejects(
    train({ runDir, config: { ...config, lr: 2e-3, checkpointEvery: 5 }, init: tiny.init, loss: tiny.loss, data }),
    (error: FacepriorError) =>
      error.code === "RUN_STATE" && error.message.includes("lr 0.001 -> 0.002") && !error.message.includes("checkpointEvery"),
  );
  const again = await train({ runDir, config: { ...config, checkpointEvery: 5 }, init: tiny.init, loss: tiny.loss, data });
  assert.equal(again.resumedFrom, 2);
  assert.equal(again.step, 2);
  tree.dispose(again.params);
});

test("a run restarts warm from a float16 milestone: same position and schedule, fresh optimizer moments, said in the log", async () => {
  const [first, fresh] = [await newRunDir(), await newRunDir()];
  const config = { steps: 12, batchSize: 8, checkpointEvery: 2, lr: 2e-3, warmupSteps: 2, seed: 7 };
  const data = { size: tiny.EXAMPLES, batch: tiny.batch };
  const milestone = join(first, "milestone.safetensors");
  const whole = await train({ runDir: first, config, init: tiny.init, loss: tiny.loss, data, milestone: { path: milestone, every: 4 } });
  tree.dispose(whole.params);
  const uninterrupted = await readLog(first);

  // The last milestone is step 12's; one written at step 8 by a run that stopped there restarts warm.
  const stopped = await newRunDir();
  const early = join(stopped, "milestone.safetensors");
  tree.dispose(
    (
      await train({
        runDir: stopped,
        config: { ...config },
        init: tiny.init,
        loss: tiny.loss,
        data: tiny.poisonedData(9),
        milestone: { path: early, every: 4 },
      }).catch(() => null)
    )?.params,
  );
  assert.equal((await readRunState(early)).meta.step, 8);
  assert.equal(await restoreMilestone(fresh, early), true);
  assert.equal(await restoreMilestone(fresh, early), false, "a run folder with a checkpoint is left as it is");
  const restarted = await train({ runDir: fresh, config, init: tiny.init, loss: tiny.loss, data });
  assert.equal(restarted.resumedFrom, 8);
  tree.dispose(restarted.params);
  // The log beside the milestone (the stopped run's own) carries on: its steps up to 8, then the new ones.
  const whole12 = await readLog(fresh);
  assert.deepEqual(
    whole12.map((l) => l.step),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
  );
  const log = whole12.slice(8);
  assert.equal((log[0] as LogLine & { warmStartFrom?: string }).warmStartFrom, join(fresh, "checkpoints", "step-00000008.safetensors"));
  // Same schedule and batches. Step 9's loss is taken on step 8's weights, so it differs from the
  // uninterrupted run's only by their float16 rounding; later steps differ by the fresh moments.
  log.forEach((line, i) => assert.equal(line.lr, uninterrupted[8 + i]!.lr));
  const [warm, reference] = [log[0]!.loss!, uninterrupted[8]!.loss!];
  assert.ok(Math.abs(warm - reference) < 1e-2 * reference, `step 9: ${warm} after the warm restart, ${reference} uninterrupted`);
  assert.ok(log.every((l) => Number.isFinite(l.loss)) && log[3]!.loss! < uninterrupted[0]!.loss! * 0.6);
});
