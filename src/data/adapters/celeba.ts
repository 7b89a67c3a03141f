/**
 * CelebA and LFWA, both read from CelebA-style text lists.
 *
 * CelebA, as downloaded (the lists at the root or in `Anno/` and `Eval/`):
 *   list_attr_celeba.txt      line 1 the image count, line 2 the 40 names, then
 *                             `000001.jpg -1  1  1 ...` (-1 absent, 1 present; 0 also read as absent)
 *   list_eval_partition.txt   `000001.jpg 0` (0 train, 1 val, 2 test): the official partition
 *   img_align_celeba/         the aligned and cropped images (also `img_align_celeba/img_align_celeba/`)
 *
 * LFWA (the CelebA authors' LFW attribute labels, converted to the same text form, since the
 * release is MATLAB files):
 *   list_attr_lfwa.txt             same form as list_attr_celeba.txt; names are paths under lfw/,
 *                                  e.g. `Aaron_Eckhart/Aaron_Eckhart_0001.jpg`
 *   list_eval_partition_lfwa.txt   same form as list_eval_partition.txt (the official 6,263 train
 *                                  and 6,970 test images: 0 and 2)
 *   lfw/                           the images
 * Both partitions are required; rows carry it as `meta.split`.
 */
import { join, resolve } from "node:path";
import { DatasetBuilder } from "../dataset-builder.js";
import { datasetError, type Dataset, type DatasetFormat, type SourceLine } from "../dataset.js";
import { readLines } from "../source-files.js";
import { CELEBA_ATTRIBUTES, labelDomain, parseLabel } from "../tasks.js";
import { firstFile, isFolder } from "./layout.js";

type AttributeLayout = {
  format: DatasetFormat;
  attributes: readonly string[];
  partition: readonly string[];
  images: (root: string) => Promise<string>;
};

const PARTITION_NAMES: Record<string, string> = { "0": "train", "1": "val", "2": "test" };

const CELEBA: AttributeLayout = {
  format: "celeba",
  attributes: ["list_attr_celeba.txt", "Anno/list_attr_celeba.txt"],
  partition: ["list_eval_partition.txt", "Eval/list_eval_partition.txt", "Anno/list_eval_partition.txt"],
  images: async (root) =>
    (await isFolder(join(root, "img_align_celeba/img_align_celeba"))) ? "img_align_celeba/img_align_celeba" : "img_align_celeba",
};

const LFWA: AttributeLayout = {
  format: "lfwa",
  attributes: ["list_attr_lfwa.txt"],
  partition: ["list_eval_partition_lfwa.txt"],
  images: async () => "lfw",
};

/** `name -> split` from a partition list, checking every line. */
async function readPartition(file: string, shown: string): Promise<Map<string, string>> {
  const split = new Map<string, string>();
  for (const { line, text } of await readLines(file, shown)) {
    const parts = text.split(/\s+/);
    const part = PARTITION_NAMES[parts[1]];
    if (parts.length !== 2 || !part) {
      throw datasetError({ file: shown, line }, `"${text}" is not "<image> <0|1|2>"`, "Fix the line (0 train, 1 val, 2 test).");
    }
    split.set(parts[0], part);
  }
  return split;
}

async function loadAttributeLists(dir: string, layout: AttributeLayout): Promise<Dataset> {
  const root = resolve(dir);
  const builder = new DatasetBuilder({
    root,
    format: layout.format,
    task: "attributes",
    labelColumns: [...CELEBA_ATTRIBUTES],
    split: { kind: "meta", column: "split", train: ["train"], val: ["val"], test: ["test"] },
  });
  const attributes = await firstFile(root, layout.attributes);
  const partition = await firstFile(root, layout.partition);
  const missing = !attributes ? layout.attributes[0] : !partition ? layout.partition[0] : undefined;
  if (missing)
    throw datasetError(
      builder.shown(missing),
      "not found",
      `Put the ${layout.format} label lists in ${root} (see the ${layout.format} layout).`,
    );
  const shown = builder.shown(attributes!);
  const splitOf = await readPartition(join(root, partition!), builder.shown(partition!));
  const lines = await readLines(join(root, attributes!), shown);
  if (lines.length < 2) throw datasetError(shown, "has no attribute names", "Re-download the file.");
  const names = lines[1].text.split(/\s+/);
  const at = (line: number): SourceLine => ({ file: shown, line });
  const unknown = names.filter((name) => !(CELEBA_ATTRIBUTES as readonly string[]).includes(name));
  const absent = CELEBA_ATTRIBUTES.filter((name) => !names.includes(name));
  if (unknown.length > 0 || absent.length > 0 || names.length !== CELEBA_ATTRIBUTES.length) {
    throw datasetError(
      at(lines[1].line),
      `names ${names.length} attributes (unknown: ${unknown.join(", ") || "none"}; missing: ${absent.join(", ") || "none"})`,
      "The second line must hold CelebA's 40 attribute names.",
    );
  }
  const column = CELEBA_ATTRIBUTES.map((name) => names.indexOf(name));
  const images = await layout.images(root);
  for (const { line, text } of lines.slice(2)) {
    const [name, ...values] = text.split(/\s+/);
    if (values.length !== names.length)
      throw datasetError(at(line), `has ${values.length} values, expected ${names.length}`, "Fix or remove the line.");
    const labels = column.map((k) => {
      const value = parseLabel("attributes", values[k]);
      if (value === undefined)
        throw datasetError(at(line), `${names[k]} is "${values[k]}", expected ${labelDomain("attributes")}`, "Fix the label.");
      return value;
    });
    const split = splitOf.get(name);
    if (!split)
      throw datasetError(at(line), `image "${name}" has no line in ${partition}`, "Use the partition list that came with these labels.");
    builder.add(at(line), `${images}/${name}`, labels, { split });
  }
  const count = Number(lines[0].text);
  if (String(count) !== lines[0].text || count !== builder.rows.length) {
    throw datasetError(
      at(lines[0].line),
      `says "${lines[0].text}" images, the file lists ${builder.rows.length}`,
      "The file is cut short or edited; re-download it.",
    );
  }
  return builder.finish(shown, "Re-download the file.");
}

export const detectCeleba = async (root: string) => (await firstFile(root, CELEBA.attributes)) !== undefined;
export const loadCeleba = (dir: string) => loadAttributeLists(dir, CELEBA);
export const detectLfwa = async (root: string) => (await firstFile(root, LFWA.attributes)) !== undefined;
export const loadLfwa = (dir: string) => loadAttributeLists(dir, LFWA);
