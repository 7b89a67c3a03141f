/**
 * `faceprior study` end to end on a prior cache of real CelebA-HQ faces: the grid's run folders,
 * the report in three formats with its plots, resuming, running again the cells whose settings
 * changed (finished or not), and refusing another study's folder.
 */
import assert from "node:assert/strict";
import { cp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { random } from "../engine/jax.js";
import { saveVitCheckpoint } from "../checkpoint/vit-checkpoint.js";
import { resolveVitPreset } from "../model/vit-presets.js";
import { initVit } from "../model/vit.js";
import { tree } from "../engine/jax.js";
import { CELEBA, preparedCelebaCache } from "../../test/support/celeba-subset.js";
import { assertNoStack, printedConfig, runCli } from "../../test/support/run-cli.js";
import { skipUnlessShared } from "../../test/support/shared-data.js";

const needsData = { skip: skipUnlessShared(CELEBA) };
let dir = "";
let configPath = "";

before(async () => {
  if (needsData.skip) return;
  let cacheDir: string;
  ({ dir, cacheDir } = await preparedCelebaCache("study", 16));
  const cfg = resolveVitPreset("vit-tiny");
  const params = initVit(random.key(7), cfg);
  await saveVitCheckpoint(join(dir, "other.safetensors"), params, cfg);
  tree.dispose(params);
  configPath = join(dir, "study.json");
  await writeFile(
    configPath,
    JSON.stringify({
      name: "tiny",
      seeds: 2,
      encoders: { scratch: "scratch", mae: "other.safetensors" },
      data: { attributes: "cache" },
      grid: [{ mode: "probe", protocols: ["ratio:0.5", "full"], train: { steps: 20 } }],
      contrasts: [
        { name: "pretrained", encoder: "mae", reference: "scratch" },
        { name: "reversed", encoder: "scratch", reference: "mae" },
      ],
    }),
  );
  void cacheDir;
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("a study runs its grid, writes the report with tables, effects and plots, and resumes", needsData, async () => {
  const out = join(dir, "out");
  const run = await runCli(["study", "--config", configPath, "--out", out], dir);
  assertNoStack(run);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /study \[4\/4\] probe attributes full mae: mean accuracy \d\.\d{4} ± \d\.\d{4}/);
  // The first cell times the one of its kind with the other encoder, not the other protocol's two.
  assert.match(run.stderr, /study \[1\/4\] [^\n]*\(\d+ s; ETA \d+:\d\d for 1 of the 3 cells left \(2 of kinds not timed yet\)\)/);
  assert.match(run.stderr, /study \[2\/4\] [^\n]*\(\d+ s; no ETA yet: none of the 2 cells left is of a kind timed yet\)\n/);
  assert.match(run.stderr, /study \[3\/4\] [^\n]*\(\d+ s; ETA \d+:\d\d\)\n/);
  const config = await printedConfig(run, "study");
  assert.deepEqual([config.name, config.seeds, config.pooling, config.arch], ["tiny", 2, "avg", "vit-tiny"], "with the defaults");
  assert.match(
    run.stdout,
    /^Report on 4 runs\. Prior variants against mae: better by over 2 SE in 0 cells, worse in 0, no clear difference in 0\./,
  );
  assert.deepEqual((await readdir(join(out, "probe", "attributes"))).sort(), ["full", "ratio-0.5"]);

  const report = await readFile(join(out, "report.md"), "utf8");
  assert.match(report, /### linear probe, protocol ratio:0\.5[\s\S]*### linear probe, protocol full/);
  assert.match(report, /\| encoder \| Attributes mean accuracy ↑ \|/);
  assert.match(report, /\| scratch \| (\*\*)?0\.\d{3} ± 0\.\d{3}/);
  assert.match(report, /\| trivial baseline \| 0\.\d{3} \|/);
  assert.match(
    report,
    /## What each prior adds[\s\S]*### Against `mae`[\s\S]*\| linear probe \| full \| Attributes \| scratch \| [+-]0\.\d{3} \| 0\.\d{3} \| (helps|hurts|no clear effect) \|/,
  );
  assert.match(
    report,
    /### Against `scratch`[\s\S]*\| linear probe \| full \| Attributes \| mae \| [+-]0\.\d{3} \| 0\.\d{3} \| (helps|hurts|no clear effect) \|/,
  );
  assert.match(
    report,
    /## Contrasts[\s\S]*\| mode \| protocol \| task \| Δ pretrained: mae − scratch \| Δ reversed: scratch − mae \| Δ\(pretrained\) − Δ\(reversed\) \|/,
  );
  const json = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
  const full = json.effects.contrasts.find((row: { protocol: string }) => row.protocol === "full");
  assert.ok(Math.abs(full.effects[0].delta + full.effects[1].delta) < 1e-12, "the reversed pair's Δ is the negative");
  assert.ok(Math.abs(full.shifts[0].delta - 2 * full.effects[0].delta) < 1e-12, "so the change of Δ is twice Δ");
  assert.equal(json.results.length, 4);
  assert.equal(json.results[0].perSeed.length, 2);
  const html = await readFile(join(out, "report.html"), "utf8");
  assert.match(html, /<table>/);
  const plots = (await readdir(join(out, "plots"))).sort();
  assert.deepEqual(plots, ["ablation-linear-probe-full.png", "ablation-linear-probe-ratio-0.5.png", "fewshot-linear-probe-attributes.png"]);
  for (const plot of plots) assert.match(html, new RegExp(`src="plots/${plot}"`));

  const again = await runCli(["study", "--config", configPath, "--out", out, "--records", join(dir, "records")], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((again.stderr.match(/done before, skipped/g) ?? []).length, 4);
  assert.match(again.stderr, /study: 0 runs done, 4 done before\./);
  const kept = await readFile(join(dir, "records", "probe", "attributes", "full", "mae", "metrics.json"), "utf8");
  assert.equal(
    kept,
    await readFile(join(out, "probe", "attributes", "full", "mae", "metrics.json"), "utf8"),
    "runs done before go to the records too",
  );
});

test("a study with --records keeps each finished run there, and a new study folder takes them from it", needsData, async () => {
  const records = join(dir, "kept");
  const first = await runCli(["study", "--config", configPath, "--out", join(dir, "out-a"), "--records", records], dir);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual((await readdir(join(records, "probe", "attributes", "full"))).sort(), ["mae", "scratch"]);
  assert.deepEqual(await readdir(join(records, "probe", "attributes", "full", "mae")), ["metrics.json"]);
  // Another machine: an empty study folder, the same records.
  const second = await runCli(["study", "--config", configPath, "--out", join(dir, "out-b"), "--records", records], dir);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /study: 0 runs done, 4 done before\./);
  const [a, b] = await Promise.all(
    ["out-a", "out-b"].map(async (out) => JSON.parse(await readFile(join(dir, out, "report.json"), "utf8"))),
  );
  assert.deepEqual(b.results, a.results, "the same report from the kept runs");
  // It needs no encoder file of a finished cell: a new machine need not pretrain those again.
  const moved = join(dir, "moved.json");
  const config = JSON.parse(await readFile(configPath, "utf8"));
  await writeFile(moved, JSON.stringify({ ...config, encoders: { scratch: "scratch", mae: "gone.safetensors" } }));
  const third = await runCli(["study", "--config", moved, "--out", join(dir, "out-c"), "--records", records], dir);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stderr, /study: 0 runs done, 4 done before\./);
  // A report from records that hold only some cells (a study still running elsewhere) runs nothing.
  const partial = join(dir, "kept-partial");
  await cp(records, partial, { recursive: true });
  await rm(join(partial, "probe", "attributes", "full", "mae"), { recursive: true });
  const reportOnly = ["study", "--config", moved, "--out", join(dir, "out-d"), "--records", partial, "--report-only"];
  const fourth = await runCli(reportOnly, dir);
  assert.equal(fourth.code, 0, fourth.stderr);
  assert.match(fourth.stderr, /study: 3 finished runs taken from .*kept-partial\./);
  assert.match(fourth.stdout, /^Report on 3 runs\./);
  const d = JSON.parse(await readFile(join(dir, "out-d", "report.json"), "utf8"));
  assert.equal(d.results.length, 3);
  assert.deepEqual(await readdir(join(dir, "out-d", "probe", "attributes", "full")), ["scratch"], "nothing trained");
  assert.deepEqual(await readdir(join(partial, "probe", "attributes", "full")), ["scratch"], "the records are only read");
});

test("a study whose settings changed runs those cells again, keeps the old ones aside, and reports only the new", needsData, async () => {
  // The same study with a longer probe on all labels: the full cells change, the ratio cells do not.
  const changed = join(dir, "changed.json");
  const config = JSON.parse(await readFile(configPath, "utf8"));
  const grid = [
    { mode: "probe", protocols: ["ratio:0.5"], train: { steps: 20 } },
    { mode: "probe", protocols: ["full"], train: { steps: 30 } },
  ];
  await writeFile(changed, JSON.stringify({ ...config, grid }));
  const records = join(dir, "kept");
  const reportOnly = await runCli(["study", "--config", changed, "--out", join(dir, "out-e"), "--records", records, "--report-only"], dir);
  assert.equal(reportOnly.code, 0, reportOnly.stderr);
  assert.match(
    reportOnly.stderr,
    /study: 2 finished runs taken from .*kept \(2 made under settings the config has changed since, left out\)\./,
  );
  assert.match(reportOnly.stdout, /^Report on 2 runs\./);

  const run = await runCli(["study", "--config", changed, "--out", join(dir, "out-a"), "--records", records], dir);
  assertNoStack(run);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /study \[1\/4\] probe attributes ratio:0\.5 scratch: done before, skipped/);
  const moved =
    /study \[3\/4\] probe attributes full scratch: done before under other settings \(train\.steps 20 -> 30\); moved to (\S+), running it again/;
  assert.match(run.stderr, moved);
  assert.match(run.stderr, /study: 2 runs done, 2 done before\./);
  const aside = join(dir, run.stderr.match(moved)![1]!);
  const oldRun = JSON.parse(await readFile(join(aside, "metrics.json"), "utf8"));
  assert.deepEqual(oldRun.train, { steps: 20 }, "the old run folder is kept whole");
  const old = JSON.parse(await readFile(join(aside, "records", "metrics.json"), "utf8"));
  assert.deepEqual(old.train, { steps: 20 }, "the old record is kept beside the old run");
  const now = JSON.parse(await readFile(join(records, "probe", "attributes", "full", "scratch", "metrics.json"), "utf8"));
  assert.deepEqual(now.train, { steps: 30 }, "the records hold the new run");
  assert.match(run.stdout, /^Report on 4 runs\./);
});

test("a cell stopped before it finished, whose settings then changed, starts again under the new ones", needsData, async () => {
  // out-a and its records hold the changed study, finished; a stop in its last cell loses that
  // cell's metrics.json, and its settings change before the study resumes.
  const records = join(dir, "kept");
  const last = join("probe", "attributes", "full", "mae");
  for (const root of [join(dir, "out-a"), records]) await rm(join(root, last, "metrics.json"));
  const config = JSON.parse(await readFile(configPath, "utf8"));
  const grid = [
    { mode: "probe", protocols: ["ratio:0.5"], train: { steps: 20 } },
    { mode: "probe", protocols: ["full"], train: { steps: 25 } },
  ];
  const stopped = join(dir, "stopped.json");
  await writeFile(stopped, JSON.stringify({ ...config, grid }));
  const run = await runCli(["study", "--config", stopped, "--out", join(dir, "out-a"), "--records", records], dir);
  assertNoStack(run);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /study \[3\/4\] probe attributes full scratch: done before under other settings \(train\.steps 30 -> 25\)/);
  const moved =
    /study \[4\/4\] probe attributes full mae: started before under other settings \(train\.steps 30 -> 25\); moved to (\S+), running it again/;
  assert.match(run.stderr, moved);
  const aside = join(dir, run.stderr.match(moved)![1]!);
  assert.deepEqual(JSON.parse(await readFile(join(aside, "cell-settings.json"), "utf8")).train, { steps: 30 });
  const now = JSON.parse(await readFile(join(records, last, "metrics.json"), "utf8"));
  assert.deepEqual(now.train, { steps: 25 });
  assert.deepEqual(await readdir(join(records, last)), ["metrics.json"], "a finished cell's records hold only its metrics");

  // Another machine, from records that a stop left in that cell: the same check.
  await cp(join(dir, "out-a", last, "cell-settings.json"), join(records, last, "cell-settings.json"));
  await rm(join(records, last, "metrics.json"));
  await writeFile(stopped, JSON.stringify({ ...config, grid: [grid[0], { ...grid[1], train: { steps: 20 } }] }));
  const elsewhere = await runCli(["study", "--config", stopped, "--out", join(dir, "out-f"), "--records", records], dir);
  assert.equal(elsewhere.code, 0, elsewhere.stderr);
  assert.match(elsewhere.stderr, /study \[4\/4\] probe attributes full mae: started before under other settings \(train\.steps 25 -> 20\)/);
  assert.match(elsewhere.stderr, /study: 2 runs done, 2 done before\./);
});

test("a study refuses a folder that holds another study, and a missing encoder file, before any run", needsData, async () => {
  const other = join(dir, "other.json");
  const config = JSON.parse(await readFile(configPath, "utf8"));
  await writeFile(other, JSON.stringify({ ...config, name: "another" }));
  const run = await runCli(["study", "--config", other, "--out", join(dir, "out")], dir);
  assertNoStack(run);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--out .*: holds another study, "tiny" .*, not "another"/);
  await writeFile(other, JSON.stringify({ ...config, encoders: { scratch: "scratch", mae: "nowhere.safetensors" } }));
  const missing = await runCli(["study", "--config", other, "--out", join(dir, "out2")], dir);
  assertNoStack(missing);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /encoder "mae": .*nowhere\.safetensors does not exist\. Pretrain it first/);
});
