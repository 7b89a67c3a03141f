/** `faceprior multitask`: one encoder fine-tuned for several tasks at once, written as a face model. */
import { resolve } from "node:path";
import { chooseEngine, type InferenceEngine } from "../../engine/onnx-session.js";
import { readMultitaskConfig, runMultitask, taskCacheDirs } from "../../transfer/multitask-run.js";
import { TRANSFER_TASK_NAMES, TRANSFER_TASKS, type TransferTaskName } from "../../transfer/tasks/index.js";
import { defineCommand } from "../command.js";
import { createCountProgress } from "../progress.js";
import { printConfig } from "../run-config.js";

type CachesOption = { type: "string"; placeholder: string; description: string };

/** `--<task> dir[,dir...]` for each task of the table. */
const TASK_CACHES = Object.fromEntries(
  TRANSFER_TASK_NAMES.map((task) => [
    task,
    {
      type: "string",
      placeholder: "dir[,dir...]",
      description: `${TRANSFER_TASKS[task].title}: prior caches; the first one's splits and test faces, the others add training faces.`,
    },
  ]),
) as Record<TransferTaskName, CachesOption>;

export const multitask = defineCommand({
  name: "multitask",
  summary: "Fine-tune one encoder for several tasks at once and write it as a face model with one head per task.",
  details: [
    "Every step's batch holds the config's number of faces of each task; the encoder runs once, each task's linear head reads its rows, and the loss is the weighted sum of the task losses.",
    "The recipe (augmentation, DropPath, class and age balance, model selection on each task's validation faces) is the config's `recipe`, as in `finetune --recipe`. CK+ uses its subject fold 0.",
    "Writes <out>/config.json (the effective config, also printed first), <out>/metrics.json (per task: test metrics, the trivial baseline, face counts), <out>/model.safetensors (the face model) and <out>/run (checkpoints, log; an interrupted run resumes).",
  ],
  options: {
    config: {
      type: "string",
      required: true,
      placeholder: "file.json",
      description: "Tasks with their batch and weight, train config, recipe (e.g. recipes/finetune-multitask.json).",
    },
    init: {
      type: "string",
      required: true,
      placeholder: "file",
      description: "Encoder checkpoint or face model (its encoder, heads left out) to start from.",
    },
    ...TASK_CACHES,
    cacheDir: {
      type: "string",
      placeholder: "dir",
      description:
        "Folder of prior caches: a task without its --<task> flag trains on the caches its config entry names (tasks.<task>.caches), found here.",
    },
    engine: {
      type: "choice",
      choices: ["auto", "jax", "onnx"],
      default: "auto",
      description: "Training: jax-js, or onnxruntime-node (steps lowered from jax-js); auto: onnx when installed.",
    },
    description: {
      type: "string",
      placeholder: "text",
      description: "What the model is, stored in its metadata (`faceprior info` prints it).",
    },
    milestone: {
      type: "string",
      placeholder: "dir",
      description:
        "Keep float16 copies of the latest and the best checkpoint here, with the selection record: small enough to commit. A run folder without a checkpoint restarts warm from them (on another machine, say).",
    },
    out: { type: "string", required: true, placeholder: "dir", description: "Run folder to write." },
  },
  examples: [
    "faceprior multitask --config mt.json --init encoder.safetensors --age ../cache/utkface --out mt",
    "faceprior multitask --config mt.json --init encoder.safetensors --cache-dir ../cache --out mt",
  ],
  async run(options, _inputs, ctx) {
    await ctx.startEngine();
    const config = await readMultitaskConfig(resolve(options.config));
    const list = (value: string | undefined) => value?.split(",").map((dir) => resolve(dir.trim()));
    const given = Object.fromEntries(
      TRANSFER_TASK_NAMES.flatMap((task) => (options[task] ? [[task, list(options[task])!]] : [])),
    ) as Partial<Record<TransferTaskName, string[]>>;
    const data = taskCacheDirs(config, given, options.cacheDir && resolve(options.cacheDir));
    const engine = {
      engine: await chooseEngine(options.engine as InferenceEngine | "auto", ctx.globals.device),
      threads: ctx.globals.threads,
    };
    ctx.stderr.write(
      `multitask: training on ${engine.engine === "onnx" ? "onnxruntime-node (lowered step)" : `jax-js (${ctx.globals.device})`}\n`,
    );
    const progress = createCountProgress({ label: "multitask", unit: "steps", stream: ctx.stderr });
    const summary = await runMultitask({
      config,
      data,
      init: { checkpoint: resolve(options.init) },
      out: resolve(options.out),
      engine,
      description: options.description,
      milestone: options.milestone && resolve(options.milestone),
      onProgress: ({ step, totalSteps }) => progress.update(step, totalSteps),
      onConfig: printConfig("multitask", ctx.stderr),
    });
    progress.finish();
    for (const [task, { metrics, baseline }] of Object.entries(summary.tasks)) {
      ctx.stdout.write(
        `${task}: test ${metrics.headline.name} ${metrics.headline.value.toFixed(4)}; trivial baseline (${baseline.name}) ${baseline.value.toFixed(4)}\n`,
      );
    }
    ctx.stdout.write(`Wrote ${options.out}/metrics.json and model.safetensors (${(summary.modelBytes / 1e6).toFixed(1)} MB).\n`);
  },
});
