/**
 * `faceprior --device webgpu pretrain` as a user runs it, on real faces (a CelebA-HQ prior cache
 * prepared at 32 px) with a tiny ViT and every prior loss (`full`): the same run on wasm gives the
 * same loss parts step by step, and the run folder holds the encoder and previews.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { loadVitCheckpoint } from "../checkpoint/vit-checkpoint.js";
import { CELEBA, loadedCelebaCache } from "../../test/support/celeba-subset.js";
import { assertNoStack, runCli } from "../../test/support/run-cli.js";
import { skipUnlessShared } from "../../test/support/shared-data.js";
import { skipUnlessWebGpu } from "../../test/support/webgpu.js";

const skip = skipUnlessShared(CELEBA) || (await skipUnlessWebGpu());
const fixture = loadedCelebaCache("pretrain-webgpu", 10, ["--size", "32", "--patch-size", "4", "--workers", "1"]);
const TINY = {
  pretrain: {
    arch: { imgSize: 32, patchSize: 4, embedDim: 32, depth: 2, numHeads: 2 },
    decoderWidth: 32,
    decoderDepth: 1,
    decoderHeads: 2,
    componentDim: 16,
  },
};
// Measured on llvmpipe: within 2e-6 of wasm (ViT-Tiny, 2 steps); sums run in another order there.
const ACROSS_DEVICES = 1e-4;

type LogLine = { step: number; loss: number; parts: Record<string, number> };
const readLog = async (out: string) =>
  (await readFile(join(out, "log.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as LogLine);

test("pretrain --device webgpu trains every prior loss as wasm does, and writes the encoder and previews", { skip }, async (t) => {
  const config = join(fixture.dir, "tiny.json");
  await writeFile(config, JSON.stringify(TINY));
  const args = (out: string) => [
    "pretrain",
    "--data",
    fixture.cacheDir,
    "--variant",
    "full",
    "--config",
    config,
    "--steps",
    "3",
    "--batch",
    "2",
    "--preview-faces",
    "2",
    "--out",
    join(fixture.dir, out),
  ];
  const wasm = await runCli([...args("wasm"), "--engine", "jax"], fixture.dir);
  assert.equal(wasm.code, 0, wasm.stderr);
  const started = performance.now();
  const webgpu = await runCli(["--device", "webgpu", ...args("webgpu")], fixture.dir);
  t.diagnostic(`webgpu: 3 steps and a preview in ${((performance.now() - started) / 1000).toFixed(1)} s, shader compiles included`);
  assertNoStack(webgpu);
  assert.equal(webgpu.code, 0, webgpu.stderr);
  assert.match(webgpu.stderr, /pretrain: training on jax-js \(webgpu\)/);

  const [reference, lines] = [await readLog(join(fixture.dir, "wasm")), await readLog(join(fixture.dir, "webgpu"))];
  assert.deepEqual(
    lines.map((l) => l.step),
    [1, 2, 3],
  );
  assert.deepEqual(Object.keys(lines[0]!.parts).sort(), [
    "comp_desc",
    "comp_nce",
    "mim",
    "patch_ce",
    "patch_hist",
    "patch_offset",
    "pix",
    "total",
  ]);
  lines.forEach((line, i) => {
    for (const [part, value] of Object.entries(reference[i]!.parts)) {
      const got = line.parts[part]!;
      assert.ok(Math.abs(got - value) <= ACROSS_DEVICES * Math.abs(value), `step ${line.step} ${part}: webgpu ${got}, wasm ${value}`);
    }
  });
  const encoder = await loadVitCheckpoint(join(fixture.dir, "webgpu", "encoder.safetensors"));
  assert.deepEqual([encoder.cfg.embedDim, encoder.cfg.depth], [32, 2]);
  const preview = await sharp(join(fixture.dir, "webgpu", "previews", "epoch-001.png")).metadata();
  assert.deepEqual([preview.width, preview.height], [5 * 32, 2 * 32]); // 5 tiles for each of 2 faces
});
