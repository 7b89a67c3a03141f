/**
 * The JSON files faceprior writes and later reads back (a prior cache's cache.json, a study's
 * study.json and its cells' metrics.json), damaged or hand-edited: each is an error that names
 * the file and what to do, never an internal error.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { readCacheIndex } from "../priors/prior-cache.js";
import { runStudy } from "../study/run-study.js";
import { cellDir, loadStudyConfig, studyCells } from "../study/study-config.js";
import { collectResults } from "../study/study-results.js";
import { rejectsWithError } from "../../test/support/faceprior-error.js";
import { scratchDir } from "../../test/support/scratch-dir.js";

/** A one-cell study (scratch encoder, AU probe, full protocol) whose inputs exist, and its output folder. */
async function oneCellStudy() {
  const dir = await scratchDir("faceprior-damaged-");
  await mkdir(join(dir, "cache"));
  await writeFile(join(dir, "cache", "cache.json"), "{}");
  await writeFile(
    join(dir, "study-config.json"),
    JSON.stringify({ name: "t", encoders: { scratch: "scratch" }, data: { au: "cache" }, grid: [{ mode: "probe", protocols: ["full"] }] }),
  );
  const config = await loadStudyConfig(join(dir, "study-config.json"));
  const out = join(dir, "out");
  await mkdir(join(out, cellDir(studyCells(config)[0]!)), { recursive: true });
  return { config, out, metrics: join(out, cellDir(studyCells(config)[0]!), "metrics.json") };
}

test("a damaged cache.json is a BAD_CONFIG naming it, with the way out", async () => {
  const dir = await scratchDir("faceprior-damaged-");
  await writeFile(join(dir, "cache.json"), '{"format": "faceprior-prior-cache", "vers');
  await rejectsWithError(
    readCacheIndex(dir),
    "BAD_CONFIG",
    /cache\.json: is not valid JSON \(.+\)\. Delete it to prepare the cache anew, or use another output folder\./,
  );
});

test("a damaged study.json stops the study with its name, before any cell runs", async () => {
  const { config, out } = await oneCellStudy();
  await writeFile(join(out, "study.json"), '{"name": ');
  await rejectsWithError(
    runStudy({ config, out }),
    "BAD_CONFIG",
    /out\/study\.json: is not valid JSON \(.+\)\. Delete it, then run the same study again to resume, or use a new output folder\./,
  );
});

test("a damaged or hand-edited metrics.json is a BAD_CONFIG naming the cell's file", async () => {
  const { config, out, metrics } = await oneCellStudy();
  await writeFile(metrics, "");
  await rejectsWithError(
    collectResults(config, out),
    "BAD_CONFIG",
    /probe\/au\/full\/scratch\/metrics\.json: is not valid JSON \(.+\)\. Delete the cell's folder, and run the study again to redo that cell\./,
  );
  await writeFile(metrics, JSON.stringify({ headline: { name: "f1", higherIsBetter: true }, baseline: null, runs: [], seconds: 1 }));
  await rejectsWithError(collectResults(config, out), "BAD_CONFIG", /metrics\.json: runs: .*(>=1|at least 1|1 item)/);
});
