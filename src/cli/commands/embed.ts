/**
 * `faceprior embed`: images -> ViT features in one safetensors file. By default (`--crop faces`)
 * every face is found and aligned as `analyze` finds it, and each face is one row, with its
 * source file and box; `--crop center` embeds whole images, resized and centre-cropped (the
 * encoder runs in src/inference/image-embedder.ts). Either reads a face model (the bundled one
 * by default) or a bare encoder checkpoint.
 *
 * Every image is decoded once before the model runs, so a bad file stops the command before
 * any compute, with all bad files listed; `--skip-bad` embeds the others instead and records
 * what it skipped. With `--shard i/n` only that shard's images are embedded, into a folder of
 * chunk files that a rerun resumes and `faceprior merge` joins into the file one run writes.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { HostVitCheckpoint } from "../../checkpoint/vit-checkpoint.js";
import { writeSafetensors } from "../../checkpoint/safetensors.js";
import { decodeImageRgb, type DecodeImageOptions } from "../../data/image.js";
import { listImageFiles } from "../../data/image-files.js";
import { FacepriorError } from "../../errors.js";
import { DEFAULT_MODEL_PATH, FaceAnalyzer } from "../../inference/face-analyzer.js";
import { embedFacesOf } from "../../inference/face-embeddings.js";
import { readEncoderOf, type EncoderOfFile } from "../../face-model/face-model.js";
import { createEncoderRunner } from "../../face-model/encoder-runner.js";
import { embeddingRowShape, embedFiles, tokenOutput, type TokenKind } from "../../inference/image-embedder.js";
import { chooseEngine, type InferenceEngine } from "../../engine/onnx-session.js";
import { openJsonlLog, type JsonlLog } from "../../io/jsonl-log.js";
import { openItemShard, planItemShard, type PlannedChunk } from "../../shard/item-shard.js";
import { rowChunkFingerprint, rowOutputMetadata, writeRowChunk, type RowItem, type RowOutput } from "../../shard/row-chunks.js";
import { shardName, type ShardSpec } from "../../shard/shard-spec.js";
import { defineCommand, type CommandContext } from "../command.js";
import { usageError } from "../errors.js";
import { jsonOption, writeJsonOutput } from "../json-output.js";
import { CHECKPOINT_SHAPE_OPTIONS, MODEL_OR_ENCODER_OPTION } from "../model-option.js";
import { createProgress } from "../progress.js";
import { shardFrom, shardOption } from "../shard-option.js";
import { analyze } from "./analyze.js";

type BadImage = { path: string; reason: string };

const CHECK_CONCURRENCY = 8;

/** Decodes every file once; returns those that fail, with sharp's reason. */
async function findBadImages(files: string[], decode: DecodeImageOptions, ctx: CommandContext): Promise<BadImage[]> {
  const bad: BadImage[] = [];
  const progress = createProgress({ total: files.length, label: "check", unit: "images", stream: ctx.stderr, summary: false });
  for (let start = 0; start < files.length; start += CHECK_CONCURRENCY) {
    const chunk = files.slice(start, start + CHECK_CONCURRENCY);
    const results = await Promise.allSettled(chunk.map((file) => decodeImageRgb(file, decode)));
    results.forEach((result, i) => {
      if (result.status === "fulfilled") return;
      const error = result.reason;
      if (!(error instanceof FacepriorError)) throw error;
      bad.push({ path: chunk[i]!, reason: error.message });
    });
    progress.advance(chunk.length);
  }
  progress.finish();
  return bad;
}

function badImagesError(bad: BadImage[], total: number): FacepriorError {
  const list = bad.map((b) => `  ${b.reason}`).join("\n");
  return new FacepriorError(
    "BAD_IMAGE",
    `${bad.length} of ${total} images cannot be decoded; nothing was computed. Fix or remove them, or pass --skip-bad to embed the others.\n${list}`,
  );
}

