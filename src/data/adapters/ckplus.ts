/**
 * CK+ FACS codes, as distributed:
 *   FACS/S005/001/S005_001_00000011_facs.txt   the peak frame's codes, one `AU intensity` pair a
 *                                              line (numbers in exponent form, intensity 0 =
 *                                              present but not scored)
 *   cohn-kanade-images/S005/001/S005_001_00000011.png   the peak frame a row points at
 * One row per FACS file (the coded peak frame), labelled over the 19 AU columns of
 * ../shared/data/ckplus_au (CKPLUS_AUS): an AU is present at any intensity. Rarer AUs are only
 * listed in `meta.all_aus_present`. A line whose AU number is not whole (CK+ has one `1.7`
 * typo) is skipped and named in `warnings`. Split: 3 subject-exclusive folds, subjects sorted
 * and dealt round-robin, as for ckplus_au.
 */
import { join, resolve } from "node:path";
import { DatasetBuilder } from "../dataset-builder.js";
import { datasetError, type Dataset } from "../dataset.js";
import { readLines } from "../source-files.js";
import { entries, isFolder } from "./layout.js";

export const CKPLUS_AUS = [1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 16, 17, 20, 23, 24, 25, 26, 27] as const;

const FACS_FILE = /^(S\d{3})_(\d{3})_(\d{8})_facs\.txt$/;

export const detectCkplus = (root: string) => isFolder(join(root, "FACS"));

async function facsFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const subject of await entries(join(root, "FACS"))) {
    if (!subject.folder) continue;
    for (const sequence of await entries(join(root, "FACS", subject.name))) {
      if (!sequence.folder) continue;
      for (const file of await entries(join(root, "FACS", subject.name, sequence.name))) {
        if (FACS_FILE.test(file.name)) found.push(`FACS/${subject.name}/${sequence.name}/${file.name}`);
      }
    }
  }
  return found;
}

export async function loadCkplus(dir: string): Promise<Dataset> {
  const root = resolve(dir);
  const builder = new DatasetBuilder({
    root,
    format: "ckplus",
    task: "au",
    labelColumns: CKPLUS_AUS.map((au) => `AU${au}`),
    split: { kind: "folds", source: "subjects sorted, dealt round-robin", folds: 3 },
  });
  for (const path of await facsFiles(root)) {
    const [, subject, sequence, frame] = FACS_FILE.exec(path.split("/").pop()!)!;
    const shown = builder.shown(path);
    const codes: { au: number; intensity: number }[] = [];
    for (const { line, text } of await readLines(join(root, path), shown)) {
      const parts = text.split(/\s+/);
      const [au, intensity] = parts.map(Number);
      if (parts.length !== 2 || !Number.isFinite(au) || !Number.isInteger(intensity) || intensity < 0) {
        throw datasetError({ file: shown, line }, `"${text}" is not "<AU> <intensity>"`, "Fix the line.");
      }
      if (!Number.isInteger(au)) {
        builder.warn({ file: shown, line }, `AU number ${au} is not whole`, "The line was skipped.");
        continue;
      }
      codes.push({ au, intensity });
    }
    if (codes.length === 0) {
      builder.warn(shown, "holds no AU codes", "The frame was skipped.");
      continue;
    }
    const present = new Set(codes.map((code) => code.au));
    builder.add(
      { file: shown },
      `cohn-kanade-images/${subject}/${sequence}/${subject}_${sequence}_${frame}.png`,
      CKPLUS_AUS.map((au) => (present.has(au) ? 1 : 0)),
      {
        subject,
        sequence: `${subject}_${sequence}`,
        frame_type: "peak",
        facs_raw: codes.map((code) => `${code.au}(${code.intensity})`).join("+"),
        all_aus_present: [...present].sort((a, b) => a - b).join(" "),
      },
    );
  }
  return builder.finish(builder.shown("FACS"), "Pass the CK+ folder holding FACS/ and cohn-kanade-images/.");
}
