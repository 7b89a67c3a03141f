/**
 * `faceprior pack` on real probe runs: a FER2013 expression probe (grey faces) and a CelebA-HQ
 * attribute probe (colour) on one encoder become one face model; the head trained on grey faces
 * reads grey input, and each head carries its held-out metrics.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { preparedCelebaCache } from "../../test/support/celeba-subset.js";
import { preparedSharedSubset } from "../../test/support/shared-subset.js";
import { assertNoStack, runCli } from "../../test/support/run-cli.js";
import { skipUnlessShared } from "../../test/support/shared-data.js";
import { saveVitCheckpoint } from "../checkpoint/vit-checkpoint.js";
import { random } from "../engine/jax.js";
import { resolveVitPreset } from "../model/vit-presets.js";
import { initVit } from "../model/vit.js";
import { readFaceModel } from "../face-model/face-model.js";

const needsData = { skip: skipUnlessShared("data/fer2013") || skipUnlessShared("data/celebahq_attr") };
let dir = "";

before(async () => {
  if (needsData.skip) return;
  dir = await mkdtemp(join(tmpdir(), "faceprior-pack-"));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("probe heads of grey and colour datasets pack into one face model; the grey one reads grey input", needsData, async () => {
  const fer = await preparedSharedSubset("fer2013", dir, 40, ["--pad", "0.5"]);
  const { cacheDir: celeba } = await preparedCelebaCache("pack", 24);
  const encoder = join(dir, "encoder.safetensors");
  const cfg = resolveVitPreset("vit-tiny");
  await saveVitCheckpoint(encoder, initVit(random.key(0), cfg), cfg);
  for (const [task, cache] of [
    ["expression", fer],
    ["attributes", celeba],
  ] as const) {
    const run = await runCli(
      ["finetune", "--task", task, "--data", cache, "--init", encoder, "--seeds", "1", "--epochs", "2", "--out", join(dir, task)],
      dir,
    );
    assert.equal(run.code, 0, run.stderr);
  }
  const out = join(dir, "model.safetensors");
  const packed = await runCli(
    ["pack", "--encoder", encoder, "--heads", `${join(dir, "expression")},${join(dir, "attributes")}`, "--out", out],
    dir,
  );
  assertNoStack(packed);
  assert.equal(packed.code, 0, packed.stderr);
  const model = await readFaceModel(out);
  assert.deepEqual(
    model.heads.map((h) => [h.name, h.greyInput ?? false]),
    [
      ["expression", true],
      ["attributes", false],
    ],
  );
  const info = await runCli(["info", out], dir);
  assert.match(info.stdout, /head expression +softmax, 7 outputs .*; held out \(test split of fer2013-cache\): accuracy \d\.\d{3}/);
});
