/**
 * BP4D-Spontaneous AU occurrence, as distributed:
 *   AUCoding/AU_OCC/F001_T1.csv   (or AU_OCC/) one file per subject and task: a header, then
 *                                 one line per coded frame; the first column is the frame
 *                                 number, the others AU numbers (`1`, `AU1` or `AU01`) with 1
 *                                 present, 0 absent, 9 not coded
 *   Sequences/F001/T1/<frame>.jpg  the frames (also `images/`, `img/` or `frames/`); the
 *                                 zero padding and extension are read from each folder
 * The usual 12 AUs are kept (BP4D_AUS). A frame where any of them is 9 is skipped (counted in
 * `warnings`). Split: the 3 subject-exclusive folds used since JAA-Net (Shao et al., ECCV
 * 2018), as subject lists in BP4D_FOLDS.
 */
import { join, resolve } from "node:path";
import { DatasetBuilder } from "../dataset-builder.js";
import { datasetError, type Dataset } from "../dataset.js";
import { readCsv } from "../source-files.js";
import { entries, firstFolder, frameNamer } from "./layout.js";

export const BP4D_AUS = [1, 2, 4, 6, 7, 10, 12, 14, 15, 17, 23, 24] as const;

/** The standard 3 subject-exclusive folds (14, 14 and 13 of the 41 subjects). */
export const BP4D_FOLDS: readonly (readonly string[])[] = [
  ["F001", "M007", "F018", "F008", "F002", "M004", "F010", "F009", "M012", "M001", "F016", "M014", "F023", "M008"],
  ["M011", "F003", "M010", "M002", "F005", "F022", "M018", "M017", "F013", "M016", "F020", "F011", "M013", "M005"],
  ["F007", "F015", "F006", "F019", "M006", "M009", "F012", "M003", "F004", "F021", "F017", "M015", "F014"],
];

const LABEL_FOLDERS = ["AUCoding/AU_OCC", "AU_OCC"];
export const FRAME_FOLDERS = ["Sequences", "images", "img", "frames"];
const SEQUENCE_FILE = /^([FM]\d{3})_(T\d+)\.csv$/;

export const detectBp4d = async (root: string) => (await firstFolder(root, LABEL_FOLDERS)) !== undefined;

/** Column of each AU in a header whose first column is the frame. */
function auColumns(header: readonly string[], shown: string, aus: readonly number[]): number[] {
  const numbers = header.map((name, k) => (k === 0 ? NaN : Number(/^(?:AU)?0*(\d+)$/i.exec(name)?.[1])));
  return aus.map((au) => {
    const at = numbers.indexOf(au);
    if (at < 0)
      throw datasetError(
        { file: shown, line: 1 },
        `has no column for AU${au}`,
        `Use BP4D's AU_OCC files (the frame, then AU columns including ${aus.join(", ")}).`,
      );
    return at;
  });
}

export async function loadBp4d(dir: string): Promise<Dataset> {
  const root = resolve(dir);
  const builder = new DatasetBuilder({
    root,
    format: "bp4d",
    task: "au",
    labelColumns: BP4D_AUS.map((au) => `AU${au}`),
    split: { kind: "folds", source: "BP4D folds of JAA-Net", folds: BP4D_FOLDS },
  });
  const labels = await firstFolder(root, LABEL_FOLDERS);
  if (!labels) throw datasetError(builder.shown(LABEL_FOLDERS[0]), "not found", "Pass the BP4D folder holding AUCoding/AU_OCC.");
  const frames = (await firstFolder(root, FRAME_FOLDERS)) ?? FRAME_FOLDERS[0];
  let uncoded = 0;
  for (const { name } of await entries(join(root, labels))) {
    const match = SEQUENCE_FILE.exec(name);
    if (!match) continue;
    const [, subject, task] = match;
    const shown = builder.shown(`${labels}/${name}`);
    const { header, records } = await readCsv(join(root, labels, name), shown);
    const columns = auColumns(header, shown, BP4D_AUS);
    const frameName = await frameNamer(join(root, frames, subject, task));
    for await (const { line, values } of records) {
      const frame = Number(values[0]);
      if (values[0] === "" || !Number.isInteger(frame) || frame < 0)
        throw datasetError({ file: shown, line }, `frame is "${values[0]}", expected a frame number`, "Fix the line.");
      const coded = columns.map((at) => values[at]);
      const bad = coded.findIndex((value) => value !== "0" && value !== "1" && value !== "9");
      if (bad >= 0)
        throw datasetError(
          { file: shown, line },
          `AU${BP4D_AUS[bad]} is "${coded[bad]}", expected 0, 1 or 9 (not coded)`,
          "Fix the label.",
        );
      if (coded.includes("9")) {
        uncoded++;
        continue;
      }
      builder.add({ file: shown, line }, `${frames}/${subject}/${task}/${frameName(frame)}`, coded.map(Number), {
        subject,
        sequence: `${subject}_${task}`,
        frame: String(frame),
      });
    }
  }
  if (uncoded > 0) builder.warn(builder.shown(labels), `${uncoded} frames have an AU coded 9 (not coded)`, "They were skipped.");
  return builder.finish(builder.shown(labels), "Put the F001_T1.csv-style files there.");
}
