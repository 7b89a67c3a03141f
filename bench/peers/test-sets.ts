/**
 * The peer comparison's test faces: each dataset's test split by the project's own split code
 * (loadDataset + splitDataset, seed 0, the split the bundled model's heads were held out on),
 * read in place from the shared data folder, never copied.
 */
import { access } from "node:fs/promises";
import { join } from "node:path";
import { loadDataset } from "../../src/data/load-dataset.js";
import { splitDataset } from "../../src/data/splits.js";
import { CELEBA_ATTRIBUTES, expressionIndex } from "../../src/data/tasks.js";
import type { DatasetRow } from "../../src/data/dataset.js";

/** One test image and the labels its dataset gives it. */
export type TestFace = { file: string; expression?: number; age?: number; male?: boolean };

export type Task = "expression" | "age" | "gender";

export type TestSetSpec = {
  /** The folder in the shared data. */
  folder: string;
  /** What its labels let us score. */
  tasks: readonly Task[];
  /**
   * Border added before detection, as a fraction of the longer side, the same for every system
   * (the same pixels for all). Tight crops need one, and face-api's SSD detector, trained on
   * wider shots, needs the widest: on 40 faces of each validation split it found 0/40 FER2013
   * faces at 0.2, 10 at 0.5, 32 at 1, 37 at 2; UTKFace 29 at 0.2, 37 at 0.5; CelebA-HQ 39 at 0;
   * CK+ (40 faces of subject fold 1, not the test fold) 37 at 0.2, 40 at 0.5. Each set takes the
   * smallest border at which it found 90%; BlazeFace (faceprior, human) found 38-40 of 40 at
   * every border tried. CK+ takes 0.5: at 0.2 face-api found only 200 of its 240 test faces.
   */
  pad: number;
  /** What it is, for the report. */
  about: string;
  /** A row's labels, or undefined for a face the set does not score (CK+'s contempt: none of the 7 classes). */
  labels: (row: DatasetRow) => Omit<TestFace, "file"> | undefined;
};

export type TestSet = Omit<TestSetSpec, "labels"> & { splitFaces: number; faces: TestFace[] };

const MALE_COLUMN = CELEBA_ATTRIBUTES.indexOf("Male");

/** CK+'s emotion folder as a class, undefined for contempt. */
function ckplusExpression(row: DatasetRow): Omit<TestFace, "file"> | undefined {
  const expression = expressionIndex(row.meta.emotion_folder ?? "");
  return expression === undefined ? undefined : { expression };
}

export const TEST_SETS: readonly TestSetSpec[] = [
  {
    folder: "fer2013",
    tasks: ["expression"],
    pad: 2,
    about: "FER2013 PrivateTest: 48x48 grey web crops, the data faceprior's expression head was trained on",
    labels: (row) => ({ expression: row.labels[0]! }),
  },
  {
    folder: "utkface",
    tasks: ["age", "gender"],
    pad: 0.5,
    about: "UTKFace's test split: colour snapshots of all ages",
    // UTKFace's meta.csv codes gender 0 = male, 1 = female (its SOURCE.md).
    labels: (row) => ({ age: row.labels[0]!, male: row.meta.gender === "0" }),
  },
  {
    folder: "celebahq_attr",
    tasks: ["gender"],
    pad: 0,
    about: "CelebA-HQ's test split: celebrity portraits",
    labels: (row) => ({ male: row.labels[MALE_COLUMN] === 1 }),
  },
  {
    folder: "ckplus_au",
    tasks: ["expression"],
    pad: 0.5,
    about:
      "CK+ subject fold 0 (the subjects the AU head was held out on): posed peak frames and neutral first frames of 128x128 grey lab crops, labelled by their emotion folder (contempt left out); no expression head here was trained on CK+",
    labels: ckplusExpression,
  },
];

/**
 * `limit` of the items, evenly spread over the list (every (n/limit)-th, from the first), so a
 * subset of a list sorted by class or age still covers every class and age; all when `limit`
 * is undefined or not smaller.
 */
export function evenlySpread<T>(items: readonly T[], limit?: number): T[] {
  if (limit === undefined || limit >= items.length) return [...items];
  return Array.from({ length: limit }, (_, i) => items[Math.floor((i * items.length) / limit)]!);
}

/** The test split of one dataset, or undefined when its folder is not there. */
export async function loadTestSet(dataDir: string, spec: TestSetSpec, limit?: number): Promise<TestSet | undefined> {
  const dir = join(dataDir, spec.folder);
  if (
    !(await access(join(dir, "manifest.csv")).then(
      () => true,
      () => false,
    ))
  )
    return undefined;
  const dataset = await loadDataset(dir);
  // A dataset in subject folds is tested on fold 0, the bundled model's held-out fold.
  const split = splitDataset(dataset, dataset.split.kind === "folds" ? { fold: 0 } : {});
  const { labels, ...set } = spec;
  const faces = split.test.flatMap((index) => {
    const row = dataset.rows[index]!;
    const labelled = labels(row);
    return labelled ? [{ file: row.file, ...labelled }] : [];
  });
  return { ...set, splitFaces: faces.length, faces: evenlySpread(faces, limit) };
}
