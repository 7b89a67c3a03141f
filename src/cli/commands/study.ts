/**
 * `faceprior study`: run a grid of encoders x tasks x protocols x modes over seeds, resumably, and
 * write the report (src/study/).
 */
import { relative, resolve } from "node:path";
import { loadStudyConfig, studyCells } from "../../study/study-config.js";
import { recordCellTime, remainingTime, type CellTimes } from "../../study/study-eta.js";
import { runStudy, takeRecords } from "../../study/run-study.js";
import { writeStudyReport } from "../../study/report.js";
import { chooseEngine, type InferenceEngine } from "../../engine/onnx-session.js";
import { defineCommand } from "../command.js";
import { formatDuration } from "../progress.js";
import { printConfig } from "../run-config.js";

/** "ETA 1:02:03"; for how many of the cells left it holds when some are of a kind not timed yet; or that none is. */
function etaText(times: CellTimes, left: ReturnType<typeof studyCells>): string {
  const { seconds, timedCells, untimedCells } = remainingTime(times, left);
  if (untimedCells === 0) return `ETA ${formatDuration(seconds)}`;
  if (timedCells === 0) return `no ETA yet: none of the ${left.length} cells left is of a kind timed yet`;
  return `ETA ${formatDuration(seconds)} for ${timedCells} of the ${left.length} cells left (${untimedCells} of kinds not timed yet)`;
}

export const study = defineCommand({
  name: "study",
  summary: "Run a grid of encoders, tasks, protocols and modes over seeds; write report.md/html/json.",
  details: [
    "The config (JSON, paths relative to it) names the encoders, the labelled caches and the grid; see studies/default-cpu.json.",
    "Each run goes to <out>/<mode>/<task>/<protocol>/<encoder>/ (metrics.json, predictions.csv, plots). A run whose metrics.json exists is skipped, so rerunning the same command resumes a killed study; one made, or started, under settings the config has changed since (train, recipe, seeds, pooling) is moved to <folder>.superseded-<time> and run again.",
    "The report has one table per mode and protocol (rows = encoders, columns = tasks, mean ± std over seeds, the trivial baseline), what each prior adds against mae, few-shot curves, ablation bars and pretraining loss curves.",
  ],
  options: {
    config: { type: "string", required: true, placeholder: "file", description: "Study config (JSON)." },
    out: { type: "string", required: true, placeholder: "dir", description: "Study folder: runs, shared features, report." },
    records: {
      type: "string",
      placeholder: "dir",
      description:
        "Also keep each finished run's metrics.json here, and float16 milestones of the fine-tuning run in progress: small enough to commit. A study folder without them takes them from here (on another machine, say).",
    },
    engine: {
      type: "choice",
      choices: ["auto", "jax", "onnx"],
      default: "auto",
      description: "Feature extraction and training: jax-js, or onnxruntime-node (steps lowered from jax-js); auto: onnx when installed.",
    },
    reportOnly: {
      type: "flag",
      description: "Only rewrite the report from the runs finished so far (with --records, those kept there too); run nothing.",
    },
  },
  examples: ["faceprior study --config studies/default-cpu.json --out ../runs/study"],
  async run(options, _inputs, ctx) {
    const config = await loadStudyConfig(resolve(options.config));
    const out = resolve(options.out);
    const command = `faceprior study --config ${options.config} --out ${options.out}`;
    if (!options.reportOnly) {
      await ctx.startEngine();
      const cells = studyCells(config);
      const times: CellTimes = new Map();
      const { ran, skipped } = await runStudy({
        config,
        out,
        records: options.records && resolve(options.records),
        scratchSeed: ctx.globals.seed,
        onConfig: printConfig("study", ctx.stderr),
        extract: {
          engine: await chooseEngine(options.engine as InferenceEngine | "auto", ctx.globals.device),
          threads: ctx.globals.threads,
        },
        onProgress: ({ index, total, cell, state, seconds, headline, changes, finished, aside }) => {
          const where = `study [${index + 1}/${total}] ${cell.mode} ${cell.task} ${cell.protocol} ${cell.encoder}`;
          if (seconds !== undefined) recordCellTime(times, cell, seconds);
          if (state === "skipped") return void ctx.stderr.write(`${where}: done before, skipped\n`);
          if (state === "changed") {
            const moved = relative(process.cwd(), aside!);
            return void ctx.stderr.write(
              `${where}: ${finished ? "done" : "started"} before under other settings (${changes!.join(", ")}); moved to ${moved}, running it again\n`,
            );
          }
          if (state === "started") return void ctx.stderr.write(`${where} ...\n`);
          ctx.stderr.write(`${where}: ${headline} (${seconds!.toFixed(0)} s; ${etaText(times, cells.slice(index + 1))})\n`);
        },
      });
      ctx.stderr.write(`study: ${ran} runs done, ${skipped} done before.\n`);
    } else if (options.records) {
      const { taken, changed } = await takeRecords(config, out, resolve(options.records), printConfig("study", ctx.stderr));
      const leftOut = changed > 0 ? ` (${changed} made under settings the config has changed since, left out)` : "";
      ctx.stderr.write(`study: ${taken} finished runs taken from ${options.records}${leftOut}.\n`);
    }
    const { results, effects } = await writeStudyReport({ config, out, command });
    const vsMae = effects.vsMae.filter((e) => e.encoder !== "scratch");
    const helps = vsMae.filter((e) => e.verdict === "helps").length;
    const hurts = vsMae.filter((e) => e.verdict === "hurts").length;
    ctx.stdout.write(
      `Report on ${results.length} runs. Prior variants against mae: better by over 2 SE in ${helps} cells, worse in ${hurts}, no clear difference in ${vsMae.length - helps - hurts}.\n` +
        `Wrote ${relative(process.cwd(), resolve(out, "report.md")) || "report.md"}, report.html, report.json and plots/.\n`,
    );
  },
});
