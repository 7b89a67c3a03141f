/**
 * A sharded `prepare` as a cluster runs it: 3 shards as separate processes on 30 real CelebA-HQ
 * photos and two bad files, one killed mid-way and run again, then `faceprior merge`, compared
 * with one `prepare` over the same data. And the sets merge refuses, by name.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { assertNoStack, runCli, runCliKilledAt } from "../../test/support/run-cli.js";
import { CELEBA, makeCelebaSubset } from "../../test/support/celeba-subset.js";
import { skipUnlessShared } from "../../test/support/shared-data.js";
import { parseSafetensors } from "../checkpoint/safetensors.js";
import { readCacheIndex } from "./prior-cache.js";

const needsData = { skip: skipUnlessShared(CELEBA), timeout: 900_000 };
let dir = "";
let data = "";
const PREPARE = ["--shard-size", "4", "--workers", "1"];
const shardDir = (i: number) => join(dir, `shard-${i}`);
const prepareArgs = (args: string[]) => ["prepare", "--data", data, ...PREPARE, ...args];
const prepare = (args: string[]) => runCli(prepareArgs(args), dir);
/** Shard `i`, killed (SIGKILL, as a lost node) once its first shard file is on disk. */
const prepareKilledMidway = (i: number) =>
  runCliKilledAt(join(shardDir(i), "shards", "shard-00000.safetensors"), prepareArgs(["--shard", `${i}/3`, "--out", shardDir(i)]), dir);
const merge = (dirs: string[], out: string) => runCli(["merge", ...dirs, "--out", out], dir);

before(async () => {
  if (needsData.skip) return;
  dir = await mkdtemp(join(tmpdir(), "faceprior-shards-"));
  data = await makeCelebaSubset(join(dir, "data"), 30, {
    "notes.jpg": new TextEncoder().encode("not an image"),
    "empty.jpg": new Uint8Array(0),
  });
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Each shard file's tensors as raw bytes (the header minus metadata, and the data), its faces' paths and failures. */
async function shardFileContents(cache: string) {
  const index = (await readCacheIndex(cache))!;
  return Promise.all(
    index.shards.map(async ({ file }) => {
      const bytes = new Uint8Array(await readFile(join(cache, file)));
      const { tensors, metadata } = parseSafetensors(bytes, file);
      const raw = Object.fromEntries(
        Object.entries(tensors).map(([name, t]) => [
          name,
          { dtype: t.dtype, shape: t.shape, bytes: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength) },
        ]),
      );
      return { file, raw, paths: metadata.paths, failures: metadata.failures };
    }),
  );
}

const withoutTimings = ({ timings: _t, merged: _m, ...rest }: Record<string, unknown>) => rest;

test("3 prepare shards, one killed mid-way and rerun, merge into the cache one prepare writes", needsData, async () => {
  const single = join(dir, "single");
  const whole = await prepare(["--out", single]);
  assert.equal(whole.code, 0, whole.stderr);

  const [killed, ...others] = await Promise.all([
    prepareKilledMidway(1),
    ...[0, 2].map((i) => prepare(["--shard", `${i}/3`, "--out", shardDir(i)])),
  ]);
  assert.equal(killed.signal, "SIGKILL", "shard 1 finished before it could be killed");
  for (const run of others) assert.equal(run.code, 0, run.stderr);
  const plan = (await readCacheIndex(shardDir(1)))!;
  const done = plan.shards.filter((s) => existsSync(join(shardDir(1), s.file)));
  assert.ok(done.length >= 1 && done.length < plan.shards.length, `shard 1 had ${done.length} of ${plan.shards.length} files when killed`);

  const incomplete = await merge([0, 1, 2].map(shardDir), join(dir, "too-early"));
  assertNoStack(incomplete);
  assert.equal(incomplete.code, 1);
  assert.match(
    incomplete.stderr,
    /^faceprior \[BAD_SHARDS\]: .*shard-1 \(shard 1\/3\): is incomplete, \d+ of its \d+ shard files are missing .* Run prepare shard 1\/3 again to finish it, then merge\.$/m,
  );
  assert.equal(existsSync(join(dir, "too-early", "cache.json")), false);

  const firstWritten = (await stat(join(shardDir(1), done[0]!.file))).mtimeMs;
  const rerun = await prepare(["--shard", "1/3", "--out", shardDir(1), "--json"]);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.equal((await stat(join(shardDir(1), done[0]!.file))).mtimeMs, firstWritten, "the rerun redid a finished shard file");
  assert.ok(JSON.parse(rerun.stdout).timings.this_run_images < plan.dataset.rows, "the rerun redid every image");

  const merged = join(dir, "merged");
  const run = await merge([2, 0, 1].map(shardDir), merged);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Merged 3 prepare shards into .*merged in [\d.]+ s: faces in 30 of 32 images \(93\.8%\)\.$/m);

  // Byte for byte: the plan, the splits, the overlays; each shard file's tensors, paths and failures.
  for (const name of ["cache.json", "splits.json", "overlays.png"]) {
    assert.ok((await readFile(join(single, name))).equals(await readFile(join(merged, name))), `${name} differs`);
  }
  assert.deepEqual(await readdir(join(merged, "shards")), await readdir(join(single, "shards")));
  assert.deepEqual(await shardFileContents(merged), await shardFileContents(single));
  const report = async (cache: string) => JSON.parse(await readFile(join(cache, "report.json"), "utf8"));
  assert.deepEqual(withoutTimings(await report(merged)), withoutTimings(await report(single)));
  assert.deepEqual(
    (await report(merged)).failures.map((f: { path: string; row: number }) => [f.path, f.row]),
    [
      ["images/notes.jpg", 30],
      ["images/empty.jpg", 31],
    ],
  );
});