/** An unsharded run's images: those that decode, and the others, which stop the run unless `skipBad`. */
async function goodImages(
  files: string[],
  decode: DecodeImageOptions,
  skipBad: boolean,
  ctx: CommandContext,
): Promise<{ good: string[]; bad: BadImage[] }> {
  const bad = await findBadImages(files, decode, ctx);
  if (bad.length > 0 && !skipBad) throw badImagesError(bad, files.length);
  for (const b of bad) ctx.stderr.write(`skipped ${b.reason}\n`);
  const badPaths = new Set(bad.map((b) => b.path));
  return { good: files.filter((f) => !badPaths.has(f)), bad };
}

/** What a run embeds with, and the file it writes (a sharded run's chunks are joined into the same). */
type EmbedSetup = {
  ckpt: HostVitCheckpoint;
  kind: TokenKind;
  decode: DecodeImageOptions;
  engine: InferenceEngine;
  output: RowOutput;
  batch: number;
  log: JsonlLog | null;
};

function embeddingOutput(checkpoint: string, ckpt: HostVitCheckpoint, kind: TokenKind, engine: InferenceEngine): RowOutput {
  const { cfg, normalization } = ckpt;
  const metadata = {
    format: "faceprior-embeddings",
    format_version: "1",
    checkpoint,
    tokens: kind,
    engine,
    config: JSON.stringify(cfg),
    mean: normalization.mean.join(","),
    std: normalization.std.join(","),
  };
  return { tensor: kind === "all" ? "tokens" : "embeddings", rowShape: embeddingRowShape(ckpt, kind), metadata, listsInputs: true };
}

type Embed = (files: string[]) => Promise<Float32Array>;

/** Files into rows: one per file (--crop center), or one per face found (--crop faces), with each file's faces. */
type EmbedRows = (files: string[]) => Promise<{ rows: Float32Array; items: RowItem[] }>;

/** Opens the model with a progress bar over `total` images, hands `work` the way to embed, and closes both after. */
type WithRows = <T>(total: number, work: (embedRows: EmbedRows) => Promise<T>) => Promise<T>;

/** What a sharded run writes, the settings beside its checkpoint that decide its rows, and how it makes them. */
type ShardRows = { output: RowOutput; settings: Record<string, unknown>; decode: DecodeImageOptions; withRows: WithRows };

/**
 * Opens the encoder (starting jax-js when it runs there) with a progress bar over `total`
 * images, hands `work` a function that embeds files, and closes both after.
 */
async function withEncoder<T>(setup: EmbedSetup, ctx: CommandContext, total: number, work: (embed: Embed) => Promise<T>): Promise<T> {
  if (setup.engine === "jax") await ctx.startEngine();
  const runner = await createEncoderRunner(setup.ckpt, {
    output: tokenOutput(setup.kind),
    batch: setup.batch,
    engine: setup.engine,
    threads: ctx.globals.threads,
  });
  const progress = createProgress({ total, label: "embed", unit: "images", stream: ctx.stderr });
  try {
    return await work((files) => embedFiles(runner, files, { decode: setup.decode, log: setup.log, onBatch: (n) => progress.advance(n) }));
  } finally {
    await runner.dispose();
    progress.finish();
  }
}

/** The unsharded run: every image into `out`. */
async function embedAll(files: string[], setup: EmbedSetup, out: string, skipBad: boolean, ctx: CommandContext): Promise<Summary> {
  const { good, bad } = await goodImages(files, setup.decode, skipBad, ctx);
  if (good.length === 0)
    throw new FacepriorError("BAD_IMAGE", `none of the ${files.length} images could be decoded; nothing to embed. Check the inputs.`);
  const rows = await withEncoder(setup, ctx, good.length, (embed) => embed(good));
  const { tensor, rowShape } = setup.output;
  await writeSafetensors(
    out,
    { [tensor]: { dtype: "F32", shape: [good.length, ...rowShape], data: rows } },
    rowOutputMetadata(
      setup.output,
      good.map((key) => ({ key })),
      bad,
    ),
  );
  return { images: good.length, skipped: bad };
}

type Summary = { images: number; skipped: BadImage[] };

