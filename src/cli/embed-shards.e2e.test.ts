/**
 * A sharded `embed` as a cluster runs it: 3 shards as separate processes over 45 real CelebA-HQ
 * photos and a file that is not an image, one killed mid-way and run again, then
 * `faceprior merge`, compared with one `embed` over the same photos. And the sets merge refuses.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { assertNoStack, runCli, runCliKilledAt } from "../../test/support/run-cli.js";
import { celebaRows, CELEBA } from "../../test/support/celeba-subset.js";
import { fakeVitTensors } from "../../test/support/fake-vit.js";
import { sharedPath, skipUnlessShared } from "../../test/support/shared-data.js";
import { writeVitTensors } from "../checkpoint/vit-checkpoint.js";
import { listImageFiles } from "../data/image-files.js";
import { resolveVitPreset } from "../model/vit-presets.js";
import { itemsOfShard } from "../shard/shard-spec.js";

const needsData = { skip: skipUnlessShared(CELEBA), timeout: 600_000 };
let dir = "";
let photos = "";
let checkpoint = "";
const EMBED = ["--batch", "4", "--skip-bad"];
const shardDir = (i: number) => join(dir, `faces-${i}`);
const embedArgs = (args: string[]) => ["embed", "--model", checkpoint, "--crop", "center", ...EMBED, ...args, photos];
const embed = (args: string[]) => runCli(embedArgs(args), dir);
const shardArgs = (i: number) => embedArgs(["--chunk-size", "1", "--shard", `${i}/3`, "--out", shardDir(i)]);
const embedShard = (i: number) => runCli(shardArgs(i), dir);
/** Shard `i`, killed (SIGKILL, as a lost node) once its first chunk file is on disk. */
const embedKilledMidway = (i: number) => runCliKilledAt(join(shardDir(i), "chunks", "chunk-00000.safetensors"), shardArgs(i), dir);
const merge = (dirs: string[], out: string) => runCli(["merge", ...dirs, "--out", out], dir);

