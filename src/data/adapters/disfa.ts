/**
 * DISFA AU intensities, as distributed:
 *   ActionUnit_Labels/SN001/SN001_au1.txt   (or SN001/ at the root) one file per subject and
 *                                            AU, lines `<frame>,<intensity 0-5>`
 *   Images/SN001/<frame>.jpg                 frames extracted from the left camera video (also
 *                                            `images/`, `img/`, `frames/`; padding and
 *                                            extension read from each folder)
 * The usual 8 AUs (DISFA_AUS) are kept; intensity >= 2 counts as present. The 8 files of a
 * subject must list the same frames. Split: the 3 subject-exclusive folds used since JAA-Net,
 * as subject lists in DISFA_FOLDS.
 */
import { join, resolve } from "node:path";
import { DatasetBuilder } from "../dataset-builder.js";
import { datasetError, type Dataset } from "../dataset.js";
import { readLines } from "../source-files.js";
import { entries, firstFolder, frameNamer, isFolder } from "./layout.js";

export const DISFA_AUS = [1, 2, 4, 6, 9, 12, 25, 26] as const;
export const DISFA_PRESENT_FROM = 2;

/** The standard 3 subject-exclusive folds (9 of the 27 subjects each). */
export const DISFA_FOLDS: readonly (readonly string[])[] = [
  ["SN002", "SN010", "SN001", "SN026", "SN027", "SN032", "SN030", "SN009", "SN016"],
  ["SN013", "SN018", "SN011", "SN028", "SN012", "SN006", "SN031", "SN021", "SN024"],
  ["SN003", "SN029", "SN023", "SN025", "SN008", "SN005", "SN007", "SN017", "SN004"],
];

const FRAME_FOLDERS = ["Images", "images", "img", "frames"];
const SUBJECT = /^SN\d{3}$/;

/** The folder holding the SNxxx label folders ("" for the root), if any. */
async function labelFolder(root: string): Promise<string | undefined> {
  for (const candidate of ["ActionUnit_Labels", ""]) {
    for (const { name, folder } of await entries(join(root, candidate))) {
      if (folder && SUBJECT.test(name) && (await isFolder(join(root, candidate, name)))) {
        const files = await entries(join(root, candidate, name));
        if (files.some((file) => file.name === `${name}_au1.txt`)) return candidate;
      }
    }
  }
  return undefined;
}

export const detectDisfa = async (root: string) => (await labelFolder(root)) !== undefined;

/** frame -> intensity of one label file, in file order. */
async function readIntensities(file: string, shown: string): Promise<Map<number, number>> {
  const intensities = new Map<number, number>();
  for (const { line, text } of await readLines(file, shown, "Each subject needs one file per AU.")) {
    const parts = text.split(/\s*,\s*|\s+/);
    const [frame, intensity] = parts.map(Number);
    if (parts.length !== 2 || !Number.isInteger(frame) || !Number.isInteger(intensity) || intensity < 0 || intensity > 5) {
      throw datasetError({ file: shown, line }, `"${text}" is not "<frame>,<intensity 0-5>"`, "Fix the line.");
    }
    if (intensities.has(frame)) throw datasetError({ file: shown, line }, `frame ${frame} appears twice`, "Remove one of the lines.");
    intensities.set(frame, intensity);
  }
  return intensities;
}

export async function loadDisfa(dir: string): Promise<Dataset> {
  const root = resolve(dir);
  const builder = new DatasetBuilder({
    root,
    format: "disfa",
    task: "au",
    labelColumns: DISFA_AUS.map((au) => `AU${au}`),
    split: { kind: "folds", source: "DISFA folds of JAA-Net", folds: DISFA_FOLDS },
  });
  const labels = await labelFolder(root);
  if (labels === undefined)
    throw datasetError(builder.shown("ActionUnit_Labels"), "not found (no SN001/SN001_au1.txt-style files)", "Pass the DISFA folder.");
  const frames = (await firstFolder(root, FRAME_FOLDERS)) ?? FRAME_FOLDERS[0];
  for (const { name: subject } of (await entries(join(root, labels))).filter((entry) => entry.folder && SUBJECT.test(entry.name))) {
    const relative = (au: number) => join(labels, subject, `${subject}_au${au}.txt`);
    const perAu = [];
    for (const au of DISFA_AUS) perAu.push(await readIntensities(join(root, relative(au)), builder.shown(relative(au))));
    const [first] = perAu;
    perAu.forEach((intensities, k) => {
      const shown = builder.shown(relative(DISFA_AUS[k]));
      const lacking = [...first.keys()].find((frame) => !intensities.has(frame));
      if (lacking !== undefined)
        throw datasetError(shown, `has no line for frame ${lacking}, which ${subject}_au1.txt has`, "Use complete label files.");
      const extra = [...intensities.keys()].find((frame) => !first.has(frame));
      if (extra !== undefined) throw datasetError(shown, `has frame ${extra}, which ${subject}_au1.txt lacks`, "Use complete label files.");
    });
    const frameName = await frameNamer(join(root, frames, subject));
    for (const frame of first.keys()) {
      const present = perAu.map((intensities) => (intensities.get(frame)! >= DISFA_PRESENT_FROM ? 1 : 0));
      builder.add({ file: builder.shown(relative(DISFA_AUS[0])) }, `${frames}/${subject}/${frameName(frame)}`, present, {
        subject,
        frame: String(frame),
      });
    }
  }
  return builder.finish(builder.shown(labels || "."), "Put SN001/SN001_au1.txt-style label files there.");
}
