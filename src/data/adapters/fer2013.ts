/**
 * FER2013 in its two common forms. Both give rows `meta.fer2013_usage` (Training, PublicTest,
 * PrivateTest), split as ../shared/data/fer2013 is: train on Training, select on PublicTest,
 * report PrivateTest.
 *
 * The original table, `fer2013.csv` (or Kaggle's `icml_face_data.csv`): columns emotion (0-6:
 * angry, disgust, fear, happy, sad, surprise, neutral, our class order), pixels (48x48 = 2,304
 * gray values 0-255) and Usage. No image files are written: a row's path is
 * `fer2013.csv#<line>`, its `file` the table, and its 48x48 gray pixels are in `row.pixels`
 * (about 80 MB for the 35,887 rows). `rowImageInput` turns such a row into encoded image bytes.
 *
 * The folder form: `train/<class>/*.jpg` and `test/<class>/*.jpg` (also `val/` or
 * `validation/`); class folders may use the usual variants (anger, happiness, ...). Usage
 * comes from a `Training_`/`PublicTest_`/`PrivateTest_` file-name prefix when there is one,
 * else from the folder: train -> Training, val -> PublicTest, test -> PrivateTest.
 */
import { basename, join, resolve } from "node:path";
import { DatasetBuilder } from "../dataset-builder.js";
import { datasetError, type Dataset, type SplitRule } from "../dataset.js";
import { readCsv } from "../source-files.js";
import { EXPRESSION_CLASSES, expressionIndex } from "../tasks.js";
import { entries, firstFile, firstFolder, listImages } from "./layout.js";

const USAGES = ["Training", "PublicTest", "PrivateTest"];
const FER_SPLIT: SplitRule = { kind: "meta", column: "fer2013_usage", train: ["Training"], val: ["PublicTest"], test: ["PrivateTest"] };
const TABLES = ["fer2013.csv", "icml_face_data.csv"];
const SIDE = 48;

export const detectFer2013Csv = async (root: string) => (await firstFile(root, TABLES)) !== undefined;

function parsePixels(text: string): Uint8Array | undefined {
  const values = text.split(" ");
  if (values.length !== SIDE * SIDE) return undefined;
  const data = new Uint8Array(values.length);
  for (let k = 0; k < values.length; k++) {
    const value = Number(values[k]);
    if (!Number.isInteger(value) || value < 0 || value > 255 || values[k] === "") return undefined;
    data[k] = value;
  }
  return data;
}

export async function loadFer2013Csv(dir: string): Promise<Dataset> {
  const root = resolve(dir);
  const builder = new DatasetBuilder({ root, format: "fer2013-csv", task: "expression", labelColumns: ["expression"], split: FER_SPLIT });
  const table = await firstFile(root, TABLES);
  if (!table) throw datasetError(builder.shown(TABLES[0]), "not found", "Pass the folder holding FER2013's csv.");
  const shown = builder.shown(table);
  const { header, records } = await readCsv(join(root, table), shown);
  const [emotionAt, pixelsAt, usageAt] = ["emotion", "pixels", "Usage"].map((name) => header.indexOf(name));
  if (emotionAt < 0 || pixelsAt < 0 || usageAt < 0) {
    throw datasetError(
      { file: shown, line: 1 },
      `has columns ${header.join(", ")}, expected emotion, pixels, Usage`,
      "Use FER2013's own csv.",
    );
  }
  for await (const { line, values } of records) {
    const at = { file: shown, line };
    const emotion = Number(values[emotionAt]);
    if (values[emotionAt] === "" || !Number.isInteger(emotion) || emotion < 0 || emotion >= EXPRESSION_CLASSES.length) {
      throw datasetError(at, `emotion is "${values[emotionAt]}", expected 0-6 (${EXPRESSION_CLASSES.join(", ")})`, "Fix the label.");
    }
    if (!USAGES.includes(values[usageAt]))
      throw datasetError(at, `Usage is "${values[usageAt]}", expected ${USAGES.join(", ")}`, "Fix the value.");
    const data = parsePixels(values[pixelsAt]);
    if (!data) throw datasetError(at, `pixels are not ${SIDE * SIDE} values 0-255 separated by single spaces`, "Fix or remove the line.");
    const pixels = { width: SIDE, height: SIDE, channels: 1 as const, data };
    builder.add(at, `${table}#${line}`, [emotion], { fer2013_usage: values[usageAt] }, { file: join(root, table), pixels });
  }
  return builder.finish(shown, "Use FER2013's own csv.");
}

const SPLIT_FOLDERS = [
  { names: ["train"], usage: "Training" },
  { names: ["val", "validation"], usage: "PublicTest" },
  { names: ["test"], usage: "PrivateTest" },
];

export async function detectFer2013Folders(root: string): Promise<boolean> {
  const classes = (await entries(join(root, "train"))).filter((entry) => entry.folder && expressionIndex(entry.name) !== undefined);
  return classes.length > 0;
}

export async function loadFer2013Folders(dir: string): Promise<Dataset> {
  const root = resolve(dir);
  const builder = new DatasetBuilder({
    root,
    format: "fer2013-folders",
    task: "expression",
    labelColumns: ["expression"],
    split: FER_SPLIT,
  });
  for (const { names, usage } of SPLIT_FOLDERS) {
    const folder = await firstFolder(root, names);
    if (!folder) continue;
    for (const entry of await entries(join(root, folder))) {
      if (!entry.folder) continue;
      const label = expressionIndex(entry.name);
      if (label === undefined) {
        throw datasetError(
          builder.shown(`${folder}/${entry.name}`),
          `folder "${entry.name}" is not an expression class (${EXPRESSION_CLASSES.join(", ")})`,
          "Rename or remove the folder.",
        );
      }
      for (const image of await listImages(join(root, folder, entry.name), 0)) {
        const path = `${folder}/${entry.name}/${image}`;
        const prefix = /^(Training|PublicTest|PrivateTest)_/.exec(basename(image));
        builder.add({ file: builder.shown(path) }, path, [label], { fer2013_usage: prefix ? prefix[1] : usage, folder });
      }
    }
  }
  return builder.finish(
    builder.shown("train"),
    `Put images in train/<class>/ and test/<class>/, class one of ${EXPRESSION_CLASSES.join(", ")}.`,
  );
}
