/**
 * A user's labelled photos, for a new head (fit-head.ts), from one of three sources:
 *
 *   photos/smiling/*.jpg, photos/neutral/*.jpg   a folder per class         -> softmax over the classes
 *   labels.csv  path,label                        one class name per photo   -> softmax
 *   labels.csv  path,glasses,hat,...              0 or 1 per label per photo -> sigmoid (multi-label)
 *
 * Classes are sorted by name. Paths in a CSV are relative to its folder and must stay inside it
 * (the checks every dataset loader makes, DatasetBuilder). Photos are not opened here.
 */
import { readdir, stat } from "node:fs/promises";
import { dirname, extname, join, relative, sep } from "node:path";
import { DatasetBuilder } from "../../data/dataset-builder.js";
import { datasetError, someOf, type SourceLine } from "../../data/dataset.js";
import { IMAGE_EXTENSIONS, imageFilesIn } from "../../data/image-files.js";
import { readCsv, repeatedColumns } from "../../data/source-files.js";
import { invalidArgument } from "../../errors.js";

export type LabelledPhoto = {
  /** The file to open. */
  file: string;
  /** Relative to the source's folder, forward slashes: how the split names the photo. */
  path: string;
  /** softmax: [class index]; sigmoid: one 0 or 1 per label. */
  targets: number[];
};

export type LabelledPhotos = {
  /** The folder or CSV they came from, as given; names them in messages. */
  source: string;
  activation: "softmax" | "sigmoid";
  /** Class names (softmax) or label names (sigmoid), in output order. */
  labels: string[];
  photos: LabelledPhoto[];
};

/** Fewest photos per class (softmax), and per label with it and without it (sigmoid), a head is fitted on. */
export const MIN_PHOTOS_PER_LABEL = 2;

const SOURCES = "a folder with one subfolder of photos per class, or a CSV of labels (path,label or path,<label>,...)";

/** Reads labelled photos from a folder of class folders or a labels CSV. */
export async function readLabelledPhotos(path: string): Promise<LabelledPhotos> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw datasetError(path, "no such file or folder", `Pass ${SOURCES}.`);
  if (info.isDirectory()) return readClassFolders(path);
  if (extname(path).toLowerCase() === ".csv") return readLabelsCsv(path);
  throw datasetError(path, "is neither a folder nor a .csv file", `Pass ${SOURCES}.`);
}

/** `dir/<class>/**` images -> a softmax source; loose photos beside the class folders are an error. */
export async function readClassFolders(dir: string): Promise<LabelledPhotos> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((entry) => !entry.name.startsWith("."));
  const loose = entries
    .filter((entry) => entry.isFile() && IMAGE_EXTENSIONS.includes(extname(entry.name).toLowerCase()))
    .map((entry) => entry.name);
  if (loose.length > 0) {
    throw datasetError(
      dir,
      `holds photos outside class folders (${someOf(loose, 3)})`,
      `Move each photo into the folder of its class, e.g. ${join(dir, "<class>", loose[0]!)}.`,
    );
  }
  const labels = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  if (labels.length < 2) {
    const found = labels.length === 0 ? "no class folders" : `one class folder (${labels[0]})`;
    throw datasetError(
      dir,
      `has ${found}; a head needs 2 classes or more`,
      `Put each class's photos in its own subfolder: ${join(dir, "smiling")}/, ${join(dir, "neutral")}/.`,
    );
  }
  const photos: LabelledPhoto[] = [];
  for (const [k, label] of labels.entries()) {
    const files = await imageFilesIn(join(dir, label));
    photos.push(...files.map((file) => ({ file, path: relative(dir, file).split(sep).join("/"), targets: [k] })));
  }
  return checkEnoughPhotos({ source: dir, activation: "softmax", labels, photos });
}

