/**
 * The two training engines on real data, end to end: the same `full` pretraining run (50 steps
 * of 16 faces from a prior cache) and the same fine-tune (a few hundred faces, one seed) on
 * jax-js and on onnxruntime, from the same seed. Writes both loss curves in one plot, the largest
 * gap between them, and both fine-tunes' test metric, to bench/results/engine-parity.json and
 * bench/results/engine-parity-loss.png.
 *
 *   npm run build && node dist/bench/engine-parity.js [--pretrain-cache ../cache/unlabeled_faces]
 *       [--finetune-cache ../cache/utkface] [--task age] [--protocol ratio:0.05] [--steps 50]
 */
import "./errors-without-stack.js";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { installNodeShims } from "../src/engine/node-shims.js";

const { values: args } = parseArgs({
  options: {
    "pretrain-cache": { type: "string", default: "../cache/unlabeled_faces" },
    "finetune-cache": { type: "string", default: "../cache/utkface" },
    task: { type: "string", default: "age" },
    protocol: { type: "string", default: "ratio:0.05" },
    steps: { type: "string", default: "50" },
    "finetune-epochs": { type: "string", default: "3" },
    threads: { type: "string", default: "2" },
  },
});
const threads = installNodeShims(Number(args.threads));
const { startEngine } = await import("../src/engine/engine.js");
const { runPretraining } = await import("../src/pretrain/pretrain-run.js");
const { runTransfer } = await import("../src/transfer/run-transfer.js");
const { writeChartPng } = await import("../src/plot/render-chart.js");
const { writeJsonAtomic } = await import("../src/io/atomic-write.js");
await startEngine({ device: "wasm" });

const ENGINES = ["jax", "onnx"] as const;
type Engine = (typeof ENGINES)[number];
const work = await mkdtemp(join(tmpdir(), "faceprior-engine-parity-"));

async function pretrainCurve(engine: Engine) {
  const out = join(work, `pretrain-${engine}`);
  const started = performance.now();
  await runPretraining({
    caches: [args["pretrain-cache"]!],
    out,
    pretrain: { variant: "full", arch: "vit-tiny" },
    train: { steps: Number(args.steps), batchSize: 16, lr: 5e-4, seed: 0, checkpointEvery: 1000 },
    engine: { engine, threads },
  });
  const lines = (await readFile(join(out, "log.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { step: number; loss: number });
  return { seconds: (performance.now() - started) / 1000, losses: lines.map((l) => l.loss) };
}

/** Losses of every step of every fine-tuning run under `out`, in run order. */
async function finetuneLosses(out: string): Promise<number[]> {
  const runs = (await readdir(join(out, "finetunes"))).sort();
  const logs = await Promise.all(runs.map((run) => readFile(join(out, "finetunes", run, "log.jsonl"), "utf8")));
  return logs.flatMap((text) =>
    text
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { loss: number }).loss),
  );
}

/** The prediction column of predictions.csv. */
async function predictions(out: string): Promise<number[]> {
  const rows = (await readFile(join(out, "predictions.csv"), "utf8")).trim().split("\n").slice(1);
  return rows.map((row) => Number(row.split(",").at(-1)));
}

async function finetuneMetric(engine: Engine) {
  const out = join(work, `finetune-${engine}`);
  const summary = await runTransfer({
    task: args.task as "age",
    mode: "finetune",
    cacheDir: args["finetune-cache"]!,
    init: { scratch: { arch: "vit-tiny", seed: 0 } },
    protocol: args.protocol!,
    seeds: 1,
    out,
    pooling: "avg",
    featureDir: join(work, "features"),
    extract: { engine, threads },
    train: { epochs: Number(args["finetune-epochs"]) },
  });
  return {
    metric: summary.headline,
    baseline: summary.baseline,
    trainFaces: summary.runs[0]!.trainFaces,
    seconds: summary.seconds,
    losses: await finetuneLosses(out),
    predictions: await predictions(out),
  };
}

const pretrain = { jax: await pretrainCurve("jax"), onnx: await pretrainCurve("onnx") };
const gaps = pretrain.jax.losses.map((l, i) => Math.abs(l - pretrain.onnx.losses[i]!) / Math.abs(l));
const finetune = { jax: await finetuneMetric("jax"), onnx: await finetuneMetric("onnx") };
const finetuneGap = Math.max(...finetune.jax.losses.map((l, i) => Math.abs(l - finetune.onnx.losses[i]!) / Math.abs(l)));
const predictionGap = Math.max(...finetune.jax.predictions.map((p, i) => Math.abs(p - finetune.onnx.predictions[i]!)));

const values = ENGINES.flatMap((engine) => pretrain[engine].losses.map((loss, i) => ({ step: i + 1, loss, engine })));
await writeChartPng("bench/results/engine-parity-loss.png", {
  title: `full pretraining, ${args.steps} steps of 16 faces: jax-js and onnxruntime`,
  width: 520,
  height: 260,
  data: { values },
  mark: { type: "line" },
  encoding: {
    x: { field: "step", type: "quantitative" },
    y: { field: "loss", type: "quantitative", scale: { zero: false }, title: "total loss" },
    color: { field: "engine", type: "nominal" },
    strokeDash: { field: "engine", type: "nominal" },
  },
});
const result = {
  pretrain: {
    cache: args["pretrain-cache"],
    steps: Number(args.steps),
    maxRelativeLossGap: Math.max(...gaps),
    lastLoss: { jax: pretrain.jax.losses.at(-1), onnx: pretrain.onnx.losses.at(-1) },
    seconds: { jax: pretrain.jax.seconds, onnx: pretrain.onnx.seconds },
  },
  finetune: {
    cache: args["finetune-cache"],
    task: args.task,
    protocol: args.protocol,
    trainFaces: finetune.jax.trainFaces,
    steps: finetune.jax.losses.length,
    maxRelativeLossGap: finetuneGap,
    maxPredictionGap: predictionGap,
    metric: { jax: finetune.jax.metric, onnx: finetune.onnx.metric },
    baseline: finetune.jax.baseline,
    seconds: { jax: finetune.jax.seconds, onnx: finetune.onnx.seconds },
  },
  date: new Date().toISOString(),
};
await writeJsonAtomic("bench/results/engine-parity.json", result);
console.log(
  `full pretraining, ${args.steps} steps: largest loss gap ${(100 * result.pretrain.maxRelativeLossGap).toFixed(3)}% (last loss jax ${result.pretrain.lastLoss.jax?.toFixed(4)}, onnx ${result.pretrain.lastLoss.onnx?.toFixed(4)}); ${pretrain.jax.seconds.toFixed(0)} s against ${pretrain.onnx.seconds.toFixed(0)} s`,
);
const fmt = (m: { name: string; mean: number }) => `${m.name} ${m.mean.toFixed(4)}`;
console.log(
  `fine-tune, ${args.task} on ${finetune.jax.trainFaces} faces, ${finetune.jax.losses.length} steps: largest loss gap ${(100 * finetuneGap).toFixed(3)}%, predictions differ by at most ${predictionGap.toExponential(2)}; jax ${fmt(finetune.jax.metric)}, onnx ${fmt(finetune.onnx.metric)} (trivial baseline ${finetune.jax.baseline?.value.toFixed(4)}); ${finetune.jax.seconds.toFixed(0)} s against ${finetune.onnx.seconds.toFixed(0)} s`,
);
await rm(work, { recursive: true, force: true });
process.exit(0);
