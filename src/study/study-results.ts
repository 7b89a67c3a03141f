/**
 * A study's numbers, gathered from its cells' metrics.json files: per cell the headline over
 * seeds; per (mode, protocol) a paper-style table (rows = encoders, columns = tasks); and per
 * auxiliary prior the difference it makes against plain MAE, with its standard error.
 */
import { join } from "node:path";
import { z } from "zod";
import { parseConfig } from "../config-schema.js";
import { parseProtocol } from "../data/few-shot.js";
import { headlineOverSeeds, type SeedStat } from "../transfer/evaluate.js";
import { TRANSFER_TASK_NAMES, type TransferTaskName } from "../transfer/tasks/index.js";
import { readCellRecord } from "./cell-settings.js";
import { cellDir, studyCells, type StudyCell, type StudyConfig } from "./study-config.js";

export type Stat = SeedStat;
export type CellResult = StudyCell & {
  headline: Stat & { name: string; higherIsBetter: boolean };
  /** The headline per seed, averaged over folds. */
  perSeed: number[];
  baseline: { name: string; value: number } | null;
  trainFaces: number;
  testFaces: number;
  seconds: number;
};
export type ResultTable = {
  mode: string;
  protocol: string;
  tasks: TransferTaskName[];
  rows: { encoder: string; values: Partial<Record<TransferTaskName, Stat>> }[];
  baseline: Partial<Record<TransferTaskName, number>>;
  trainFaces: Partial<Record<TransferTaskName, number>>;
};
export type PriorEffect = {
  mode: string;
  protocol: string;
  task: TransferTaskName;
  encoder: string;
  reference: string;
  delta: number;
  se: number;
  verdict: "helps" | "hurts" | "no clear effect";
};

/** The fields of a cell's metrics.json the tables read; checked, since the file may be damaged or edited. */
const CellMetricsSchema = z.object({
  headline: z.object({ name: z.string(), higherIsBetter: z.boolean() }),
  baseline: z.object({ name: z.string(), value: z.number() }).nullable(),
  runs: z
    .array(
      z.object({
        seed: z.number(),
        trainFaces: z.number(),
        testFaces: z.number(),
        metrics: z.object({ headline: z.object({ value: z.number() }) }),
      }),
    )
    .min(1),
  seconds: z.number(),
});
type RunRecord = z.output<typeof CellMetricsSchema>["runs"][number];

/** The label a table uses for a mode, e.g. "finetune (last 1 block)". */
export function modeLabel(cell: Pick<StudyCell, "mode" | "tuneBlocks">): string {
  if (cell.mode === "probe") return "linear probe";
  if (cell.tuneBlocks === undefined) return "full fine-tuning";
  return cell.tuneBlocks === 1 ? "fine-tuning the last block" : `fine-tuning the last ${cell.tuneBlocks} blocks`;
}

/** A cell's result; null when it has not finished, or finished under settings the config has changed since. */
async function readCell(config: StudyConfig, out: string, cell: StudyCell): Promise<CellResult | null> {
  const file = join(out, cellDir(cell), "metrics.json");
  const record = await readCellRecord(file, cell, config);
  if (record.state === "absent") return null;
  const metrics = parseConfig(CellMetricsSchema, record.content, file);
  if (record.state === "changed") return null;
  const { perSeed, ...overSeeds } = headlineOverSeeds(metrics.runs);
  const average = (pick: (r: RunRecord) => number) => Math.round(metrics.runs.reduce((a, r) => a + pick(r), 0) / metrics.runs.length);
  return {
    ...cell,
    headline: { name: metrics.headline.name, higherIsBetter: metrics.headline.higherIsBetter, ...overSeeds },
    perSeed,
    baseline: metrics.baseline,
    trainFaces: average((r) => r.trainFaces),
    testFaces: average((r) => r.testFaces),
    seconds: metrics.seconds,
  };
}

/** Every finished cell of the study, in grid order; unfinished cells, and those made under settings changed since, are left out. */
export async function collectResults(config: StudyConfig, out: string): Promise<CellResult[]> {
  const results = await Promise.all(studyCells(config).map((cell) => readCell(config, out, cell)));
  return results.filter((r): r is CellResult => r !== null);
}

/** Ratio protocols by fraction, then full, then k-shot by k: the order of a few-shot axis. */
export function protocolOrder(protocol: string): number {
  const p = parseProtocol(protocol);
  if (p.kind === "ratio") return p.ratio;
  return p.kind === "full" ? 1 : 2 + p.k;
}

