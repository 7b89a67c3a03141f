import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { cellDir, loadStudyConfig, studyCells } from "./study-config.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "faceprior-study-config-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(name: string, config: object): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(config));
  return path;
}

const BASE = {
  name: "t",
  encoders: { scratch: "scratch", mae: "runs/mae.safetensors" },
  data: { au: "cache/au", expression: "cache/fer" },
  grid: [
    { mode: "probe", protocols: ["full", "ratio:0.1"] },
    { mode: "finetune", tuneBlocks: 1, encoders: ["mae"], tasks: ["expression"], protocols: ["kshot:5"], train: { steps: 10 } },
  ],
};

test("a study config resolves paths against its own folder and expands its grid in order", async () => {
  const config = await loadStudyConfig(await writeConfig("ok.json", BASE));
  assert.equal(config.encoders.mae, join(dir, "runs/mae.safetensors"));
  assert.equal(config.encoders.scratch, "scratch");
  assert.equal(config.data.expression, join(dir, "cache/fer"));
  assert.equal(config.seeds, 3, "default seeds");
  const cells = studyCells(config);
  // Block 1: 2 tasks x 2 protocols x 2 encoders; block 2: one cell.
  assert.equal(cells.length, 9);
  assert.deepEqual(cells.map(cellDir).slice(0, 2), ["probe/au/full/scratch", "probe/au/full/mae"]);
  assert.equal(cellDir(cells.at(-1)!), "finetune-last1/expression/kshot-5/mae");
  assert.deepEqual(cells.at(-1)!.train, { steps: 10 });
});

test("a study config with an unknown encoder, a bad protocol or a bad training field names the field", async () => {
  const unknown = { ...BASE, grid: [{ mode: "probe", encoders: ["full"], protocols: ["full"] }] };
  await assert.rejects(
    loadStudyConfig(await writeConfig("unknown.json", unknown)),
    /grid\.0\.encoders names "full", which is not in "encoders" \(scratch, mae\)/,
  );
  const protocol = { ...BASE, grid: [{ mode: "probe", protocols: ["half"] }] };
  await assert.rejects(
    loadStudyConfig(await writeConfig("protocol.json", protocol)),
    /grid\.0\.protocols\.0: a protocol: full, ratio:<f> or kshot:<k> \(got "half"\)/,
  );
  const train = { ...BASE, grid: [{ mode: "probe", protocols: ["full"], train: { stepz: 3 } }] };
  await assert.rejects(loadStudyConfig(await writeConfig("train.json", train)), /grid\.0\.train: .*stepz/);
  const noData = { ...BASE, grid: [{ mode: "probe", tasks: ["age"], protocols: ["full"] }] };
  await assert.rejects(
    loadStudyConfig(await writeConfig("nodata.json", noData)),
    /grid\.0\.tasks names "age", which has no cache in "data"/,
  );
  const contrast = { ...BASE, contrasts: [{ name: "pool", encoder: "full", reference: "mae" }] };
  await assert.rejects(
    loadStudyConfig(await writeConfig("contrast.json", contrast)),
    /contrasts\.0 names "full", which is not in "encoders" \(scratch, mae\)/,
  );
  await assert.rejects(loadStudyConfig(join(dir, "missing.json")), /config .*missing\.json: no such file\.$/);
});
