/**
 * The study report: `report.json` (every number), and `report.md` and `report.html` rendered
 * from one list of blocks, so the two always say the same; pictures go to `plots/`.
 */
import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic-write.js";
import { writeChartPng } from "../plot/render-chart.js";
import { TRANSFER_TASK_NAMES, TRANSFER_TASKS, type TransferTaskName } from "../transfer/tasks/index.js";
import { studyCells, type StudyConfig } from "./study-config.js";
import { ablationSpec, fewShotSpec, pretrainLossSpec, type LossRecord } from "./study-plots.js";
import {
  collectResults,
  contrastRows,
  modeLabel,
  priorEffects,
  protocolOrder,
  resultTables,
  type CellResult,
  type Contrast,
  type ContrastRow,
  type PriorEffect,
  type ResultTable,
  type Stat,
} from "./study-results.js";

type Block =
  | { kind: "heading"; level: number; text: string }
  | { kind: "paragraph"; text: string }
  | { kind: "table"; header: string[]; rows: string[][] }
  | { kind: "image"; src: string; alt: string }
  | { kind: "code"; text: string };

export type ReportOptions = { config: StudyConfig; out: string; command: string };

const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, "-")
    .replace(/^-|-$/g, "");
const formatStat = (s: Stat, digits: number) => `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`;
const digitsOf = (task: TransferTaskName) => TRANSFER_TASKS[task].headline.digits;
const titleOf = (task: TransferTaskName) => TRANSFER_TASKS[task].title;
/** A number of `task`'s headline as tables print it, "—" for none. */
const formatValue = (task: TransferTaskName, value: number | undefined) => (value === undefined ? "—" : value.toFixed(digitsOf(task)));

function columnTitle(task: TransferTaskName): string {
  const { title, headline } = TRANSFER_TASKS[task];
  return `${title} ${headline.name} ${headline.higherIsBetter ? "↑" : "↓"}`;
}

/** Rows = encoders, columns = tasks, the best mean per column in bold, the trivial baseline last. */
function tableBlock(table: ResultTable): Block {
  const best = Object.fromEntries(
    table.tasks.map((task) => {
      const means = table.rows.flatMap((r) => (r.values[task] ? [r.values[task]!.mean] : []));
      return [task, TRANSFER_TASKS[task].headline.higherIsBetter ? Math.max(...means) : Math.min(...means)];
    }),
  );
  const rows = table.rows.map((r) => [
    r.encoder,
    ...table.tasks.map((task) => {
      const stat = r.values[task];
      if (!stat) return "—";
      const text = formatStat(stat, digitsOf(task));
      return stat.mean === best[task] && table.rows.length > 1 ? `**${text}**` : text;
    }),
  ]);
  const baseline = ["trivial baseline", ...table.tasks.map((t) => formatValue(t, table.baseline[t]))];
  const chance = ["chance (uniform guess)", ...table.tasks.map((t) => formatValue(t, TRANSFER_TASKS[t].chance))];
  return { kind: "table", header: ["encoder", ...table.tasks.map(columnTitle)], rows: [...rows, baseline, chance] };
}

const signed = (value: number, task: TransferTaskName) => `${value >= 0 ? "+" : ""}${value.toFixed(digitsOf(task))}`;

/** What each encoder changes against `reference`: counts per encoder, then every shared cell. */
function effectBlocks(effects: PriorEffect[], reference: string, about: string): Block[] {
  const heading: Block = { kind: "heading", level: 3, text: `Against \`${reference}\`` };
  if (effects.length === 0) return [heading, { kind: "paragraph", text: `No encoder shares cells with \`${reference}\`.` }];
  const encoders = [...new Set(effects.map((e) => e.encoder))];
  const summary = encoders.map((encoder) => {
    const mine = effects.filter((e) => e.encoder === encoder);
    const count = (v: PriorEffect["verdict"]) => mine.filter((e) => e.verdict === v).length;
    return [encoder, String(mine.length), String(count("helps")), String(count("no clear effect")), String(count("hurts"))];
  });
  const detail = effects.map((e) => [
    e.mode,
    e.protocol,
    titleOf(e.task),
    e.encoder,
    signed(e.delta, e.task),
    e.se.toFixed(digitsOf(e.task)),
    e.verdict,
  ]);
  return [
    heading,
    { kind: "paragraph", text: `Each encoder against \`${reference}\` (${about}) in every cell they share.` },
    { kind: "table", header: ["encoder", "cells", "better", "no clear difference", "worse"], rows: summary },
    { kind: "table", header: ["mode", "protocol", "task", "encoder", `Δ vs ${reference}`, "SE", "verdict"], rows: detail },
  ];
}

