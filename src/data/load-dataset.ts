/**
 * One entry point for every dataset layout: `loadDataset(dir)` finds the layout by what the
 * folder holds, `loadDataset(dir, "celeba")` names it. The table below is the list of formats,
 * in the order auto-detection tries them (manifest folders first, file-name layouts last,
 * since a manifest folder of UTKFace images also has UTKFace names).
 */
import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { invalidArgument } from "../errors.js";
import { datasetError, DATASET_FORMATS, type Dataset, type DatasetFormat } from "./dataset.js";
import { loadManifestDataset } from "./manifest.js";
import { detectAffectnet, loadAffectnet } from "./adapters/affectnet.js";
import { detectAgedb, detectUtkface, loadAgedb, loadUtkface } from "./adapters/age-file-names.js";
import { detectBp4d, loadBp4d } from "./adapters/bp4d.js";
import { detectCeleba, detectLfwa, loadCeleba, loadLfwa } from "./adapters/celeba.js";
import { detectCkplus, loadCkplus } from "./adapters/ckplus.js";
import { detectDisfa, loadDisfa } from "./adapters/disfa.js";
import { detectFer2013Csv, detectFer2013Folders, loadFer2013Csv, loadFer2013Folders } from "./adapters/fer2013.js";
import { isFile } from "./adapters/layout.js";
import { detectMorph, loadMorph } from "./adapters/morph.js";
import { detectRafdb, loadRafdb } from "./adapters/rafdb.js";

export type DatasetLayout = {
  format: DatasetFormat;
  /** What the folder holds, for help and for the error when nothing matches. */
  holds: string;
  detect: (root: string) => Promise<boolean>;
  load: (dir: string) => Promise<Dataset>;
};

export const DATASET_LAYOUTS: readonly DatasetLayout[] = [
  {
    format: "manifest",
    holds: "manifest.csv (path + label columns) and optional meta.csv",
    detect: (root) => isFile(join(root, "manifest.csv")),
    load: (dir) => loadManifestDataset(dir),
  },
  { format: "celeba", holds: "list_attr_celeba.txt, list_eval_partition.txt, img_align_celeba/", detect: detectCeleba, load: loadCeleba },
  { format: "lfwa", holds: "list_attr_lfwa.txt, list_eval_partition_lfwa.txt, lfw/", detect: detectLfwa, load: loadLfwa },
  { format: "rafdb", holds: "EmoLabel/list_patition_label.txt, Image/aligned/ (RAF-DB basic)", detect: detectRafdb, load: loadRafdb },
  {
    format: "affectnet",
    holds: "training.csv and/or validation.csv, Manually_Annotated_Images/",
    detect: detectAffectnet,
    load: loadAffectnet,
  },
  { format: "fer2013-csv", holds: "fer2013.csv (emotion, pixels, Usage)", detect: detectFer2013Csv, load: loadFer2013Csv },
  { format: "bp4d", holds: "AUCoding/AU_OCC/F001_T1.csv, Sequences/", detect: detectBp4d, load: loadBp4d },
  { format: "disfa", holds: "ActionUnit_Labels/SN001/SN001_au1.txt, Images/", detect: detectDisfa, load: loadDisfa },
  { format: "ckplus", holds: "FACS/S005/001/S005_001_00000011_facs.txt, cohn-kanade-images/", detect: detectCkplus, load: loadCkplus },
  { format: "morph", holds: "a csv with photo and age columns (MORPH II)", detect: detectMorph, load: loadMorph },
  { format: "fer2013-folders", holds: "train/<class>/*.jpg, test/<class>/*.jpg", detect: detectFer2013Folders, load: loadFer2013Folders },
  { format: "utkface", holds: "<age>_<gender>_<race>_<date>.jpg.chip.jpg images", detect: detectUtkface, load: loadUtkface },
  { format: "agedb", holds: "<id>_<name>_<age>_<m|f>.jpg images", detect: detectAgedb, load: loadAgedb },
];

/** The formats a folder looks like, in detection order. */
export async function detectDatasetFormats(dir: string): Promise<DatasetFormat[]> {
  const root = resolve(dir);
  const found: DatasetFormat[] = [];
  for (const layout of DATASET_LAYOUTS) if (await layout.detect(root)) found.push(layout.format);
  return found;
}

/**
 * Loads a dataset folder in the named format, or in the first format it looks like. A
 * manifest.csv always wins; otherwise, when the folder looks like several formats, the others
 * are named in `warnings`.
 */
export async function loadDataset(dir: string, format: DatasetFormat | "auto" = "auto"): Promise<Dataset> {
  if (format !== "auto" && !(DATASET_FORMATS as readonly string[]).includes(format)) {
    throw invalidArgument("format", `"auto" or one of ${DATASET_FORMATS.join(", ")}`, format);
  }
  const folder = await stat(dir).catch(() => undefined);
  if (!folder?.isDirectory()) throw datasetError(dir, "is not a folder", "Pass the dataset folder.");
  if (format !== "auto") return DATASET_LAYOUTS.find((layout) => layout.format === format)!.load(dir);
  const found = await detectDatasetFormats(dir);
  if (found.length === 0) {
    const formats = DATASET_LAYOUTS.map((layout) => `${layout.format} (${layout.holds})`).join("; ");
    throw datasetError(
      dir,
      `matches no dataset layout. Known layouts: ${formats}`,
      "Pass the folder that holds one of them, or write a manifest.csv.",
    );
  }
  const dataset = await DATASET_LAYOUTS.find((layout) => layout.format === found[0])!.load(dir);
  if (found.length > 1 && found[0] !== "manifest") {
    dataset.warnings.push(`${dir}: looks like ${found.join(", ")}; read as ${found[0]}. Pass the format to choose another.`);
  }
  return dataset;
}
