/**
 * Five varied faces for the README's showcase, each from its dataset's test split (the project's
 * split code, seed 0: faces no shipped head trained on): a colour portrait, a grayscale face, a
 * child, an old person and a man with a beard. Picked by rule, not by hand: the first test row,
 * in manifest order, that meets each description. Prints one absolute path a line, for
 *
 *   faceprior analyze $(node dist/bench/showcase-photos.js) --overlay docs/showcase
 *
 *   node dist/bench/showcase-photos.js [--data ../shared/data]
 */
import "./errors-without-stack.js";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadDataset } from "../src/data/load-dataset.js";
import { splitDataset } from "../src/data/splits.js";
import { CELEBA_ATTRIBUTES, EXPRESSION_CLASSES } from "../src/data/tasks.js";
import type { DatasetRow } from "../src/data/dataset.js";

type Pick = { folder: string; describe: string; matches: (row: DatasetRow) => boolean };

const attribute = (row: DatasetRow, name: (typeof CELEBA_ATTRIBUTES)[number]) => row.labels[CELEBA_ATTRIBUTES.indexOf(name)] === 1;

const PICKS: readonly Pick[] = [
  {
    folder: "celebahq_attr",
    describe: "colour portrait, smiling, no eyeglasses",
    matches: (row) => attribute(row, "Smiling") && !attribute(row, "Eyeglasses") && !attribute(row, "Male"),
  },
  {
    folder: "fer2013",
    describe: "grayscale face (FER2013 is grey), surprised",
    matches: (row) => EXPRESSION_CLASSES[row.labels[0]!] === "surprise",
  },
  { folder: "utkface", describe: "child, 3 to 8 years", matches: (row) => row.labels[0]! >= 3 && row.labels[0]! <= 8 },
  { folder: "utkface", describe: "old person, 75 to 90 years", matches: (row) => row.labels[0]! >= 75 && row.labels[0]! <= 90 },
  {
    folder: "celebahq_attr",
    describe: "man with a beard (goatee and moustache)",
    matches: (row) =>
      !attribute(row, "No_Beard") && attribute(row, "Goatee") && attribute(row, "Mustache") && !attribute(row, "Eyeglasses"),
  },
];

const { values } = parseArgs({ options: { data: { type: "string", default: "../shared/data" } } });

for (const pick of PICKS) {
  const dataset = await loadDataset(join(values.data!, pick.folder));
  const row = splitDataset(dataset)
    .test.map((index) => dataset.rows[index]!)
    .find(pick.matches);
  if (!row) throw new Error(`showcase-photos: no test face in ${pick.folder} is a ${pick.describe}.`);
  console.error(`${pick.describe}: ${pick.folder}/${row.path}`);
  console.log(row.file);
}