/** The config's contrasts side by side per cell, and how the first one's Δ differs from each later one's. */
function contrastBlocks(rows: ContrastRow[], contrasts: Contrast[]): Block[] {
  const [first, ...others] = contrasts;
  if (!first) return [];
  const named = (c: Contrast) => `${c.name}: ${c.encoder} − ${c.reference}`;
  const header = [
    "mode",
    "protocol",
    "task",
    ...contrasts.map((c) => `Δ ${named(c)}`),
    ...others.map((c) => `Δ(${first.name}) − Δ(${c.name})`),
  ];
  const body = rows.map((row) => [
    row.mode,
    row.protocol,
    titleOf(row.task),
    ...[...row.effects, ...row.shifts].map((d) =>
      d ? `${signed(d.delta, row.task)} ± ${d.se.toFixed(digitsOf(row.task))} (${d.verdict})` : "—",
    ),
  ]);
  return [
    { kind: "heading", level: 2, text: "Contrasts" },
    {
      kind: "paragraph",
      text:
        `Each pair's Δ ± SE as above (positive: the first encoder is better), per cell where \`${first.encoder}\` and \`${first.reference}\` both finished. ` +
        `The last column${others.length > 1 ? "s" : ""} compare${others.length > 1 ? "" : "s"} the first pair's Δ with the other pair's: SE = sqrt(SE1² + SE2²), *larger* or *smaller* beyond 2·SE.`,
    },
    { kind: "table", header, rows: body },
  ];
}

const EFFECTS_METHOD =
  "Δ is the difference of means over seeds, signed so that positive is better (for age, a lower error); SE = sqrt(s1²/n1 + s2²/n2). " +
  "An encoder *helps* when Δ > 2·SE and *hurts* when Δ < −2·SE. With 3 seeds this is a screen, not a significance test; seeds vary the few-shot subset and the head's init, not the pretraining.";

function cellTableBlock(results: CellResult[]): Block {
  return {
    kind: "table",
    header: ["mode", "task", "protocol", "encoder", "headline", "per seed", "train faces", "test faces", "seconds"],
    rows: results.map((r) => [
      modeLabel(r),
      r.task,
      r.protocol,
      r.encoder,
      `${r.headline.name} ${formatStat(r.headline, digitsOf(r.task))}`,
      r.perSeed.map((v) => v.toFixed(digitsOf(r.task))).join(", "),
      String(r.trainFaces),
      String(r.testFaces),
      r.seconds.toFixed(0),
    ]),
  };
}

/** Loss parts of every encoder's pretraining log, thinned to at most `points` steps each. */
async function pretrainLosses(config: StudyConfig, points = 200): Promise<LossRecord[]> {
  const records: LossRecord[] = [];
  for (const [encoder, file] of Object.entries(config.pretrainLogs)) {
    const text = await readFile(file, "utf8").catch(() => "");
    const lines = text
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { step: number; parts: Record<string, number> });
    const every = Math.max(1, Math.ceil(lines.length / points));
    for (const line of lines.filter((_, i) => i % every === 0)) {
      for (const [part, loss] of Object.entries(line.parts)) if (part !== "total") records.push({ encoder, step: line.step, part, loss });
    }
  }
  return records;
}