export function resultTables(config: StudyConfig, results: CellResult[]): ResultTable[] {
  const groups = new Map<string, CellResult[]>();
  for (const r of results) {
    const key = `${modeLabel(r)}|${r.protocol}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const encoders = Object.keys(config.encoders);
  const modes = [...new Set(results.map(modeLabel))];
  const modeRank = (key: string) => modes.indexOf(key.split("|")[0]!);
  return [...groups.entries()]
    .sort(([a], [b]) => modeRank(a) - modeRank(b) || protocolOrder(a.split("|")[1]!) - protocolOrder(b.split("|")[1]!))
    .map(([key, cells]) => {
      const [mode, protocol] = key.split("|") as [string, string];
      const tasks = TRANSFER_TASK_NAMES.filter((t) => cells.some((c) => c.task === t));
      const rows = encoders
        .filter((encoder) => cells.some((c) => c.encoder === encoder))
        .map((encoder) => ({
          encoder,
          values: Object.fromEntries(cells.filter((c) => c.encoder === encoder).map((c) => [c.task, statOf(c)])),
        }));
      const first = (task: TransferTaskName) => cells.find((c) => c.task === task);
      return {
        mode,
        protocol,
        tasks,
        rows,
        baseline: Object.fromEntries(tasks.flatMap((t) => (first(t)?.baseline ? [[t, first(t)!.baseline!.value]] : []))),
        trainFaces: Object.fromEntries(tasks.map((t) => [t, first(t)!.trainFaces])),
      };
    });
}

function statOf(cell: CellResult): Stat {
  const { mean, std, n } = cell.headline;
  return { mean, std, n };
}

/** `r` against `base`: the difference of means signed so that positive is better, its standard error and the verdict at 2 SE. */
function effectOf(r: CellResult, base: CellResult): PriorEffect {
  const sign = r.headline.higherIsBetter ? 1 : -1;
  const delta = sign * (r.headline.mean - base.headline.mean);
  const se = Math.sqrt(r.headline.std ** 2 / r.headline.n + base.headline.std ** 2 / base.headline.n);
  return {
    mode: modeLabel(r),
    protocol: r.protocol,
    task: r.task,
    encoder: r.encoder,
    reference: base.encoder,
    delta,
    se,
    verdict: verdictOf(delta, se),
  };
}

const verdictOf = (delta: number, se: number): PriorEffect["verdict"] =>
  delta > 2 * se ? "helps" : delta < -2 * se ? "hurts" : "no clear effect";

/** The cell of `encoder` in the same mode, task and protocol as `cell`. */
const partnerOf = (results: CellResult[], cell: CellResult, encoder: string) =>
  results.find((b) => b.encoder === encoder && b.task === cell.task && b.protocol === cell.protocol && modeLabel(b) === modeLabel(cell));

/**
 * Each encoder against `reference` (plain MAE) in every table cell they share: the difference of
 * means (signed so that positive is better), its standard error sqrt(s1²/n1 + s2²/n2), and a
 * verdict at two standard errors. With 3 seeds this is a rough screen, not a significance test.
 */
export function priorEffects(results: CellResult[], reference = "mae"): PriorEffect[] {
  return results
    .filter((r) => r.encoder !== reference)
    .flatMap((r) => {
      const base = partnerOf(results, r, reference);
      return base ? [effectOf(r, base)] : [];
    });
}

export type Contrast = NonNullable<StudyConfig["contrasts"]>[number];
export type ContrastRow = {
  mode: string;
  protocol: string;
  task: TransferTaskName;
  /** Per contrast, in config order: its effect, or null where a cell is missing. */
  effects: (PriorEffect | null)[];
  /** Per later contrast: the first contrast's Δ minus its Δ, SE sqrt(se1² + se2²), verdict at 2 SE. */
  shifts: ({ delta: number; se: number; verdict: "larger" | "smaller" | "no clear change" } | null)[];
};

/**
 * The config's contrasts side by side in every (mode, protocol, task) where the first one's cells
 * exist, e.g. full − mae at the pool budget next to full-2ep − mae-2ep, and how much the first
 * difference exceeds each later one (the seeds of different encoders are independent runs).
 */
export function contrastRows(results: CellResult[], contrasts: Contrast[]): ContrastRow[] {
  const [first, ...others] = contrasts;
  if (!first) return [];
  const effectIn = (cell: CellResult, contrast: Contrast) => {
    const mine = partnerOf(results, cell, contrast.encoder);
    const base = partnerOf(results, cell, contrast.reference);
    return mine && base ? effectOf(mine, base) : null;
  };
  return results
    .filter((r) => r.encoder === first.encoder)
    .flatMap((r) => {
      const lead = effectIn(r, first);
      if (!lead) return [];
      const later = others.map((c) => effectIn(r, c));
      const shifts = later.map((e) => {
        if (!e) return null;
        const delta = lead.delta - e.delta;
        const se = Math.sqrt(lead.se ** 2 + e.se ** 2);
        const verdict = delta > 2 * se ? "larger" : delta < -2 * se ? "smaller" : "no clear change";
        return { delta, se, verdict } as const;
      });
      return [{ mode: lead.mode, protocol: r.protocol, task: r.task, effects: [lead, ...later], shifts }];
    });
}
