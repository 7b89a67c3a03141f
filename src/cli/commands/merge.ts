/**
 * `faceprior merge`: joins the folders a sharded run wrote (`prepare`, `embed`, `analyze` or
 * `finetune` with --shard) into what one run over all the inputs writes. Every shard must be
 * there, finished, and made from the same inputs with the same settings; otherwise nothing is
 * written and the error names the folder and the problem.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { z } from "zod";
import { writeSafetensors } from "../../checkpoint/safetensors.js";
import { FacepriorError } from "../../errors.js";
import { writeJsonAtomic } from "../../io/atomic-write.js";
import { mergeCacheShards } from "../../priors/cache-merge.js";
import { cacheIndexPath } from "../../priors/prior-cache.js";
import {
  checkItemShardComplete,
  readItemShardFolder,
  shardPlanPath,
  type ItemShardFolder,
  type ItemShardKind,
} from "../../shard/item-shard.js";
import { joinRecordShards, recordChunkFingerprint, RecordOutputSchema } from "../../shard/record-chunks.js";
import { joinRowShards, rowChunkFingerprint, RowOutputSchema } from "../../shard/row-chunks.js";
import { checkShardSet, type ShardKindWords } from "../../shard/shard-set.js";
import { defineCommand, type CommandContext } from "../command.js";
import { jsonOption, writeJsonOutput } from "../json-output.js";
import { usageError } from "../errors.js";
import { createCountProgress } from "../progress.js";

/** Per kind of item shard: how errors name it, and the ending of the file merge writes. */
const ITEM_KINDS: Record<ItemShardKind, ShardKindWords & { ending: string }> = {
  embeddings: { command: "embed", inputs: "image list", ending: ".safetensors" },
  features: { command: "finetune", inputs: "prior cache", ending: ".safetensors" },
  analysis: { command: "analyze", inputs: "image list", ending: ".json" },
};

type FolderKind = "prior-cache" | "item";

function kindOf(dir: string): FolderKind {
  if (!existsSync(dir)) throw new FacepriorError("BAD_SHARDS", `${dir}: no such folder. Pass the folders the shards wrote.`);
  if (existsSync(shardPlanPath(dir))) return "item";
  if (existsSync(cacheIndexPath(dir))) return "prior-cache";
  throw new FacepriorError(
    "BAD_SHARDS",
    `${dir}: holds neither cache.json (a prepare --shard folder) nor shard.json (an embed, analyze or finetune --shard folder). Pass the folders the shards wrote.`,
  );
}

async function mergeCaches(dirs: string[], out: string, ctx: CommandContext, json: string | undefined): Promise<void> {
  if (out.endsWith(".safetensors") || out.endsWith(".json"))
    throw usageError(`--out: "${out}" is a file name, but prepare shards merge into a cache folder. Pass a folder.`);
  const progress = createCountProgress({ label: "merge", unit: "rows", stream: ctx.stderr });
  const report = await mergeCacheShards(dirs, resolve(out), progress.update);
  progress.finish();
  const { images, faces_found: found, merged } = report;
  if (json) {
    await writeJsonOutput(json, { out, shards: dirs.length, images, faces_found: found, seconds: merged?.seconds }, ctx.stdout);
    return;
  }
  ctx.stdout.write(
    `Merged ${dirs.length} prepare shards into ${out} in ${merged?.seconds.toFixed(1)} s: faces in ${found} of ${images} images (${((100 * found) / Math.max(1, images)).toFixed(1)}%).\n` +
      `See ${out}/report.json; train on it with faceprior pretrain --data ${out} ...\n`,
  );
}

/** The output description a shard plan records, checked. */
function outputOf<T>(schema: z.ZodType<T>, value: unknown, dir: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new FacepriorError(
    "BAD_SHARDS",
    `${shardPlanPath(dir)}: settings.output is not what faceprior writes (${parsed.error.issues[0]?.message}). Run that shard again.`,
  );
}