/** Draws every plot; returns the image blocks, grouped under their headings. */
async function plotBlocks(config: StudyConfig, results: CellResult[], out: string): Promise<Block[]> {
  const encoders = Object.keys(config.encoders);
  const blocks: Block[] = [];
  const draw = async (name: string, spec: Parameters<typeof writeChartPng>[1], alt: string) => {
    await writeChartPng(join(out, "plots", `${name}.png`), spec);
    blocks.push({ kind: "image", src: `plots/${name}.png`, alt });
  };
  const modes = [...new Set(results.map(modeLabel))];
  blocks.push({ kind: "heading", level: 3, text: "Few-shot curves" });
  for (const mode of modes) {
    for (const task of TRANSFER_TASK_NAMES) {
      const cells = results.filter((r) => modeLabel(r) === mode && r.task === task);
      if (new Set(cells.filter((c) => !c.protocol.startsWith("kshot")).map((c) => c.protocol)).size < 2) continue;
      await draw(
        `fewshot-${slug(mode)}-${task}`,
        fewShotSpec(cells, encoders),
        `${mode}: ${titleOf(task)} against the fraction of training labels`,
      );
    }
  }
  blocks.push({ kind: "heading", level: 3, text: "Ablation bars" });
  for (const mode of modes) {
    const protocols = [...new Set(results.filter((r) => modeLabel(r) === mode).map((r) => r.protocol))].sort(
      (a, b) => protocolOrder(a) - protocolOrder(b),
    );
    for (const protocol of protocols) {
      const cells = results.filter((r) => modeLabel(r) === mode && r.protocol === protocol);
      await draw(
        `ablation-${slug(mode)}-${slug(protocol)}`,
        ablationSpec(cells, encoders, `${mode}, ${protocol}: mean ± std over seeds`),
        `${mode}, ${protocol}: each encoder per task`,
      );
    }
  }
  const losses = await pretrainLosses(config);
  if (losses.length > 0) {
    blocks.push({ kind: "heading", level: 3, text: "Pretraining loss curves" });
    await draw("pretrain-losses", pretrainLossSpec(losses, encoders), "pretraining loss parts per encoder");
  }
  return blocks;
}

function baselineNames(results: CellResult[]): string {
  const names = new Map(results.flatMap((r) => (r.baseline ? [[r.task, r.baseline.name] as const] : [])));
  return [...names].map(([task, name]) => `${titleOf(task)}: ${name}`).join("; ");
}

type Effects = { vsMae: PriorEffect[]; vsScratch: PriorEffect[]; contrasts?: ContrastRow[] };

function reportBlocks(
  options: ReportOptions,
  results: CellResult[],
  tables: ResultTable[],
  effects: Effects,
  plots: Block[],
  pending: number,
): Block[] {
  const { config, command } = options;
  const hours = results.reduce((a, r) => a + r.seconds, 0) / 3600;
  const encoderRows = Object.entries(config.encoders).map(([name, file]) => [
    name,
    file === "scratch" ? `random init (${config.arch})` : `\`${relative(process.cwd(), file)}\``,
  ]);
  return [
    { kind: "heading", level: 1, text: `Study: ${config.name}` },
    ...(config.description ? [{ kind: "paragraph" as const, text: config.description }] : []),
    {
      kind: "paragraph",
      text:
        `${results.length} runs${pending > 0 ? ` (${pending} of the grid not finished yet)` : ""}, ${config.seeds} seeds each, ${config.pooling}-pooled features; ` +
        `${hours.toFixed(2)} hours of compute in the cells (feature extraction included). Values are mean ± std over seeds; on subject-fold datasets each seed's value is the mean over folds.`,
    },
    { kind: "code", text: command },
    { kind: "table", header: ["encoder", "weights"], rows: encoderRows },
    { kind: "heading", level: 2, text: "Results" },
    {
      kind: "paragraph",
      text: `Trivial baselines, from each run's training labels, on its test faces: ${baselineNames(results)}. Chance is a uniform random guess.`,
    },
    ...tables.flatMap((table): Block[] => [
      { kind: "heading", level: 3, text: `${table.mode}, protocol ${table.protocol}` },
      { kind: "paragraph", text: `Training faces per run: ${table.tasks.map((t) => `${titleOf(t)} ${table.trainFaces[t]}`).join(", ")}.` },
      tableBlock(table),
    ]),
    { kind: "heading", level: 2, text: "What each prior adds" },
    { kind: "paragraph", text: EFFECTS_METHOD },
    ...effectBlocks(effects.vsMae, "mae", "masked image modelling alone, at the same budget: what the face priors add"),
    ...effectBlocks(effects.vsScratch, "scratch", "a randomly initialised encoder: what pretraining adds at all"),
    ...contrastBlocks(effects.contrasts ?? [], config.contrasts ?? []),
    { kind: "heading", level: 2, text: "Plots" },
    ...plots,
    { kind: "heading", level: 2, text: "Every run" },
    cellTableBlock(results),
  ];
}

