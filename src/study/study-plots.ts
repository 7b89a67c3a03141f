/**
 * The study's pictures as Vega-Lite specs: few-shot curves per task (headline against the
 * fraction of training labels, one line per encoder), ablation bars per protocol (one panel per
 * task, one bar per encoder, ± std over seeds), and the encoders' pretraining loss curves.
 */
import type { ChartSpec } from "../plot/render-chart.js";
import { parseProtocol } from "../data/few-shot.js";
import { TRANSFER_TASKS } from "../transfer/tasks/index.js";
import type { CellResult } from "./study-results.js";

const errorBand = (field: string) => [
  { calculate: `datum.mean - datum.std`, as: `${field}Low` },
  { calculate: `datum.mean + datum.std`, as: `${field}High` },
];

/** Headline against label fraction (log axis) for one task and mode; k-shot cells are left out. */
export function fewShotSpec(cells: CellResult[], encoders: string[]): ChartSpec {
  const values = cells
    .filter((c) => parseProtocol(c.protocol).kind !== "kshot")
    .map((c) => {
      const p = parseProtocol(c.protocol);
      return { encoder: c.encoder, fraction: p.kind === "ratio" ? p.ratio : 1, mean: c.headline.mean, std: c.headline.std };
    });
  const { task } = cells[0]!;
  const { name } = cells[0]!.headline;
  return {
    title: `${TRANSFER_TASKS[task].title}: ${name} against training labels`,
    width: 360,
    height: 240,
    data: { values },
    transform: errorBand("value"),
    encoding: {
      x: { field: "fraction", type: "quantitative", scale: { type: "log" }, title: "fraction of training labels (log scale)" },
      color: { field: "encoder", type: "nominal", sort: encoders, title: "encoder" },
    },
    layer: [
      {
        mark: { type: "line", point: true },
        encoding: { y: { field: "mean", type: "quantitative", scale: { zero: false }, title: name } },
      },
      {
        mark: { type: "errorbar", ticks: true },
        encoding: { y: { field: "valueLow", type: "quantitative", title: name }, y2: { field: "valueHigh" } },
      },
    ],
  } as ChartSpec;
}

/** One panel per task, one bar per encoder with ± std over seeds, for one protocol and mode. */
export function ablationSpec(cells: CellResult[], encoders: string[], title: string): ChartSpec {
  const values = cells.map((c) => ({
    task: `${TRANSFER_TASKS[c.task].title} (${c.headline.name}${c.headline.higherIsBetter ? " ↑" : " ↓"})`,
    encoder: c.encoder,
    mean: c.headline.mean,
    std: c.headline.std,
  }));
  return {
    title,
    data: { values },
    transform: errorBand("value"),
    facet: { column: { field: "task", type: "nominal", title: null } },
    spec: {
      width: 18 * encoders.length + 40,
      height: 200,
      encoding: {
        x: { field: "encoder", type: "nominal", sort: encoders, title: null },
        color: { field: "encoder", type: "nominal", sort: encoders, legend: null },
      },
      layer: [
        { mark: "bar", encoding: { y: { field: "mean", type: "quantitative", scale: { zero: false }, title: null } } },
        {
          mark: { type: "errorbar", ticks: true, color: "black" },
          encoding: { y: { field: "valueLow", type: "quantitative" }, y2: { field: "valueHigh" } },
        },
      ],
    },
    resolve: { scale: { y: "independent" } },
  } as ChartSpec;
}

export type LossRecord = { encoder: string; step: number; part: string; loss: number };

/** Pretraining loss parts against the step, one panel per part, one line per encoder. */
export function pretrainLossSpec(records: LossRecord[], encoders: string[]): ChartSpec {
  return {
    title: "Pretraining losses",
    data: { values: records },
    facet: { field: "part", type: "nominal", title: null },
    columns: 4,
    spec: {
      width: 200,
      height: 140,
      mark: { type: "line", strokeWidth: 1 },
      encoding: {
        x: { field: "step", type: "quantitative" },
        y: { field: "loss", type: "quantitative", scale: { zero: false } },
        color: { field: "encoder", type: "nominal", sort: encoders },
      },
    },
    resolve: { scale: { y: "independent" } },
  } as ChartSpec;
}
