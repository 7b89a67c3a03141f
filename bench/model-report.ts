/**
 * The shipped model's numbers next to its alternatives (issue #12), as markdown: per task, the
 * multi-task fine-tune (the candidate shipped model; with its heads as trained beside, when it
 * balanced them by logit adjustment), one fine-tuned encoder per task, the linear
 * probe on the same encoder and the trivial baseline, against the targets; then expression's
 * predicted class shares and per-class recall, and age's error per decade. Every number is read
 * from the runs' metrics.json files; nothing is computed here but means and macro F1 from the
 * confusion matrices.
 *
 *   node dist/bench/model-report.js --multitask results/multitask/multitask-full/metrics.json \
 *     [--per-task results/multitask/per-task] [--probe results/pretrain-pool/full/probe] [--out report.md]
 */
import "./errors-without-stack.js";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CELEBA_ATTRIBUTES, EXPRESSION_CLASSES } from "../src/data/tasks.js";
import { macroF1OfConfusion } from "../src/transfer/metrics.js";

type Headline = { name: string; higherIsBetter: boolean; value: number };
type TaskMetrics = {
  headline: Headline;
  meanClassAccuracy?: { perLabel: number[]; mean: number };
  predictedShare?: number[];
  trueShare?: number[];
  confusion?: { matrix: number[][] };
  perDecade?: { decade: string; faces: number; mae: number; meanPredicted: number }[];
  accuracy?: { perLabel: number[] };
};
/** `utkGender`: the accuracy of a meta label that trained Male on UTKFace's gender (multitask `metaLabels`). */
type Column = { name: string; metrics: Partial<Record<Task, TaskMetrics>>; utkGender?: number };

const TASKS = ["expression", "age", "attributes", "au"] as const;
type Task = (typeof TASKS)[number];

/** Issue #12's targets on each dataset's test split. */
const TARGETS: Record<Task, { value: number; atLeast: boolean; test: string }> = {
  expression: { value: 0.62, atLeast: true, test: "FER2013 PrivateTest" },
  age: { value: 5.5, atLeast: false, test: "UTKFace test" },
  attributes: { value: 0.89, atLeast: true, test: "CelebA-HQ test" },
  au: { value: 0.55, atLeast: true, test: "CK+ subject folds" },
};

const { values: args } = parseArgs({
  options: { multitask: { type: "string" }, "per-task": { type: "string" }, probe: { type: "string" }, out: { type: "string" } },
});

const readJson = async (path: string) => JSON.parse(await readFile(path, "utf8"));
const fixed = (value: number | undefined, digits = 4) => (value === undefined ? "" : value.toFixed(digits));

/** A transfer run's metrics.json: its first seed's (or fold's) metrics, with the headline averaged over all. */
async function transferRun(path: string): Promise<{ metrics: TaskMetrics; baseline: number; readout?: string } | undefined> {
  const run = await readJson(path).catch(() => undefined);
  if (!run) return undefined;
  const first = run.runs[0].metrics as TaskMetrics;
  return {
    metrics: { ...first, headline: { ...first.headline, value: run.headline.mean } },
    baseline: run.baseline.value,
    readout: run.readout ?? (run.task === "age" ? "expected-age" : undefined),
  };
}

async function columns(): Promise<{ columns: Column[]; baselines: Partial<Record<Task, number>> }> {
  const multitask = args.multitask ? await readJson(args.multitask) : undefined;
  const out: Column[] = [];
  const baselines: Partial<Record<Task, number>> = {};
  if (multitask) {
    const metrics = Object.fromEntries(Object.entries(multitask.tasks).map(([task, t]) => [task, (t as { metrics: TaskMetrics }).metrics]));
    const genderLabel = Object.entries(multitask.config.metaLabels ?? {}).find(
      ([, spec]) => (spec as { output: string }).output === "Male",
    )?.[0];
    const utkGender = genderLabel === undefined ? undefined : (metrics[genderLabel] as TaskMetrics).headline.value;
    for (const [task, t] of Object.entries(multitask.tasks))
      baselines[task as Task] = (t as { baseline: { value: number } }).baseline.value;
    // A balanced run (logitAdjustment) is the shipped column; its heads as trained come next to it.
    const adjusted = (multitask.logitAdjustment ?? {}) as Partial<Record<Task, { tau: number; testUnadjusted: TaskMetrics }>>;
    const taus = Object.entries(adjusted).map(([task, a]) => `${task} τ ${a!.tau}`);
    out.push({ name: `multi-task (${multitask.steps} steps${taus.length ? `, balanced: ${taus.join(", ")}` : ""})`, metrics, utkGender });
    if (taus.length > 0) {
      const asTrained = Object.fromEntries(Object.entries(adjusted).map(([task, a]) => [task, a!.testUnadjusted]));
      out.push({ name: "multi-task as trained", metrics: { ...metrics, ...asTrained }, utkGender });
    }
  }
  for (const [name, dir] of [
    ["per-task fine-tune", args["per-task"]],
    ["linear probe", args.probe],
  ] as const) {
    if (!dir) continue;
    const metrics: Column["metrics"] = {};
    let readsExpectation = false;
    for (const task of TASKS) {
      const found = await transferRun(join(dir, task, "metrics.json"));
      if (!found) continue;
      metrics[task] = found.metrics;
      baselines[task] ??= found.baseline;
      readsExpectation ||= found.readout === "expected-age";
    }
    // Age runs recorded before the median readout read the expectation, which pulls ages to the middle: say so.
    const shown = readsExpectation ? `${name} (age: expectation)` : name;
    // A comparison whose runs have not finished yet gets no column rather than an empty one.
    if (Object.keys(metrics).length > 0) out.push({ name: shown, metrics });
  }
  return { columns: out, baselines };
}