/** --crop center's rows for a shard: the encoder's, by kernel and batch size. */
function centerRows(setup: EmbedSetup, kernel: string, ctx: CommandContext): ShardRows {
  const withRows: WithRows = (total, work) =>
    withEncoder(setup, ctx, total, (embed) => work(async (files) => ({ rows: await embed(files), items: files.map((key) => ({ key })) })));
  // The batch size is a setting: rows computed in batches of another size differ in their last bits.
  return { output: setup.output, settings: { kernel, batch: setup.batch }, decode: setup.decode, withRows };
}

/** One shard: its images into chunk files in the folder `out`, keeping the chunks an earlier run finished. */
async function embedShard(
  files: string[],
  { output, settings: rowSettings, decode, withRows }: ShardRows,
  shard: ShardSpec,
  out: string,
  options: { skipBad: boolean; chunkSize: number; model: string },
  ctx: CommandContext,
): Promise<Summary & { chunks: number; kept: number }> {
  const checkpointSha256 = createHash("sha256")
    .update(await readFile(options.model))
    .digest("hex");
  const settings = { output, checkpoint_sha256: checkpointSha256, ...rowSettings, skip_bad: options.skipBad };
  const { plan, chunks } = planItemShard({
    kind: "embeddings",
    shard,
    settings,
    keys: files,
    chunkSize: options.chunkSize,
    extension: ".safetensors",
  });
  const pending = await openItemShard(out, plan, chunks, rowChunkFingerprint);
  const pendingFiles = pending.flatMap((c) => c.items.map((i) => i.key));
  const bad = await findBadImages(pendingFiles, decode, ctx);
  if (bad.length > 0 && !options.skipBad) throw badImagesError(bad, pendingFiles.length);
  const reasons = new Map(bad.map((b) => [b.path, b.reason]));
  const embedChunk = async (chunk: PlannedChunk, embedRows: EmbedRows) => {
    const good = chunk.items.filter((i) => !reasons.has(i.key));
    const skipped = chunk.items.filter((i) => reasons.has(i.key)).map((i) => ({ ...i, reason: reasons.get(i.key)! }));
    const embedded = good.length > 0 ? await embedRows(good.map((i) => i.key)) : { rows: new Float32Array(0), items: [] };
    const items = good.map((item, i) => ({ ...item, ...embedded.items[i] }));
    await writeRowChunk(join(out, chunk.file), chunk.fingerprint, output.rowShape, { rows: embedded.rows, items, skipped });
  };
  if (pending.length > 0) {
    await withRows(pendingFiles.length - bad.length, async (embedRows) => {
      for (const chunk of pending) await embedChunk(chunk, embedRows);
    });
  }
  const images = chunks.reduce((n, c) => n + c.items.length, 0);
  return { images, skipped: bad, chunks: chunks.length, kept: chunks.length - pending.length };
}

type Crop = "faces" | "center";

/** What --crop faces runs: the encoder (of a face model or a checkpoint) behind the face finder. */
type FacesSetup = { model: string; ckpt: EncoderOfFile; engine: InferenceEngine; decode: DecodeImageOptions };
type FacesSummary = { faces: number; images: number; noFace: string[]; skipped: BadImage[] };
type FaceSearch = { pad: number; minScore: number };

/** The file --crop faces writes: "embeddings" [F, D], a row per face, listed in its metadata "faces". */
function faceEmbeddingOutput({ model, ckpt, engine }: FacesSetup): RowOutput {
  const { cfg, normalization } = ckpt;
  const metadata = {
    format: "faceprior-face-embeddings",
    format_version: "1",
    model,
    crop: "faces",
    engine,
    config: JSON.stringify(cfg),
    mean: normalization.mean.join(","),
    std: normalization.std.join(","),
  };
  return { tensor: "embeddings", rowShape: [cfg.embedDim], metadata, listsInputs: false, perFace: true };
}

