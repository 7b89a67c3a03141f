/**
 * AffectNet (manually annotated part), as distributed:
 *   training.csv, validation.csv   columns subDirectory_filePath, face_x, face_y, face_width,
 *                                  face_height, facial_landmarks, expression, valence, arousal
 *   Manually_Annotated_Images/     `<subDirectory_filePath>` under it
 * Expression ids 0-6 are neutral, happy, sad, surprise, fear, disgust, anger and map to our 7
 * classes. Ids 7 (contempt), 8 (none), 9 (uncertain) and 10 (no face) are left out of this
 * 7-class task, counted in `warnings`. The test set is not public: validation.csv is the test
 * split (as papers report), training.csv trains, and there is no val set (see `holdOutVal`).
 * Rows keep the face box, valence and arousal in meta; the landmarks are dropped.
 */
import { join, resolve } from "node:path";
import { DatasetBuilder } from "../dataset-builder.js";
import { datasetError, type Dataset } from "../dataset.js";
import { firstLine, readCsv } from "../source-files.js";
import { EXPRESSION_CLASSES, type ExpressionClass } from "../tasks.js";
import { isFile } from "./layout.js";

/** AffectNet's expression ids 0-6 -> our classes. */
export const AFFECTNET_CLASSES: readonly ExpressionClass[] = ["neutral", "happy", "sad", "surprise", "fear", "disgust", "angry"];
const LEFT_OUT = ["contempt", "none", "uncertain", "no face"];
const FILES = [
  { name: "training.csv", split: "training" },
  { name: "validation.csv", split: "validation" },
];
const KEPT_META = ["face_x", "face_y", "face_width", "face_height", "valence", "arousal"];
const IMAGES = "Manually_Annotated_Images";

export async function detectAffectnet(root: string): Promise<boolean> {
  for (const { name } of FILES) if ((await firstLine(join(root, name)))?.includes("subDirectory_filePath")) return true;
  return false;
}

export async function loadAffectnet(dir: string): Promise<Dataset> {
  const root = resolve(dir);
  const builder = new DatasetBuilder({
    root,
    format: "affectnet",
    task: "expression",
    labelColumns: ["expression"],
    split: { kind: "meta", column: "split", train: ["training"], val: [], test: ["validation"] },
  });
  let found = 0;
  for (const { name, split } of FILES) {
    if (!(await isFile(join(root, name)))) continue;
    found++;
    const shown = builder.shown(name);
    const { header, records } = await readCsv(join(root, name), shown);
    const pathAt = header.indexOf("subDirectory_filePath");
    const expressionAt = header.indexOf("expression");
    if (pathAt < 0 || expressionAt < 0) {
      throw datasetError(
        { file: shown, line: 1 },
        `lacks ${pathAt < 0 ? '"subDirectory_filePath"' : '"expression"'} (columns: ${header.join(", ")})`,
        "Use AffectNet's own csv.",
      );
    }
    const metaAt = KEPT_META.map((column) => [column, header.indexOf(column)] as const).filter(([, at]) => at >= 0);
    const leftOut = new Array<number>(LEFT_OUT.length).fill(0);
    for await (const { line, values } of records) {
      const raw = values[expressionAt];
      const id = Number(raw);
      if (raw === "" || !Number.isInteger(id) || id < 0 || id > 10) {
        throw datasetError({ file: shown, line }, `expression is "${raw}", expected an AffectNet id 0-10`, "Fix the label.");
      }
      if (id >= AFFECTNET_CLASSES.length) {
        leftOut[id - AFFECTNET_CLASSES.length]++;
        continue;
      }
      const meta: Record<string, string> = { split, affectnet_expression: raw };
      for (const [column, at] of metaAt) meta[column] = values[at];
      builder.add({ file: shown, line }, `${IMAGES}/${values[pathAt]}`, [EXPRESSION_CLASSES.indexOf(AFFECTNET_CLASSES[id])], meta);
    }
    const counts = LEFT_OUT.map((label, k) => `${leftOut[k]} ${label}`).join(", ");
    if (leftOut.some((count) => count > 0))
      builder.warn(shown, `left out ids 7-10 (${counts})`, "The expression task has the 7 basic classes.");
  }
  if (found === 0)
    throw datasetError(builder.shown("training.csv"), "not found (nor validation.csv)", "Pass the AffectNet folder holding its csv files.");
  return builder.finish(builder.shown("training.csv"), "Check the csv files.");
}
