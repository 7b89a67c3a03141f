/**
 * The peer comparison's test faces: each dataset's test split by the project's own split code
 * (loadDataset + splitDataset, seed 0, the split the bundled model's heads were held out on),
 * read in place from the shared data folder, never copied.
 */
import { access } from "node:fs/promises";
import { join } from "node:path";
import { loadDataset } from "../../src/data/load-dataset.js";
import { splitDataset } from "../../src/data/splits.js";
import { CELEBA_ATTRIBUTES } from "../../src/data/tasks.js";
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
   * faces at 0.2, 10 at 0.5, 32 at 1, 37 at 2; UTKFace 29 at 0.2, 37 at 0.5; CelebA-HQ 39 at 0.
   * Each set takes the smallest border at which it found 90%; BlazeFace (faceprior, human)
   * found 38-40 of 40 at every border tried.
   */
  pad: number;
  labels: (row: DatasetRow) => Omit<TestFace, "file">;
};

export type TestSet = Omit<TestSetSpec, "labels"> & { splitFaces: number; faces: TestFace[] };

const MALE_COLUMN = CELEBA_ATTRIBUTES.indexOf("Male");

export const TEST_SETS: readonly TestSetSpec[] = [
  { folder: "fer2013", tasks: ["expression"], pad: 2, labels: (row) => ({ expression: row.labels[0]! }) },
  // UTKFace's meta.csv codes gender 0 = male, 1 = female (its SOURCE.md).
  { folder: "utkface", tasks: ["age", "gender"], pad: 0.5, labels: (row) => ({ age: row.labels[0]!, male: row.meta.gender === "0" }) },
  { folder: "celebahq_attr", tasks: ["gender"], pad: 0, labels: (row) => ({ male: row.labels[MALE_COLUMN] === 1 }) },
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
  const test = splitDataset(dataset).test.map((index) => dataset.rows[index]!);
  const { labels, ...set } = spec;
  return { ...set, splitFaces: test.length, faces: evenlySpread(test, limit).map((row) => ({ file: row.file, ...labels(row) })) };
}