/** `path,label` (class names) or `path,<label>,...` (0 or 1 each); paths relative to the CSV's folder. */
export async function readLabelsCsv(file: string): Promise<LabelledPhotos> {
  const { header, records } = await readCsv(file, file);
  const headerLine: SourceLine = { file, line: 1 };
  const repeated = repeatedColumns(header);
  if (repeated.length > 0) throw datasetError(headerLine, `repeats columns ${someOf(repeated)}`, "Give each column one name.");
  if (!header.includes("path"))
    throw datasetError(
      headerLine,
      `has no "path" column (columns: ${someOf(header)})`,
      'Name the photo column "path": path,label or path,<label>,....',
    );
  const columns = header.filter((column) => column !== "path");
  if (columns.length === 0 || columns.includes("")) {
    throw datasetError(
      headerLine,
      columns.length === 0 ? "has no label columns" : "has a column without a name",
      "Write path,label (one class per photo) or path,<label>,... (0 or 1 each).",
    );
  }
  if (columns.includes("label") && columns.length > 1) {
    throw datasetError(
      headerLine,
      `has a "label" column and others (${someOf(columns.filter((c) => c !== "label"))})`,
      "Use path,label (one class name per photo) or path,<label>,... (0 or 1 each), not both.",
    );
  }
  const classes = columns[0] === "label";
  // Only the builder's path checks are used: inside the folder, through symlinks, and unique.
  const builder = new DatasetBuilder({
    root: dirname(file),
    format: "manifest",
    task: "none",
    labelColumns: columns,
    split: { kind: "all-train" },
  });
  const names: string[] = [];
  const at = (column: string) => header.indexOf(column);
  for await (const { line, values } of records) {
    const labels = classes ? [] : columns.map((column) => binaryValue({ file, line }, column, values[at(column)]!));
    builder.add({ file, line }, values[at("path")]!, labels, {});
    if (classes) {
      const name = values[at("label")]!.trim();
      if (name === "") throw datasetError({ file, line }, "label is empty", "Give each photo its class name.");
      names.push(name);
    }
  }
  const rows = builder.finish(file, "Add one line per photo after the header.").rows;
  if (!classes)
    return checkEnoughPhotos({
      source: file,
      activation: "sigmoid",
      labels: columns,
      photos: rows.map(({ file, path, labels }) => ({ file, path, targets: labels })),
    });
  const labels = [...new Set(names)].sort();
  if (labels.length < 2)
    throw datasetError(file, `names one class (${labels[0]}); a head needs 2 classes or more`, "Add photos of the other classes.");
  return checkEnoughPhotos({
    source: file,
    activation: "softmax",
    labels,
    photos: rows.map(({ file, path }, i) => ({ file, path, targets: [labels.indexOf(names[i]!)] })),
  });
}

function binaryValue(at: SourceLine, column: string, value: string): number {
  const trimmed = value.trim();
  if (trimmed !== "0" && trimmed !== "1")
    throw datasetError(at, `${column} is "${value}", expected 0 or 1`, "Mark each label 1 (present) or 0 (absent).");
  return Number(trimmed);
}

/** Checks photos built by hand (the readers build them right): each photo's targets fit the labels. */
export function checkTargets({ activation, labels, photos }: LabelledPhotos): void {
  const fits =
    activation === "softmax"
      ? (t: readonly number[]) => t.length === 1 && Number.isInteger(t[0]) && t[0]! >= 0 && t[0]! < labels.length
      : (t: readonly number[]) => t.length === labels.length && t.every((v) => v === 0 || v === 1);
  const bad = photos.findIndex((photo) => !fits(photo.targets));
  if (bad < 0) return;
  const expected = activation === "softmax" ? `[a class index 0-${labels.length - 1}]` : `${labels.length} values, each 0 or 1`;
  throw invalidArgument(`photos.photos[${bad}].targets (${photos[bad]!.file})`, expected, photos[bad]!.targets);
}

/** A group of photos that must keep MIN_PHOTOS_PER_LABEL: a class, or a label's photos with it or without it. */
export type LabelGroup = { label: string; what: string; has: (targets: readonly number[]) => boolean };

/** The groups of a softmax source (one per class) or a sigmoid one (two per label). */
export function labelGroups(photos: Pick<LabelledPhotos, "activation" | "labels">): LabelGroup[] {
  if (photos.activation === "softmax")
    return photos.labels.map((label, k) => ({ label, what: `photos of "${label}"`, has: (t) => t[0] === k }));
  return photos.labels.flatMap((label, k) => [
    { label, what: `photos with "${label}"`, has: (t: readonly number[]) => t[k] === 1 },
    { label, what: `photos without "${label}"`, has: (t: readonly number[]) => t[k] === 0 },
  ]);
}

export type LeftOutPhoto = LabelledPhoto & { reason: string };

/**
 * `photos`, when every group has MIN_PHOTOS_PER_LABEL; else an error naming the first that falls
 * short and why its photos in `leftOut` were left out.
 */
export function checkEnoughPhotos<T extends LabelledPhotos>(photos: T, leftOut: readonly LeftOutPhoto[] = []): T {
  const short = labelGroups(photos).find((group) => photos.photos.filter((p) => group.has(p.targets)).length < MIN_PHOTOS_PER_LABEL);
  if (!short) return photos;
  const count = photos.photos.filter((p) => short.has(p.targets)).length;
  const lost = leftOut.filter((p) => short.has(p.targets)).map((p) => p.reason);
  const because =
    lost.length > 0 ? ` (left out: ${lost.slice(0, 3).join("; ")}${lost.length > 3 ? `; and ${lost.length - 3} more` : ""})` : "";
  throw datasetError(
    photos.source,
    `${short.what}: ${count} usable${because}; a head needs at least ${MIN_PHOTOS_PER_LABEL}`,
    `Add ${short.what}, or leave "${short.label}" out.`,
  );
}
