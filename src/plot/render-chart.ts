/**
 * Charts as data: a Vega-Lite spec in, an SVG (for HTML reports) or a PNG (for people browsing a
 * run folder) out. Rendering is headless (no canvas); sharp rasterises the SVG.
 */
import sharp from "sharp";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { writeFileAtomic } from "../io/atomic-write.js";

export type ChartSpec = TopLevelSpec;

export async function chartSvg(spec: ChartSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes the chart as PNG at `scale` times its CSS pixel size, atomically. */
export async function writeChartPng(file: string, spec: ChartSpec, scale = 2): Promise<void> {
  const svg = await chartSvg({ background: "white", ...spec } as ChartSpec);
  const png = await sharp(Buffer.from(svg), { density: 72 * scale }).png().toBuffer();
  await writeFileAtomic(file, png);
}

/** Loss curves: one line per named part against the step, log-scaled losses. */
export function lossCurveSpec(records: { step: number; [part: string]: number }[], parts: string[], title: string): ChartSpec {
  const values = records.flatMap((r) => parts.filter((p) => Number.isFinite(r[p]) && r[p]! > 0).map((p) => ({ step: r.step, part: p, loss: r[p] })));
  return {
    title,
    width: 520,
    height: 260,
    data: { values },
    mark: { type: "line", interpolate: "monotone" },
    encoding: {
      x: { field: "step", type: "quantitative", title: "step" },
      y: { field: "loss", type: "quantitative", scale: { type: "log" }, title: "loss (log scale)" },
      color: { field: "part", type: "nominal", title: "loss part" },
    },
  } as ChartSpec;
}
