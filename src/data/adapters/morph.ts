/**
 * MORPH II from a CSV at the folder's root, such as `morph_2008_nonCommercial.csv`. Accepted
 * columns (first match wins, names compared without case):
 *   image path   photo, filename, file, path, image   relative to the folder, e.g. `Album2/003077_00M22.JPG`
 *   age          age                                  integer years 0-120
 *   subject      id_num, subject_id, subject, id      optional; kept as `meta.subject`
 * Every other column is kept in meta as is. Split 80/10/10 by a seeded hash of the subject
 * (subject-exclusive), or of the file name without a subject column.
 */
import { basename, join, resolve } from "node:path";
import { DatasetBuilder } from "../dataset-builder.js";
import { datasetError, DEFAULT_HASH_FRACTIONS, type Dataset } from "../dataset.js";
import { firstLine, readCsv } from "../source-files.js";
import { labelDomain, parseLabel } from "../tasks.js";
import { entries } from "./layout.js";

const PATH_COLUMNS = ["photo", "filename", "file", "path", "image"];
const SUBJECT_COLUMNS = ["id_num", "subject_id", "subject", "id"];

function columnOf(header: readonly string[], names: readonly string[]): number {
  const lower = header.map((name) => name.toLowerCase());
  for (const name of names) if (lower.includes(name)) return lower.indexOf(name);
  return -1;
}

/** The first CSV at the root (manifest.csv and meta.csv aside) whose header has a path and an age column. */
async function findTable(root: string): Promise<string | undefined> {
  for (const { name, folder } of await entries(root)) {
    if (folder || !name.toLowerCase().endsWith(".csv") || name === "manifest.csv" || name === "meta.csv") continue;
    const header = ((await firstLine(join(root, name))) ?? "").split(",").map((column) => column.trim().replace(/^"|"$/g, ""));
    if (columnOf(header, PATH_COLUMNS) >= 0 && columnOf(header, ["age"]) >= 0) return name;
  }
  return undefined;
}

export const detectMorph = async (root: string) => (await findTable(root)) !== undefined;

export async function loadMorph(dir: string): Promise<Dataset> {
  const root = resolve(dir);
  const table = await findTable(root);
  if (!table) {
    throw datasetError(
      dir,
      "has no CSV with an image path column and an age column",
      `Put MORPH's csv there, with columns ${PATH_COLUMNS.join("/")} and age.`,
    );
  }
  const shown = `${basename(root)}/${table}`;
  const { header, records } = await readCsv(join(root, table), shown);
  const pathAt = columnOf(header, PATH_COLUMNS);
  const ageAt = columnOf(header, ["age"]);
  const subjectAt = columnOf(header, SUBJECT_COLUMNS);
  const builder = new DatasetBuilder({
    root,
    format: "morph",
    task: "age",
    labelColumns: ["age"],
    split: { kind: "hash", by: subjectAt >= 0 ? "subject" : "file", fractions: DEFAULT_HASH_FRACTIONS },
  });
  for await (const { line, values } of records) {
    const age = parseLabel("age", values[ageAt]);
    if (age === undefined)
      throw datasetError({ file: shown, line }, `${header[ageAt]} is "${values[ageAt]}", expected ${labelDomain("age")}`, "Fix the label.");
    const meta: Record<string, string> = {};
    header.forEach((column, k) => {
      if (k !== pathAt && k !== ageAt) meta[column] = values[k];
    });
    if (subjectAt >= 0) meta.subject = values[subjectAt];
    builder.add({ file: shown, line }, values[pathAt], [age], meta);
  }
  return builder.finish(shown, "Add one line per image.");
}
