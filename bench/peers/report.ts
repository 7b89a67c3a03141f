/**
 * The peer comparison as markdown tables (printed; bench/README.md quotes them): per test set
 * a headline table, then the shape of the answers behind it (per-class recall and predicted
 * class counts for expression, error and mean prediction per decade for age).
 */
import { EXPRESSION_CLASSES } from "../../src/data/tasks.js";
import { NO_FACE, type SystemScores } from "./scores.js";
import type { TestSet } from "./test-sets.js";

export type SystemRun = {
  system: string;
  loadSeconds: number;
  /** Wall time over the test images: decoding, detection and every model. */
  seconds: number;
  imagesPerSecond: number;
  scores: SystemScores;
  /** The same on the faces every system found (undefined when there are none). */
  commonScores?: SystemScores;
};

export type SetResult = Omit<TestSet, "faces"> & { faces: number; commonFaces: number; runs: SystemRun[] };

const percent = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "-" : (100 * x).toFixed(1));
const years = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "-" : x.toFixed(1));

function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

type Column = { header: string; cell: (run: SystemRun) => string };

function headlineColumns(set: SetResult): Column[] {
  const common = `on the ${set.commonFaces} faces all found`;
  const columns: Column[] = [
    { header: "system", cell: (run) => run.system },
    { header: `faces found of ${set.faces}`, cell: (run) => String(run.scores.faces - run.scores.noFace) },
    { header: "images/s", cell: (run) => run.imagesPerSecond.toFixed(2) },
  ];
  if (set.tasks.includes("expression")) {
    columns.push(
      { header: "expression accuracy %", cell: (run) => percent(run.scores.expression?.accuracy) },
      { header: "balanced accuracy %", cell: (run) => percent(run.scores.expression?.balancedAccuracy) },
      { header: `accuracy % ${common}`, cell: (run) => percent(run.commonScores?.expression?.accuracy) },
    );
  }
  if (set.tasks.includes("age")) {
    columns.push(
      { header: "age MAE (faces found)", cell: (run) => years(run.scores.age?.mae) },
      { header: "CS@5 %", cell: (run) => percent(run.scores.age?.cs5) },
      { header: `MAE ${common}`, cell: (run) => years(run.commonScores?.age?.mae) },
    );
  }
  if (set.tasks.includes("gender")) {
    columns.push(
      { header: "gender accuracy %", cell: (run) => percent(run.scores.gender?.accuracy) },
      { header: `accuracy % ${common}`, cell: (run) => percent(run.commonScores?.gender?.accuracy) },
      {
        header: "male share % predicted / true",
        cell: (run) => `${percent(run.scores.gender?.predictedMaleShare)} / ${percent(run.scores.gender?.trueMaleShare)}`,
      },
    );
  }
  return columns;
}

function headlineTable(set: SetResult): string {
  const columns = headlineColumns(set);
  return markdownTable(
    columns.map((c) => c.header),
    set.runs.map((run) => columns.map((c) => c.cell(run))),
  );
}

/** Rows = systems; columns = the 7 classes (and no face), one value per class. */
function perClassTable(set: SetResult, extra: string[], value: (run: SystemRun, name: string) => string): string {
  const names = [...EXPRESSION_CLASSES, ...extra];
  return markdownTable(
    ["system", ...names],
    set.runs.map((run) => [run.system, ...names.map((name) => value(run, name))]),
  );
}

/** One system's answers (columns, and no face) for the faces of each true class (rows) that the set has. */
function confusionTable(run: SystemRun): string {
  const confusion = run.scores.expression!.confusion;
  const answers = [...EXPRESSION_CLASSES, NO_FACE];
  const rows = EXPRESSION_CLASSES.filter((name) => Object.values(confusion[name]!).some((count) => count > 0));
  return markdownTable(
    ["true class", ...answers],
    rows.map((name) => [name, ...answers.map((answer) => String(confusion[name]![answer]))]),
  );
}

/** Rows = decades of true age; per system the MAE and the mean predicted age of its found faces. */
function decadeTable(set: SetResult): string {
  const decades = set.runs[0]!.scores.age!.perDecade;
  const header = [
    "true age",
    "faces",
    "mean true age",
    ...set.runs.flatMap((run) => [`${run.system} MAE`, `${run.system} mean predicted`]),
  ];
  const rows = decades.map((row, d) => [
    row.decade,
    String(row.faces),
    years(row.meanTrue),
    ...set.runs.flatMap((run) => [years(run.scores.age!.perDecade[d]!.mae), years(run.scores.age!.perDecade[d]!.meanPredicted)]),
  ]);
  return markdownTable(header, rows);
}

export function setReport(set: SetResult): string {
  const parts = [`### ${set.folder}: ${set.faces} of ${set.splitFaces} test faces, border ${set.pad}`, `${set.about}.`, headlineTable(set)];
  if (set.tasks.includes("expression")) {
    parts.push(
      "Per-class recall, %:",
      perClassTable(set, [], (run, name) => percent(run.scores.expression!.perClassRecall[name])),
      ...set.runs.flatMap((run) => [`${run.system}'s answers by true class (counts):`, confusionTable(run)]),
    );
  }
  parts.push(
    "Predicted expression classes (counts):",
    perClassTable(set, [NO_FACE], (run, name) => String(run.scores.predictedExpressions[name])),
  );
  if (set.tasks.includes("age")) parts.push("Age per decade of the true age (faces found):", decadeTable(set));
  return parts.join("\n\n");
}