test("merge refuses a missing shard, a shard of another manifest and one made with other settings, naming each", needsData, async () => {
  const refused = async (dirs: string[], pattern: RegExp) => {
    const run = await merge(dirs, join(dir, "refused"));
    assertNoStack(run);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, pattern);
    assert.equal(existsSync(join(dir, "refused")), false, "a refused merge wrote something");
  };
  await refused(
    [0, 2].map(shardDir),
    /^faceprior \[BAD_SHARDS\]: shard 1\/3 is missing: got 2 of 3 shard folders\. Pass every shard's folder; a shard that has not run \(prepare shard 1\/3\) needs to run first\.\n$/,
  );
  await refused([0, 1, 1].map(shardDir), /shard-1: is shard 1\/3, and so is .*shard-1\. Pass each shard's folder once\./);

  // Shard 1 of another manifest: two of the same photos, another dataset.
  const otherData = await makeCelebaSubset(join(dir, "other-data"), 2);
  const other = join(dir, "other-1");
  assert.equal((await runCli(["prepare", "--data", otherData, ...PREPARE, "--shard", "1/3", "--out", other], dir)).code, 0);
  await refused(
    [shardDir(0), other, shardDir(2)],
    /^faceprior \[BAD_SHARDS\]: .*other-1 \(shard 1\/3\) is from another manifest than .*shard-0 \(shard 0\/3\): dataset .*other-data with plan \w+ against dataset .*data with plan \w+\. Every shard must read the same manifest/m,
  );

  // Shard 1 of the same manifest with another --min-score, stopped once it has written its plan.
  const mixed = join(dir, "mixed-1");
  await runCliKilledAt(join(mixed, "cache.json"), prepareArgs(["--min-score", "0.6", "--shard", "1/3", "--out", mixed]), dir);
  await refused(
    [shardDir(0), mixed, shardDir(2)],
    /^faceprior \[BAD_SHARDS\]: .*mixed-1 \(shard 1\/3\) was made with other settings than .*shard-0 \(shard 0\/3\): minScore 0\.6 against 0\.5\. Run that shard again, into an empty folder, with the same options as the others\.$/m,
  );

  const fourWays = join(dir, "four-1");
  await runCli(["prepare", "--data", otherData, ...PREPARE, "--shard", "1/4", "--out", fourWays], dir);
  await refused(
    [shardDir(0), fourWays],
    /four-1 \(shard 1\/4\) and .*shard-0 \(shard 0\/3\) come from runs split 4 and 3 ways\. Pass the shards of one run\./,
  );
  await refused([shardDir(0), join(dir, "single")], /single\/cache\.json: a whole prior cache, not a shard of a prepare job\./);
});