before(async () => {
  if (needsData.skip) return;
  dir = await mkdtemp(join(tmpdir(), "faceprior-embed-shards-"));
  photos = join(dir, "photos");
  await mkdir(photos);
  for (const { path } of (await celebaRows()).slice(0, 45)) await copyFile(sharedPath(CELEBA, path), join(photos, path.split("/").pop()!));
  await writeFile(join(photos, "notes.jpg"), "not an image");
  checkpoint = join(dir, "vit-tiny.safetensors");
  const cfg = resolveVitPreset("vit-tiny");
  await writeVitTensors(checkpoint, fakeVitTensors(cfg), cfg);
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("3 embed shards, one killed mid-way and rerun, merge into the file one embed writes, byte for byte", needsData, async () => {
  const single = join(dir, "single.safetensors");
  const whole = await embed(["--out", single]);
  assert.equal(whole.code, 0, whole.stderr);

  // Kill the shard with the most photos, so that it has the most chunks left when its first lands.
  const files = await listImageFiles([photos]);
  const sizes = [0, 1, 2].map((i) => itemsOfShard(files, { index: i, count: 3 }, (f) => f).length);
  const victim = sizes.indexOf(Math.max(...sizes));
  const runs = await Promise.all([0, 1, 2].map((i) => (i === victim ? embedKilledMidway(i) : embedShard(i))));
  assert.equal(runs[victim]!.signal, "SIGKILL", `shard ${victim} finished before it could be killed`);
  runs.forEach((run, i) => i === victim || assert.equal(run.code, 0, run.stderr));
  const left = (await readdir(join(shardDir(victim), "chunks"))).filter((f) => f.endsWith(".safetensors"));
  assert.ok(left.length >= 1 && left.length < sizes[victim]!, `shard ${victim} had ${left.length} of ${sizes[victim]} chunks when killed`);

  const early = await merge([0, 1, 2].map(shardDir), join(dir, "early.safetensors"));
  assertNoStack(early);
  assert.equal(early.code, 1);
  assert.match(
    early.stderr,
    new RegExp(
      `faces-${victim} \\(shard ${victim}/3\\): is incomplete, chunks/chunk-\\d+\\.safetensors is missing\\. Run embed shard ${victim}/3 again`,
    ),
  );

  const firstWritten = (await stat(join(shardDir(victim), "chunks", "chunk-00000.safetensors"))).mtimeMs;
  const rerun = await embedShard(victim);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(
    rerun.stdout,
    new RegExp(
      `^Embedded shard ${victim}/3 into .*: ${sizes[victim]} images in ${sizes[victim]} chunk files \\(${left.length} kept from an earlier run\\)`,
      "m",
    ),
  );
  assert.equal(
    (await stat(join(shardDir(victim), "chunks", "chunk-00000.safetensors"))).mtimeMs,
    firstWritten,
    "the rerun redid a finished chunk",
  );

  const merged = join(dir, "merged.safetensors");
  const run = await merge([2, 1, 0].map(shardDir), merged);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Merged 3 embed shards \(46 inputs\) into .*merged\.safetensors/);
  assert.ok((await readFile(merged)).equals(await readFile(single)), "the merged file differs from the single run's");
});

test("a shard the hash gives no image keeps the folder layout, and merge joins it", needsData, async () => {
  // One photo over 4 shards: three of them are empty, whatever the temporary folder's name.
  const one = sharedPath(CELEBA, (await celebaRows())[0]!.path);
  const dirs = [0, 1, 2, 3].map((i) => join(dir, `one-${i}`));
  for (const [i, out] of dirs.entries()) {
    const run = await runCli(["embed", "--model", checkpoint, "--crop", "center", "--shard", `${i}/4`, "--out", out, one], dir);
    assert.equal(run.code, 0, run.stderr);
  }
  const chunkCounts = await Promise.all(dirs.map(async (out) => (await readdir(join(out, "chunks"))).length));
  assert.deepEqual([...chunkCounts].sort(), [0, 0, 0, 1], "every shard has its chunks folder; one holds the photo");
  const single = join(dir, "one.safetensors");
  assert.equal((await runCli(["embed", "--model", checkpoint, "--crop", "center", "--out", single, one], dir)).code, 0);
  const merged = await merge(dirs, join(dir, "one-merged.safetensors"));
  assert.equal(merged.code, 0, merged.stderr);
  assert.ok((await readFile(join(dir, "one-merged.safetensors"))).equals(await readFile(single)));
});

test("merge refuses embed shards made with other settings or from another list of images", needsData, async () => {
  const refused = async (dirs: string[], pattern: RegExp) => {
    const run = await merge(dirs, join(dir, "refused.safetensors"));
    assertNoStack(run);
    assert.equal(run.code, 1);
    assert.match(run.stderr, pattern);
    assert.equal(existsSync(join(dir, "refused.safetensors")), false);
  };
  const tokens = join(dir, "tokens-1");
  assert.equal((await embed(["--tokens", "mean", "--shard", "1/3", "--out", tokens])).code, 0);
  await refused(
    [shardDir(0), tokens, shardDir(2)],
    /tokens-1 \(shard 1\/3\) was made with other settings than .*faces-0 \(shard 0\/3\): output\.metadata\.tokens "mean" against "cls"\./,
  );

  await copyFile(sharedPath(CELEBA, "images/00100.jpg"), join(photos, "extra.jpg"));
  const more = join(dir, "more-1");
  assert.equal((await embed(["--shard", "1/3", "--out", more])).code, 0);
  await refused(
    [shardDir(0), more, shardDir(2)],
    /more-1 \(shard 1\/3\) is from another image list than .*faces-0 \(shard 0\/3\): 47 inputs with fingerprint \w+ against 46 inputs/,
  );
  await refused([shardDir(0), join(dir, "single.safetensors")], /single\.safetensors: holds neither cache\.json .* nor shard\.json/);
});
