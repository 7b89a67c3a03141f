/**
 * RAF-DB basic, as distributed (pass the `basic/` folder):
 *   EmoLabel/list_patition_label.txt   `train_00001.jpg 5` (the file name's prefix is the
 *                                      official split, train or test; the spelling "patition" is
 *                                      RAF-DB's, "partition" is accepted too)
 *   Image/aligned/train_00001_aligned.jpg   the aligned 100x100 faces that rows point at
 * RAF-DB's label ids 1-7 are surprise, fear, disgust, happiness, sadness, anger, neutral;
 * they are mapped to our class names. The protocol has no val set (see `holdOutVal`).
 */
import { join, resolve } from "node:path";
import { DatasetBuilder } from "../dataset-builder.js";
import { datasetError, type Dataset } from "../dataset.js";
import { readLines } from "../source-files.js";
import { EXPRESSION_CLASSES, type ExpressionClass } from "../tasks.js";
import { firstFile } from "./layout.js";

/** RAF-DB basic's label id minus 1 -> our class. */
export const RAF_CLASSES: readonly ExpressionClass[] = ["surprise", "fear", "disgust", "happy", "sad", "angry", "neutral"];

const LABEL_LISTS = ["EmoLabel/list_patition_label.txt", "EmoLabel/list_partition_label.txt"];
const IDS = RAF_CLASSES.map((name, k) => `${k + 1} ${name}`).join(", ");

export const detectRafdb = async (root: string) => (await firstFile(root, LABEL_LISTS)) !== undefined;

export async function loadRafdb(dir: string): Promise<Dataset> {
  const root = resolve(dir);
  const builder = new DatasetBuilder({
    root,
    format: "rafdb",
    task: "expression",
    labelColumns: ["expression"],
    split: { kind: "meta", column: "split", train: ["train"], val: [], test: ["test"] },
  });
  const list = await firstFile(root, LABEL_LISTS);
  if (!list) throw datasetError(builder.shown(LABEL_LISTS[0]), "not found", "Pass RAF-DB's basic/ folder.");
  const shown = builder.shown(list);
  for (const { line, text } of await readLines(join(root, list), shown)) {
    const parts = text.split(/\s+/);
    const match = /^(train|test)_\w+(?=\.\w+$)/.exec(parts[0]);
    if (parts.length !== 2 || !match) {
      throw datasetError({ file: shown, line }, `"${text}" is not "<train_|test_ image> <label>"`, "Fix the line.");
    }
    const id = Number(parts[1]);
    if (!Number.isInteger(id) || id < 1 || id > RAF_CLASSES.length) {
      throw datasetError({ file: shown, line }, `label "${parts[1]}" is not a RAF-DB basic id (${IDS})`, "Fix the label.");
    }
    const labels = [EXPRESSION_CLASSES.indexOf(RAF_CLASSES[id - 1])];
    builder.add({ file: shown, line }, `Image/aligned/${match[0]}_aligned.jpg`, labels, { split: match[1], raf_label: parts[1] });
  }
  return builder.finish(shown, "Use RAF-DB basic's label list.");
}