/** --crop faces: each file's faces found and aligned as analyze does, a row each, with their boxes and scores. */
function faceRows({ model, ckpt, engine }: FacesSetup, search: FaceSearch, ctx: CommandContext): WithRows {
  return async (total, work) => {
    if (engine === "jax") await ctx.startEngine();
    // Only the features are read, so a face model's heads are left out of the run; its features are read as its heads read them.
    const { cfg, normalization, tensors, mirrorAverage } = ckpt;
    const encoder = { source: model, cfg, normalization, tensors, heads: [], about: {}, mirrorAverage };
    const analyzer = await FaceAnalyzer.load({
      model: encoder,
      engine,
      device: ctx.globals.device,
      threads: ctx.globals.threads,
      pad: search.pad,
      minScore: search.minScore,
    });
    const progress = createProgress({ total, label: "embed", unit: "images", stream: ctx.stderr });
    const embedRows: EmbedRows = async (files) => {
      const found = await embedFacesOf(analyzer, files, () => progress.advance(1));
      return { rows: found.rows, items: found.images.map(({ source, faces }) => ({ key: source, faces })) };
    };
    try {
      return await work(embedRows);
    } finally {
      await analyzer.dispose();
      progress.finish();
    }
  };
}

/** --crop faces for a shard: the settings that decide which faces are found. */
function shardFaceRows(faces: FacesSetup, search: FaceSearch, ctx: CommandContext): ShardRows {
  const settings = { pad: search.pad, min_score: search.minScore };
  return { output: faceEmbeddingOutput(faces), settings, decode: faces.decode, withRows: faceRows(faces, search, ctx) };
}

/** --crop faces: each face found and aligned as analyze does, one row each, into `--out`. */
async function embedFaces(
  files: string[],
  faces: FacesSetup,
  options: FaceSearch & { out: string; skipBad: boolean },
  ctx: CommandContext,
): Promise<FacesSummary> {
  const { good, bad } = await goodImages(files, faces.decode, options.skipBad, ctx);
  const withRows = faceRows(faces, options, ctx);
  const { rows, items } = await withRows(good.length, (embedRows) => embedRows(good));
  const count = rows.length / faces.ckpt.cfg.embedDim;
  if (count === 0)
    throw new FacepriorError(
      "BAD_IMAGE",
      `no face found in any of the ${good.length} images; nothing to embed. For photos cropped tight around the face, try --pad 0.5.`,
    );
  const output = faceEmbeddingOutput(faces);
  const tensors = { [output.tensor]: { dtype: "F32" as const, shape: [count, ...output.rowShape], data: rows } };
  await writeSafetensors(options.out, tensors, rowOutputMetadata(output, items, bad));
  const noFace = items.filter((item) => item.faces!.length === 0).map((item) => item.key);
  return { faces: count, images: good.length, noFace, skipped: bad };
}

async function reportFaces(ctx: CommandContext, out: string, done: FacesSummary, json: string | undefined): Promise<void> {
  if (json) return writeJsonOutput(json, { out, tensor: "embeddings", crop: "faces", ...done }, ctx.stdout);
  ctx.stdout.write(
    `Wrote ${out}: "embeddings", one row per face, for ${done.faces} faces in ${done.images} images; each row's source image and box are in its metadata "faces".\n`,
  );
  if (done.noFace.length > 0)
    ctx.stdout.write(
      `No face found in ${done.noFace.length} images (metadata "no_face"); for photos cropped tight around the face, try --pad 0.5.\n`,
    );
  if (done.skipped.length > 0) ctx.stdout.write(`Skipped ${done.skipped.length} images that failed to decode (metadata "skipped").\n`);
}

