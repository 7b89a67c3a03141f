import assert from "node:assert/strict";
import { test } from "node:test";
import { images, rejectsWith, writeLayout, type Layout } from "../../../test/support/dataset-layouts.js";
import { splitDataset } from "../splits.js";
import { DISFA_AUS, loadDisfa } from "./disfa.js";

/** Label files of one subject: intensity of AU `au` at frame f is `intensity(au, f)`, frames 1-3. */
function subject(name: string, intensity: (au: number, frame: number) => number, frames = [1, 2, 3]): Layout {
  return Object.fromEntries(
    DISFA_AUS.map((au) => [
      `ActionUnit_Labels/${name}/${name}_au${au}.txt`,
      frames.map((f) => `${f},${intensity(au, f)}`).join("\n") + "\n",
    ]),
  );
}

test("DISFA: intensity >= 2 is present, frames named as in each subject folder, the JAA-Net folds", async () => {
  const root = await writeLayout("DISFA", {
    ...subject("SN001", (au, f) => (au === 12 ? f : 0)),
    ...subject("SN013", (au) => (au === 26 ? 5 : 1)),
    "ActionUnit_Labels/SN013/SN013_au5.txt": "1,5\n",
    ...images("Images/SN001/001.png"),
  });
  const dataset = await loadDisfa(root);
  assert.deepEqual(
    dataset.labelColumns,
    DISFA_AUS.map((au) => `AU${au}`),
  );
  assert.deepEqual(
    dataset.rows.map((row) => row.path),
    [
      "Images/SN001/001.png",
      "Images/SN001/002.png",
      "Images/SN001/003.png",
      "Images/SN013/1.jpg",
      "Images/SN013/2.jpg",
      "Images/SN013/3.jpg",
    ],
  );
  const au12 = DISFA_AUS.indexOf(12);
  assert.deepEqual(
    dataset.rows.slice(0, 3).map((row) => row.labels[au12]),
    [0, 1, 1],
    "intensity 1 is absent, 2 and 3 present",
  );
  assert.deepEqual(
    dataset.rows[3].labels,
    DISFA_AUS.map((au) => (au === 26 ? 1 : 0)),
  );
  assert.deepEqual(splitDataset(dataset, { fold: 0 }), { train: [3, 4, 5], val: [], test: [0, 1, 2] });
  assert.deepEqual(splitDataset(dataset, { fold: 2 }).test, []);
});

test("DISFA: a bad line, a missing AU file or unequal frames are errors naming the file", async () => {
  const bad = subject("SN002", () => 0);
  bad["ActionUnit_Labels/SN002/SN002_au9.txt"] = "1,0\n2,7\n3,0\n";
  await rejectsWith(
    loadDisfa(await writeLayout("DISFA", bad)),
    'DISFA/ActionUnit_Labels/SN002/SN002_au9.txt line 2: "2,7" is not "<frame>,<intensity 0-5>"',
  );
  const missing = subject("SN002", () => 0);
  delete missing["ActionUnit_Labels/SN002/SN002_au25.txt"];
  await rejectsWith(loadDisfa(await writeLayout("DISFA", missing)), "DISFA/ActionUnit_Labels/SN002/SN002_au25.txt: not found");
  const short = { ...subject("SN002", () => 0), "ActionUnit_Labels/SN002/SN002_au4.txt": "1,0\n2,0\n" };
  await rejectsWith(
    loadDisfa(await writeLayout("DISFA", short)),
    "DISFA/ActionUnit_Labels/SN002/SN002_au4.txt: has no line for frame 3, which SN002_au1.txt has",
  );
});

test("DISFA: subject folders at the root read the same", async () => {
  const layout = Object.fromEntries(
    Object.entries(subject("SN003", () => 2)).map(([path, text]) => [path.replace("ActionUnit_Labels/", ""), text]),
  );
  const dataset = await loadDisfa(await writeLayout("DISFA", layout));
  assert.equal(dataset.rows.length, 3);
  assert.ok(dataset.rows.every((row) => row.labels.every((label) => label === 1)));
});
