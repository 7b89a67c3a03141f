/**
 * Manifest folders: `manifest.csv` (a `path` column plus one task's label columns) and an
 * optional `meta.csv` (a `path` column plus anything else), joined on `path`. The layout of
 * every folder in ../shared/data, and what `faceprior` writes for prepared data.
 *
 * Everything is checked here, at the boundary, with the file and line in the message: the
 * columns against the task (see `tasks.ts`), every label value, paths (relative, inside the
 * folder through symlinks, unique), an empty manifest, and meta rows for paths the manifest
 * lacks. A manifest row without a meta row is not an error: it gets empty meta and one
 * summary line in `dataset.warnings` (a split that needs the meta field then names the row).
 * Image files are not opened; `findMissingImages` lists the absent ones.
 */
import { stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { DatasetBuilder } from "./dataset-builder.js";
import { normaliseRowPath } from "./dataset-paths.js";
import { datasetError, someOf, DEFAULT_HASH_FRACTIONS, type Dataset, type DatasetRow, type SourceLine, type SplitRule } from "./dataset.js";
import { readCsv, repeatedColumns } from "./source-files.js";
import { detectTask, labelDomain, parseLabel, type TaskName } from "./tasks.js";

export type LoadManifestOptions = {
  /** Fail unless the manifest holds this task's labels. */
  task?: TaskName;
};

/** The official values of the meta columns that carry a split. */
const META_SPLITS: readonly Extract<SplitRule, { kind: "meta" }>[] = [
  { kind: "meta", column: "split", train: ["train"], val: ["val", "validation"], test: ["test"] },
  { kind: "meta", column: "fer2013_usage", train: ["Training"], val: ["PublicTest"], test: ["PrivateTest"] },
];

/**
 * The split of a manifest folder (METHOD §3), from what its meta holds: unlabelled data all
 * trains; a `split` or `fer2013_usage` column is the official split; AU data with a `subject`
 * column gets 3 subject-exclusive folds; anything else 80/10/10 by a seeded hash of the file name.
 */
export function manifestSplitRule(task: TaskName, metaColumns: readonly string[]): SplitRule {
  if (task === "none") return { kind: "all-train" };
  const official = META_SPLITS.find((rule) => metaColumns.includes(rule.column));
  if (official) return official;
  if (task === "au" && metaColumns.includes("subject")) return { kind: "folds", source: "subjects sorted, dealt round-robin", folds: 3 };
  return { kind: "hash", by: "file", fractions: DEFAULT_HASH_FRACTIONS };
}

export async function loadManifestDataset(dir: string, options: LoadManifestOptions = {}): Promise<Dataset> {
  const root = resolve(dir);
  const folder = await stat(root).catch(() => undefined);
  if (!folder?.isDirectory()) throw datasetError(dir, "is not a folder", "Pass the dataset folder that holds manifest.csv.");
  const name = basename(root);
  const shown = `${name}/manifest.csv`;
  const { header, records } = await readCsv(
    join(root, "manifest.csv"),
    shown,
    "Write manifest.csv (a path column plus label columns), or read a benchmark's own layout with loadDataset.",
  );
  const headerLine: SourceLine = { file: shown, line: 1 };
  const repeated = repeatedColumns(header);
  if (repeated.length > 0) throw datasetError(headerLine, `repeats columns ${someOf(repeated)}`, "Give each column one name.");
  const pathColumn = header.indexOf("path");
  if (pathColumn < 0) throw datasetError(headerLine, `has no "path" column (columns: ${someOf(header)})`, 'Name the image column "path".');
  const detected = detectTask(header.filter((column) => column !== "path"));
  if ("problem" in detected) throw datasetError(headerLine, detected.problem, detected.fix);
  const { task, labelColumns } = detected;
  if (options.task !== undefined && options.task !== task) {
    throw datasetError(
      headerLine,
      `holds ${task} labels (${someOf(labelColumns, 3)}), expected ${options.task}`,
      `Pass the ${options.task} dataset.`,
    );
  }
  const builder = new DatasetBuilder({ root, format: "manifest", task, labelColumns, split: { kind: "all-train" } });
  const labelAt = labelColumns.map((column) => header.indexOf(column));
  for await (const { line, values } of records) {
    const labels = labelAt.map((at, k) => {
      const value = parseLabel(task, values[at]);
      if (value === undefined) {
        throw datasetError({ file: shown, line }, `${labelColumns[k]} is "${values[at]}", expected ${labelDomain(task)}`, "Fix the label.");
      }
      return value;
    });
    builder.add({ file: shown, line }, values[pathColumn], labels, {});
  }
  const dataset = builder.finish(shown, "Add one line per image after the header.");
  const metaColumns = await joinMeta(root, name, dataset);
  return { ...dataset, split: manifestSplitRule(task, metaColumns) };
}

/** Reads meta.csv into the rows' meta; returns its columns ([] without meta.csv). */
async function joinMeta(root: string, name: string, dataset: Dataset): Promise<string[]> {
  const file = join(root, "meta.csv");
  if (!(await stat(file).catch(() => undefined))) return [];
  const shown = `${name}/meta.csv`;
  const { header, records } = await readCsv(file, shown);
  const headerLine: SourceLine = { file: shown, line: 1 };
  const repeated = repeatedColumns(header);
  if (repeated.length > 0) throw datasetError(headerLine, `repeats columns ${someOf(repeated)}`, "Give each column one name.");
  const pathColumn = header.indexOf("path");
  if (pathColumn < 0)
    throw datasetError(headerLine, `has no "path" column (columns: ${someOf(header)})`, "Add it: meta rows join manifest rows on path.");
  const byPath = new Map<string, DatasetRow>(dataset.rows.map((row) => [row.path, row]));
  const seen = new Map<string, number>();
  for await (const { line, values } of records) {
    const checked = normaliseRowPath(values[pathColumn]);
    if ("problem" in checked) throw datasetError({ file: shown, line }, checked.problem, checked.fix);
    const first = seen.get(checked.path);
    if (first !== undefined)
      throw datasetError({ file: shown, line }, `path "${checked.path}" repeats line ${first}`, "Remove one of them.");
    seen.set(checked.path, line);
    const row = byPath.get(checked.path);
    if (!row) {
      throw datasetError(
        { file: shown, line },
        `path "${checked.path}" is not in manifest.csv`,
        "Remove the line, or add the image to manifest.csv.",
      );
    }
    header.forEach((column, k) => {
      if (k !== pathColumn) row.meta[column] = values[k];
    });
  }
  const missing = dataset.rows.filter((row) => !seen.has(row.path)).map((row) => row.path);
  if (missing.length > 0) {
    dataset.warnings.push(
      `${shown}: has no line for ${missing.length} manifest rows (${someOf(missing)}). Their meta is empty; splits that need a meta field will name them.`,
    );
  }
  return header.filter((column) => column !== "path");
}