function toMarkdown(blocks: Block[]): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|");
  return (
    blocks
      .map((b) => {
        switch (b.kind) {
          case "heading":
            return `${"#".repeat(b.level)} ${b.text}`;
          case "paragraph":
            return b.text;
          case "code":
            return "```\n" + b.text + "\n```";
          case "image":
            return `![${b.alt}](${b.src})`;
          case "table":
            return [b.header, b.header.map(() => "---"), ...b.rows].map((r) => `| ${r.map(cell).join(" | ")} |`).join("\n");
        }
      })
      .join("\n\n") + "\n"
  );
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Escapes, then renders the inline Markdown the blocks use: **bold**, *emphasis*, `code`. */
function inline(text: string): string {
  return escapeHtml(text)
    .replace(/\*\*(.+?)\*\*/g, "<b>$1</b>")
    .replace(/\*(.+?)\*/g, "<em>$1</em>")
    .replace(/`(.+?)`/g, "<code>$1</code>");
}

function toHtml(blocks: Block[], title: string): string {
  const body = blocks
    .map((b) => {
      switch (b.kind) {
        case "heading":
          return `<h${b.level}>${inline(b.text)}</h${b.level}>`;
        case "paragraph":
          return `<p>${inline(b.text)}</p>`;
        case "code":
          return `<pre><code>${escapeHtml(b.text)}</code></pre>`;
        case "image":
          return `<figure><img src="${escapeHtml(b.src)}" alt="${escapeHtml(b.alt)}"><figcaption>${escapeHtml(b.alt)}</figcaption></figure>`;
        case "table":
          return `<table><thead><tr>${b.header.map((h) => `<th>${inline(h)}</th>`).join("")}</tr></thead><tbody>${b.rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
      }
    })
    .join("\n");
  const style =
    "body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}img{max-width:100%}pre{background:#f5f5f5;padding:.6em;overflow:auto}";
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${style}</style></head><body>\n${body}\n</body></html>\n`;
}

/** Writes report.json, report.md, report.html and plots/ for what the study has finished so far. */
export async function writeStudyReport(
  options: ReportOptions,
): Promise<{ results: CellResult[]; tables: ResultTable[]; effects: Effects }> {
  const { config, out } = options;
  const results = await collectResults(config, out);
  const tables = resultTables(config, results);
  const effects: Effects = {
    vsMae: priorEffects(results, "mae"),
    vsScratch: priorEffects(results, "scratch"),
    ...(config.contrasts ? { contrasts: contrastRows(results, config.contrasts) } : {}),
  };
  const plots = await plotBlocks(config, results, out);
  const pending = studyCells(config).length - results.length;
  const blocks = reportBlocks(options, results, tables, effects, plots, pending);
  await writeJsonAtomic(join(out, "report.json"), {
    name: config.name,
    command: options.command,
    config,
    pending,
    results,
    tables,
    effects,
  });
  await writeFileAtomic(join(out, "report.md"), toMarkdown(blocks));
  await writeFileAtomic(join(out, "report.html"), toHtml(blocks, `Study: ${config.name}`));
  return { results, tables, effects };
}