async function mergeItems(dirs: string[], out: string, ctx: CommandContext, json: string | undefined): Promise<void> {
  const folders: ItemShardFolder[] = await Promise.all(dirs.map(readItemShardFolder));
  const kind = folders[0]!.plan.kind;
  const other = folders.find((f) => f.plan.kind !== kind);
  if (other)
    throw new FacepriorError(
      "BAD_SHARDS",
      `${other.dir}: holds ${other.plan.kind} shards, ${folders[0]!.dir} holds ${kind}. Merge one run's shards at a time.`,
    );
  const words = ITEM_KINDS[kind];
  if (!out.endsWith(words.ending))
    throw usageError(`--out: "${out}" must end in ${words.ending}: ${words.command} shards merge into one ${words.ending} file.`);
  checkShardSet(
    folders.map((f) => f.member),
    words,
  );
  const fingerprintOf = kind === "analysis" ? recordChunkFingerprint : rowChunkFingerprint;
  for (const folder of folders) await checkItemShardComplete(folder, fingerprintOf, words.command);
  const start = performance.now();
  const output = folders[0]!.plan.settings.output;
  if (kind === "analysis")
    await writeJsonAtomic(out, await joinRecordShards(folders, outputOf(RecordOutputSchema, output, folders[0]!.dir)));
  else {
    const { tensors, metadata } = await joinRowShards(folders, outputOf(RowOutputSchema, output, folders[0]!.dir));
    await writeSafetensors(out, tensors, metadata);
  }
  const seconds = (performance.now() - start) / 1000;
  const inputs = folders[0]!.plan.inputs.count;
  if (json) await writeJsonOutput(json, { out, kind, shards: dirs.length, inputs, seconds }, ctx.stdout);
  else ctx.stdout.write(`Merged ${dirs.length} ${words.command} shards (${inputs} inputs) into ${out} in ${seconds.toFixed(1)} s.\n`);
}

export const merge = defineCommand({
  name: "merge",
  summary: "Join the shard folders of a sharded prepare, embed, analyze or finetune into one output.",
  details: [
    "Each shard folder comes from the same command run with --shard i/n for every i from 0 to n-1 (by hand, a Slurm array or a Kubernetes Indexed Job; docs/SCALE.md).",
    "Before writing anything, merge checks that every shard is there once, finished, and made from the same manifest or image list with the same settings; otherwise it names the folder and what is wrong.",
    "prepare shards become a prior cache folder that equals one prepare over the whole dataset (the same shard files, byte for byte but for their recorded seconds); embed and finetune shards one .safetensors file, analyze shards one .json file, in input order, as one run writes them.",
  ],
  inputs: {
    name: "shard folders",
    description: "The folders the shards wrote (--out of prepare, embed and analyze, <features dir>/<key>.shard-i-of-n of finetune).",
    min: 1,
    variadic: true,
  },
  options: {
    out: {
      type: "string",
      required: true,
      placeholder: "dir|file",
      description: "prepare shards: the cache folder; embed and finetune shards: a .safetensors file; analyze shards: a .json file.",
    },
    json: jsonOption("The summary"),
  },
  examples: [
    "faceprior merge shards/celeba-0 shards/celeba-1 shards/celeba-2 --out cache/celeba",
    "faceprior merge shards/faces-* --out faces.safetensors",
  ],
  async run(options, inputs, ctx) {
    const kinds = new Set(inputs.map(kindOf));
    if (kinds.size > 1)
      throw new FacepriorError(
        "BAD_SHARDS",
        `the folders mix prepare shards (cache.json) and other shards (shard.json). Merge one run's shards at a time.`,
      );
    const out = options.out;
    if (kinds.has("prior-cache")) await mergeCaches(inputs, out, ctx, options.json);
    else await mergeItems(inputs, out, ctx, options.json);
  },
});
