/**
 * Charts as data: a Vega-Lite spec in, an SVG (for HTML reports) or a PNG (for people browsing a
 * run folder) out. Rendering is headless (no canvas); sharp rasterises the SVG. vega and vega-lite
 * are optional peer dependencies (the repository installs them; a dependency install does not),
 * loaded on the first chart.
 */
import sharp from "sharp";
import type * as Vega from "vega";
import type * as VegaLite from "vega-lite";
import type { TopLevelSpec } from "vega-lite";
import { FacepriorError } from "../errors.js";
import { writeFileAtomic } from "../io/atomic-write.js";
import { importOptional, installCommand } from "../optional-package.js";

export type ChartSpec = TopLevelSpec;

let renderer: Promise<{ vega: typeof Vega; vegaLite: typeof VegaLite }> | undefined;

/** vega and vega-lite, or MISSING_PACKAGE saying how to install them. */
export function requireCharts(): Promise<{ vega: typeof Vega; vegaLite: typeof VegaLite }> {
  renderer ??= Promise.all([importOptional<typeof Vega>("vega"), importOptional<typeof VegaLite>("vega-lite")]).then(([vega, vegaLite]) => {
    if (!vega || !vegaLite) {
      throw new FacepriorError(
        "MISSING_PACKAGE",
        `charts: the optional packages vega and vega-lite are not installed. Install them with \`${installCommand(["vega", "vega-lite"])}\`.`,
      );
    }
    return { vega, vegaLite };
  });
  return renderer;
}

export async function chartSvg(spec: ChartSpec): Promise<string> {
  const { vega, vegaLite } = await requireCharts();
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes the chart as PNG at `scale` times its CSS pixel size, atomically. */
export async function writeChartPng(file: string, spec: ChartSpec, scale = 2): Promise<void> {
  const svg = await chartSvg({ background: "white", ...spec } as ChartSpec);
  const png = await sharp(Buffer.from(svg), { density: 72 * scale })
    .png()
    .toBuffer();
  await writeFileAtomic(file, png);
}

/** Loss curves: one line per named part against the step, log-scaled losses. */
export function lossCurveSpec(records: { step: number; [part: string]: number }[], parts: string[], title: string): ChartSpec {
  const values = records.flatMap((r) =>
    parts.filter((p) => Number.isFinite(r[p]) && r[p]! > 0).map((p) => ({ step: r.step, part: p, loss: r[p] })),
  );
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