export const embed = defineCommand({
  name: "embed",
  summary: "Embed each face (or whole image) with a face model or ViT checkpoint into a safetensors file.",
  details: [
    'With --crop faces (the default) every face is found and aligned by the face-prior teacher as analyze does, and the output holds "embeddings" [F, D], one row per face: the pooled features the model\'s heads read. Its metadata "faces" gives each row\'s source image, box and score (JSON); "no_face" the images where none was found.',
    "With --crop center images are oriented by EXIF, converted to 8-bit RGB, resized (short side, centre crop, --kernel) to the model's input size and normalised with its mean/std.",
    'The --crop center output holds "embeddings" [N, D] (--tokens cls or mean) or "tokens" [N, 1+patches, D] (--tokens all), and in its metadata "inputs", the image paths in row order (JSON).',
    "Every image is decoded before the model runs: a bad image stops the command, listing all bad files, unless --skip-bad is given.",
    "--checkpoint <file> is the old spelling of --model <file> --crop center; it still works and says so.",
    "With --shard i/n only the images of shard i (by a hash of each path) are embedded, into the --out folder, in chunk files that a rerun keeps; faceprior merge joins the n folders into the file one run writes (docs/SCALE.md).",
  ],
  inputs: { name: "images", description: "Image files, or folders searched recursively for image files.", min: 1, variadic: true },
  options: {
    model: MODEL_OR_ENCODER_OPTION,
    crop: {
      type: "choice",
      choices: ["faces", "center"],
      defaultText: "faces",
      description: "faces: each face found and aligned, a row per face; center: the whole image, a row per image.",
    },
    checkpoint: { type: "string", placeholder: "file", description: "Deprecated: the old spelling of --model <file> --crop center." },
    out: {
      type: "string",
      required: true,
      placeholder: "file.safetensors",
      description: "Output file, written atomically (with --shard: the shard's folder).",
    },
    tokens: {
      type: "choice",
      choices: ["cls", "mean", "all"],
      defaultText: "cls, or mean for a checkpoint with global_pool avg",
      description: "--crop center: the class token, the mean of the patch tokens, or all tokens.",
    },
    batch: { type: "int", min: 1, max: 4096, default: 32, description: "--crop center: images per forward pass." },
    skipBad: { type: "flag", description: "Skip images that fail to decode (listed on stderr and in the metadata) instead of stopping." },
    ...CHECKPOINT_SHAPE_OPTIONS,
    kernel: { type: "choice", choices: ["cubic", "lanczos3"], default: "cubic", description: "--crop center: resize kernel." },
    pad: analyze.options.pad, // --crop faces: faces found as analyze finds them
    minScore: analyze.options.minScore,
    engine: {
      type: "choice",
      choices: ["auto", "jax", "onnx"],
      default: "auto",
      description: "jax-js, or onnxruntime-node (faster on CPU); auto: onnx when it is installed.",
    },
    shard: shardOption("Embed, into the --out folder, only"),
    chunkSize: { type: "int", min: 1, default: 1024, description: "With --shard: images per chunk file (the unit of resuming)." },
    log: { type: "string", placeholder: "file.jsonl", description: "Append per-batch timings as JSON lines." },
    json: jsonOption("The summary"),
  },
  examples: [
    "faceprior embed --out faces.safetensors photos/",
    "faceprior embed --model encoder.safetensors --out faces.safetensors photos/",
    "faceprior embed --model encoder.safetensors --crop center --tokens all --out t.safetensors a.png",
    "faceprior embed --shard 0/4 --out shards/faces-0 photos/",
  ],
  async run(options, inputs, ctx) {
    const { model, crop } = modelAndCrop(options, ctx);
    const shard = shardFrom(options.shard);
    if (crop === "faces" && options.tokens !== undefined)
      throw usageError(`--tokens: applies to --crop center. A face's row is the pooled features its model's heads read.`);
    if (!shard && !options.out.endsWith(".safetensors"))
      throw usageError(`--out: "${options.out}" must end in .safetensors, the only output format.`);
    if (shard && options.out.endsWith(".safetensors"))
      throw usageError(
        `--out: "${options.out}" with --shard names the shard's folder. Pass a folder, e.g. --out shards/faces-${shard.index}, then faceprior merge joins the folders into a .safetensors file.`,
      );
    const device = ctx.globals.device;
    if (options.engine === "onnx" && device !== "wasm")
      throw usageError(`--engine onnx runs on the CPU; --device ${device} is for jax-js. Pass one of them.`);
    const files = await listImageFiles(inputs);
    const ckpt = await readEncoderOf(model, { arch: options.arch, imgSize: options.imgSize });
    for (const note of ckpt.notes) ctx.stderr.write(`note: ${model}: ${note}\n`);
    const kind: TokenKind = options.tokens ?? (ckpt.cfg.globalPool === "avg" ? "mean" : "cls");
    const engine = await chooseEngine(options.engine, device);
    const decode = { size: ckpt.cfg.imgSize, ...ckpt.normalization, kernel: options.kernel };
    if (crop === "faces") {
      const faces = { model, ckpt, engine, decode };
      if (!shard) return reportFaces(ctx, options.out, await embedFaces(files, faces, options, ctx), options.json);
      const done = await embedShard(files, shardFaceRows(faces, options, ctx), shard, options.out, { ...options, model }, ctx);
      return reportShard(ctx, options.out, shard, done, options.json);
    }
    const log = options.log ? await openJsonlLog(options.log) : null;
    const setup: EmbedSetup = { ckpt, kind, engine, batch: options.batch, log, decode, output: embeddingOutput(model, ckpt, kind, engine) };
    try {
      log?.write({
        event: "start",
        checkpoint: model,
        images: files.length,
        tokens: kind,
        batch: options.batch,
        engine,
        device,
        threads: ctx.globals.threads,
        ...(shard ? { shard } : {}),
      });
      if (shard) {
        const done = await embedShard(files, centerRows(setup, options.kernel, ctx), shard, options.out, { ...options, model }, ctx);
        await reportShard(ctx, options.out, shard, done, options.json);
      } else {
        const done = await embedAll(files, setup, options.out, options.skipBad, ctx);
        await report(ctx, options.out, setup.output, done, kind, options.json);
      }
      log?.write({ event: "done", out: options.out });
    } finally {
      await log?.close();
    }
  },
});

