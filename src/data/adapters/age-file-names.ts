/**
 * Age datasets whose labels are in the file names; images are found in the folder and up to
 * two levels of subfolders (UTKFace's `UTKFace/` or `part1/`-`part3/`, AgeDB's `AgeDB/`).
 *
 * UTKFace: `<age>_<gender>_<race>_<date&time>.jpg.chip.jpg` (aligned and cropped) or `.jpg`
 *   (in the wild); gender 0 male, 1 female; race 0-4, missing in a few files. Split 80/10/10 by
 *   a seeded hash of the file name, as ../shared/data/utkface (UTKFace has no identities).
 * AgeDB: `<id>_<name>_<age>_<gender>.jpg`, e.g. `0_MariaCallas_35_f.jpg`; split 80/10/10 by a
 *   seeded hash of the person's name (`meta.subject`), so nobody is in two splits.
 * Image files whose names do not parse are skipped and counted in `warnings`; an age outside
 * 0-120 is an error naming the file.
 */
import { basename, resolve } from "node:path";
import { DatasetBuilder } from "../dataset-builder.js";
import { datasetError, someOf, DEFAULT_HASH_FRACTIONS, type Dataset, type DatasetFormat, type SplitRule } from "../dataset.js";
import { AGE_RANGE } from "../tasks.js";
import { listImages } from "./layout.js";

type NameLayout = {
  format: DatasetFormat;
  pattern: RegExp;
  form: string;
  split: SplitRule;
  /** Age and meta from a matched name. */
  read: (match: RegExpExecArray) => { age: string; meta: Record<string, string> };
};

const UTKFACE: NameLayout = {
  format: "utkface",
  pattern: /^(\d{1,3})_([01])_(?:([0-4])_)?(\d{8,17})\.jpg(?:\.chip\.jpg)?$/,
  form: "<age>_<gender>_<race>_<date&time>.jpg.chip.jpg",
  split: { kind: "hash", by: "file", fractions: DEFAULT_HASH_FRACTIONS },
  read: (m) => ({ age: m[1], meta: { gender: m[2], race: m[3] ?? "", date: m[4] } }),
};

const AGEDB: NameLayout = {
  format: "agedb",
  pattern: /^(\d+)_(.+)_(\d{1,3})_([mf])\.(?:jpe?g|png)$/i,
  form: "<id>_<name>_<age>_<m|f>.jpg",
  split: { kind: "hash", by: "subject", fractions: DEFAULT_HASH_FRACTIONS },
  read: (m) => ({ age: m[3], meta: { agedb_id: m[1], subject: m[2], gender: m[4].toLowerCase() } }),
};

const DEPTH = 2;

async function detectNames(root: string, layout: NameLayout): Promise<boolean> {
  return (await listImages(root, 1)).some((path) => layout.pattern.test(basename(path)));
}

async function loadNames(dir: string, layout: NameLayout): Promise<Dataset> {
  const root = resolve(dir);
  const builder = new DatasetBuilder({ root, format: layout.format, task: "age", labelColumns: ["age"], split: layout.split });
  const skipped: string[] = [];
  for (const path of await listImages(root, DEPTH)) {
    const match = layout.pattern.exec(basename(path));
    if (!match) {
      skipped.push(path);
      continue;
    }
    const { age, meta } = layout.read(match);
    const years = Number(age);
    if (years < AGE_RANGE.min || years > AGE_RANGE.max) {
      throw datasetError(
        builder.shown(path),
        `age ${years} in the file name is outside ${AGE_RANGE.min}-${AGE_RANGE.max}`,
        "Rename or remove the file.",
      );
    }
    builder.add({ file: builder.shown(path) }, path, [years], meta);
  }
  if (skipped.length > 0) {
    builder.warn(builder.name, `${skipped.length} image names are not ${layout.form} (${someOf(skipped)})`, "They were skipped.");
  }
  return builder.finish(builder.name, `Pass the folder of ${layout.format} images named ${layout.form}.`);
}

export const detectUtkface = (root: string) => detectNames(root, UTKFACE);
export const loadUtkface = (dir: string) => loadNames(dir, UTKFACE);
export const detectAgedb = (root: string) => detectNames(root, AGEDB);
export const loadAgedb = (dir: string) => loadNames(dir, AGEDB);
