/**
 * `faceprior prepare`: a dataset folder -> a prior cache of aligned faces with landmarks,
 * components, parsing maps and per-patch labels (see src/priors/prior-cache.ts).
 */
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { DATASET_FORMATS } from "../../data/dataset.js";
import { loadDataset } from "../../data/load-dataset.js";
import { prepareCache } from "../../priors/prepare.js";
import { CacheOptionsSchema } from "../../priors/prior-cache.js";
import { shardName } from "../../shard/shard-spec.js";
import { defineCommand } from "../command.js";
import { jsonOption, writeJsonOutput } from "../json-output.js";
import { createCountProgress } from "../progress.js";
import { shardFrom, shardOption } from "../shard-option.js";

const DEFAULTS = CacheOptionsSchema.parse({});

export const prepare = defineCommand({
  name: "prepare",
  summary: "Detect, align and label every face of a dataset with face priors, into a cache.",
  details: [
    "Runs the face-prior teacher (Human: BlazeFace, FaceMesh, Iris; offline, weights from the npm package) on each image, aligns the largest face to the ArcFace template, and stores the crop with its 68 landmarks, mesh, component boxes and descriptors, 10-class parsing map and per-patch labels.",
    "Images without a face, with a low-confidence face, or that cannot be read are left out and listed with the reason in report.json. The cache also gets overlays.png (priors drawn on a sample of crops) and splits.json.",
    "Work is written in shards as it finishes: run the same command again to resume a killed run. A shard whose manifest rows changed since, or that is damaged, is rebuilt.",
    "With --shard i/n only the rows of shard i (by a hash of each manifest path) are prepared into --out; faceprior merge joins the n folders into the cache one prepare over the whole dataset writes (docs/SCALE.md).",
  ],
  options: {
    data: {
      type: "string",
      required: true,
      placeholder: "dir",
      description: "Dataset folder: manifest.csv (+ meta.csv), or a benchmark layout (see --format).",
    },
    out: { type: "string", required: true, placeholder: "dir", description: "Cache folder to write (or resume)." },
    format: {
      type: "choice",
      choices: ["auto", ...DATASET_FORMATS],
      default: "auto",
      placeholder: "name",
      description: "Layout of --data.",
    },
    size: { type: "int", min: 32, max: 512, default: DEFAULTS.size, description: "Side of the aligned crops in pixels." },
    pad: {
      type: "number",
      min: 0,
      max: 2,
      default: DEFAULTS.pad,
      description: "Border added before detection, as a fraction of the image's longer side (tight crops such as FER2013 need about 0.5).",
    },
    patchSize: { type: "int", min: 1, default: DEFAULTS.patchSize, description: "ViT patch size for the per-patch labels." },
    minScore: { type: "number", min: 0, max: 1, default: DEFAULTS.minScore, description: "Faces scoring below this are left out." },
    workers: { type: "int", min: 1, max: 64, default: availableParallelism(), description: "Worker threads, each with its own teacher." },
    shardSize: { type: "int", min: 1, default: DEFAULTS.shardSize, description: "Images per shard file (the unit of resuming)." },
    shard: shardOption("Prepare only"),
    json: jsonOption("report.json's summary"),
  },
  examples: [
    "faceprior prepare --data ../shared/data/celebahq_attr --out cache/celebahq_attr",
    "faceprior prepare --data ../shared/data/fer2013 --out cache/fer2013 --pad 0.5",
    "faceprior prepare --data /data/laion-face --out /shared/shards/laion-3 --shard 3/100",
  ],
  async run(options, _inputs, ctx) {
    const shard = shardFrom(options.shard) ?? undefined;
    const dataset = await loadDataset(resolve(options.data), options.format);
    for (const warning of dataset.warnings) ctx.stderr.write(`warning: ${warning}\n`);
    const progress = createCountProgress({ label: shard ? `prepare ${shardName(shard)}` : "prepare", unit: "images", stream: ctx.stderr });
    const report = await prepareCache(dataset, resolve(options.out), {
      size: options.size,
      pad: options.pad,
      patchSize: options.patchSize,
      minScore: options.minScore,
      shardSize: options.shardSize,
      workers: options.workers,
      shard,
      onProgress: progress.update,
    });
    progress.finish();
    const { images, faces_found: found, failure_reasons: reasons } = report;
    if (options.json) {
      await writeJsonOutput(
        options.json,
        { out: options.out, images, faces_found: found, failure_reasons: reasons, timings: report.timings },
        ctx.stdout,
      );
      return;
    }
    const why = Object.entries(reasons)
      .map(([reason, n]) => `${n} ${reason}`)
      .join(", ");
    for (const { file, reason } of report.rebuilt_shards) ctx.stdout.write(`Rebuilt ${file}: ${reason}.\n`);
    ctx.stdout.write(
      `Prepared ${options.out}: faces in ${found} of ${images} images (${((100 * found) / Math.max(1, images)).toFixed(1)}%)${why ? `; left out: ${why}` : ""}.\n` +
        `See ${options.out}/report.json (every failure with its reason) and ${options.out}/overlays.png (priors drawn on a sample).\n` +
        (shard
          ? `This is shard ${shardName(shard)}; when all ${shard.count} are done, join them: faceprior merge <the ${shard.count} shard folders> --out <cache dir>\n`
          : ""),
    );
  },
});