/** The model and crop. `--checkpoint f` is the old spelling of `--model f --crop center`, kept with a note. */
function modelAndCrop(options: { model?: string; checkpoint?: string; crop?: Crop }, ctx: CommandContext): { model: string; crop: Crop } {
  if (options.checkpoint === undefined) return { model: options.model ?? DEFAULT_MODEL_PATH, crop: options.crop ?? "faces" };
  if (options.model !== undefined) throw usageError(`--checkpoint: is the old name of --model. Pass only --model.`);
  ctx.stderr.write(
    `note: --checkpoint is deprecated: write --model ${options.checkpoint} --crop center for what it did (whole images), or --model ${options.checkpoint} alone to embed each face found.\n`,
  );
  return { model: options.checkpoint, crop: options.crop ?? "center" };
}

async function report(
  ctx: CommandContext,
  out: string,
  { tensor, rowShape }: RowOutput,
  { images, skipped }: Summary,
  kind: TokenKind,
  json: string | undefined,
): Promise<void> {
  const shape = [images, ...rowShape];
  if (json) return writeJsonOutput(json, { out, tensor, shape, tokens: kind, images, skipped }, ctx.stdout);
  const what = { cls: "class token", mean: "mean of patch tokens", all: "all tokens" }[kind];
  ctx.stdout.write(
    `Wrote ${out}: "${tensor}" [${shape.join(", ")}] float32 (${what}) for ${images} images; their paths, in row order, are in its metadata "inputs".\n`,
  );
  if (skipped.length > 0) ctx.stdout.write(`Skipped ${skipped.length} images that failed to decode (metadata "skipped").\n`);
  ctx.stdout.write(
    `Read it with any safetensors reader, e.g. python -c "from safetensors.numpy import load_file; print(load_file('${out}')['${tensor}'].shape)"\n`,
  );
}

async function reportShard(
  ctx: CommandContext,
  out: string,
  shard: ShardSpec,
  done: Summary & { chunks: number; kept: number },
  json: string | undefined,
): Promise<void> {
  if (json)
    return writeJsonOutput(
      json,
      { out, shard, images: done.images, chunks: done.chunks, kept_chunks: done.kept, skipped: done.skipped },
      ctx.stdout,
    );
  ctx.stdout.write(
    `Embedded shard ${shardName(shard)} into ${out}: ${done.images} images in ${done.chunks} chunk files (${done.kept} kept from an earlier run)${done.skipped.length > 0 ? `, ${done.skipped.length} skipped` : ""}.\n` +
      `When all ${shard.count} shards are done, join them: faceprior merge <the ${shard.count} shard folders> --out <file>.safetensors\n`,
  );
}