function headlineTable(cols: Column[], baselines: Partial<Record<Task, number>>): string {
  const rows = TASKS.map((task) => {
    const target = TARGETS[task];
    const values = cols.map((c) => c.metrics[task]?.headline.value);
    const first = values[0];
    const met = first === undefined ? "" : (target.atLeast ? first >= target.value : first <= target.value) ? "met" : "missed";
    const name = cols.find((c) => c.metrics[task])?.metrics[task]?.headline.name ?? "";
    return `| ${task} (${target.test}) | ${name} | ${values.map((v) => fixed(v)).join(" | ")} | ${fixed(baselines[task])} | ${target.atLeast ? ">=" : "<="} ${target.value} ${met} |`;
  });
  const head = `| task | metric | ${cols.map((c) => c.name).join(" | ")} | trivial baseline | target (${cols[0]?.name ?? ""}) |`;
  return [head, `|${" --- |".repeat(cols.length + 4)}`, ...rows].join("\n");
}

function expressionTable(cols: Column[]): string {
  const withShares = cols.filter((c) => c.metrics.expression?.predictedShare);
  if (withShares.length === 0) return "";
  const head = `| class | test share | ${withShares.map((c) => `${c.name}: predicted share / recall`).join(" | ")} |`;
  const rows = EXPRESSION_CLASSES.map((label, i) => {
    const trueShare = withShares[0]!.metrics.expression!.trueShare?.[i];
    const cells = withShares.map((c) => {
      const m = c.metrics.expression!;
      return `${fixed(m.predictedShare?.[i], 3)} / ${fixed(m.meanClassAccuracy?.perLabel[i], 3)}`;
    });
    return `| ${label} | ${fixed(trueShare, 3)} | ${cells.join(" | ")} |`;
  });
  const balanced = `| balanced accuracy | | ${withShares.map((c) => fixed(c.metrics.expression!.meanClassAccuracy?.mean)).join(" | ")} |`;
  const f1 = withShares.map((c) => c.metrics.expression!.confusion && macroF1OfConfusion(c.metrics.expression!.confusion.matrix).mean);
  const macro = `| macro F1 | | ${f1.map((v) => fixed(v)).join(" | ")} |`;
  return [head, `|${" --- |".repeat(withShares.length + 2)}`, ...rows, balanced, macro].join("\n");
}

function ageTable(cols: Column[]): string {
  const withDecades = cols.filter((c) => c.metrics.age?.perDecade);
  if (withDecades.length === 0) return "";
  const decades = withDecades[0]!.metrics.age!.perDecade!;
  const head = `| decade | faces | ${withDecades.map((c) => `${c.name}: MAE / mean predicted`).join(" | ")} |`;
  const rows = decades.map((d, i) => {
    const cells = withDecades.map((c) => {
      const row = c.metrics.age!.perDecade![i];
      return row ? `${fixed(row.mae, 1)} / ${fixed(row.meanPredicted, 1)}` : "";
    });
    return `| ${d.decade} | ${d.faces} | ${cells.join(" | ")} |`;
  });
  return [head, `|${" --- |".repeat(withDecades.length + 2)}`, ...rows].join("\n");
}

/** CelebA-HQ's Male accuracy (the attributes head) and, where a meta label trained it, UTKFace's gender accuracy. */
function genderTable(cols: Column[]): string {
  const male = CELEBA_ATTRIBUTES.indexOf("Male");
  const rows = [
    ["CelebA-HQ test: Male accuracy (target >= 0.97)", (c: Column) => c.metrics.attributes?.accuracy?.perLabel[male]],
    ["UTKFace test: gender accuracy (Male from UTKFace's meta gender)", (c: Column) => c.utkGender],
  ] as const;
  const head = `| | ${cols.map((c) => c.name).join(" | ")} |`;
  const lines = rows.map(([name, value]) => `| ${name} | ${cols.map((c) => fixed(value(c))).join(" | ")} |`);
  return [head, `|${" --- |".repeat(cols.length + 1)}`, ...lines].join("\n");
}

const { columns: cols, baselines } = await columns();
if (cols.length === 0) throw new Error("model-report: give at least one of --multitask, --per-task, --probe.");
const report = [
  "### Each task's test split",
  headlineTable(cols, baselines),
  args.multitask ? "The multi-task run scores AUs on the test subjects of CK+'s fold 0 only; the other columns average the 3 folds." : "",
  "### Expression: what it answers, class by class",
  expressionTable(cols),
  "### Age: error per decade",
  ageTable(cols),
  "### Gender",
  genderTable(cols),
]
  .filter(Boolean)
  .join("\n\n");
const command = `node dist/bench/model-report.js ${process.argv.slice(2).join(" ")}`;
if (args.out) await writeFile(args.out, `# The shipped model against its alternatives\n\nMade by \`${command}\`.\n\n${report}\n`);
console.log(report);
