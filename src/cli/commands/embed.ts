/**
 * `faceprior embed`: images -> ViT features in one safetensors file.
 *
 * Every image is decoded once before the model runs, so a bad file stops the command before
 * any compute, with all bad files listed; `--skip-bad` embeds the others instead and records
 * what it skipped. The encoder runs in onnxruntime-node when it is installed (a graph built in
 * memory from the checkpoint), else in jax-js, jitted once, with the last batch padded to the
 * same shape so that it does not compile again.
 */
import { readVitCheckpoint, vitParamsFromTensors, type HostVitCheckpoint } from "../../checkpoint/vit-checkpoint.js";
import { writeSafetensors } from "../../checkpoint/safetensors.js";
import type { Normalization } from "../../checkpoint/vit-metadata.js";
import { decodeImageBatch, decodeImageRgb, type DecodeImageOptions } from "../../data/image.js";
import { listImageFiles } from "../../data/image-files.js";
import { jit, numpy as np, tree, type Array } from "../../engine/jax.js";
import { FacepriorError } from "../../errors.js";
import { buildFaceOnnx, FEATURES_OUTPUT, TOKENS_OUTPUT } from "../../export/onnx-vit.js";
import { chooseEngine, OnnxSession, type InferenceEngine } from "../../inference/onnx-session.js";
import { numPatches, vitPresetNames } from "../../model/vit-presets.js";
import { poolTokens, vitFeatures, type VitParams } from "../../model/vit.js";
import { defineCommand, type CommandContext } from "../command.js";
import { usageError } from "../errors.js";
import { openJsonlLog, type JsonlLog } from "../../io/jsonl-log.js";
import { createProgress } from "../progress.js";

type TokenKind = "cls" | "mean" | "all";
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

type EmbedPlan = { kind: TokenKind; batch: number; decode: DecodeImageOptions; log: JsonlLog | null; engine: InferenceEngine };

/** A forward pass over batches of `size` images [size, 3, S, S]; returns at least `count` rows. */
type BatchEncoder = { encode(pixels: Float32Array, count: number): Promise<Float32Array>; dispose(): Promise<void> };

/** jax-js, jitted once for batches of `size` (the last batch arrives padded to it). */
function jaxEncoder(ckpt: HostVitCheckpoint, kind: TokenKind, size: number): BatchEncoder {
  const { cfg } = ckpt;
  const params: VitParams = vitParamsFromTensors(ckpt.tensors, cfg);
  const forward = jit((p: VitParams, x: Array) => {
    const tokens = vitFeatures(p, x, cfg);
    return kind === "all" ? tokens : poolTokens(tokens, kind === "cls" ? "token" : "avg");
  });
  return {
    encode: async (pixels) => (await forward(tree.ref(params), np.array(pixels, { shape: [size, 3, cfg.imgSize, cfg.imgSize] })).data()) as Float32Array,
    dispose: async () => {
      tree.dispose(params);
      forward.dispose();
    },
  };
}

/**
 * onnxruntime on the graph built in memory from the checkpoint; any batch size, so no padding.
 * The pixels arrive normalised, as jax-js takes them, so the graph's own normalisation is the identity.
 */
async function onnxEncoder(ckpt: HostVitCheckpoint, kind: TokenKind, threads: number): Promise<BatchEncoder> {
  const cfg = { ...ckpt.cfg, globalPool: kind === "mean" ? ("avg" as const) : ("token" as const) };
  const normalization: Normalization = { mean: [0, 0, 0], std: [1, 1, 1] };
  const session = await OnnxSession.create(buildFaceOnnx({ ...ckpt, cfg, normalization, tokens: kind === "all" }), { threads });
  const output = kind === "all" ? TOKENS_OUTPUT : FEATURES_OUTPUT;
  const plane = 3 * cfg.imgSize * cfg.imgSize;
  return {
    encode: async (pixels, count) => (await session.run(pixels.subarray(0, count * plane), count))[output]!,
    dispose: () => session.dispose(),
  };
}

/** Runs the encoder over `files` in batches; returns [N, ...row] floats. */
async function embedAll(ckpt: HostVitCheckpoint, files: string[], plan: EmbedPlan, ctx: CommandContext) {
  const { cfg } = ckpt;
  const { kind, batch, decode, log } = plan;
  const rowShape = kind === "all" ? [1 + numPatches(cfg), cfg.embedDim] : [cfg.embedDim];
  const rowSize = rowShape.reduce((a, b) => a * b, 1);
  const plane = 3 * cfg.imgSize * cfg.imgSize;
  const result = new Float32Array(files.length * rowSize);
  const size = Math.min(batch, files.length);
  const decodeBatch = async (start: number) => {
    const pixels = new Float32Array(size * plane); // the tail stays zero: padding for the last batch
    pixels.set(await decodeImageBatch(files.slice(start, start + size), decode));
    return pixels;
  };
  const encoder = plan.engine === "onnx" ? await onnxEncoder(ckpt, kind, ctx.globals.threads) : jaxEncoder(ckpt, kind, size);
  const progress = createProgress({ total: files.length, label: "embed", unit: "images", stream: ctx.stderr });
  try {
    let next = decodeBatch(0);
    for (let start = 0; start < files.length; start += size) {
      const t0 = performance.now();
      const pixels = await next;
      if (start + size < files.length) {
        next = decodeBatch(start + size); // decode ahead while the model runs
        next.catch(() => {}); // awaited next turn; not an unhandled rejection if this turn throws
      }
      const count = Math.min(size, files.length - start);
      const values = await encoder.encode(pixels, count);
      result.set(values.subarray(0, count * rowSize), start * rowSize);
      const seconds = (performance.now() - t0) / 1000;
      log?.write({ event: "batch", start, images: count, seconds, images_per_s: count / seconds });
      progress.advance(count);
    }
  } finally {
    await encoder.dispose();
  }
  progress.finish();
  return { data: result, shape: [files.length, ...rowShape] };
}

export const embed = defineCommand({
  name: "embed",
  summary: "Embed images with a ViT checkpoint into a safetensors file.",
  details: [
    "Images are oriented by EXIF, converted to 8-bit RGB, resized (short side, centre crop, bicubic) to the checkpoint's input size and normalised with its mean/std.",
    'The output holds "embeddings" [N, D] (--tokens cls or mean) or "tokens" [N, 1+patches, D] (--tokens all), and in its metadata "inputs", the image paths in row order (JSON).',
    "Every image is decoded before the model runs: a bad image stops the command, listing all bad files, unless --skip-bad is given.",
  ],
  inputs: { name: "images", description: "Image files, or folders searched recursively for image files.", min: 1, variadic: true },
  options: {
    checkpoint: { type: "string", required: true, placeholder: "file", description: "ViT checkpoint (.safetensors)." },
    out: { type: "string", required: true, placeholder: "file.safetensors", description: "Output file, written atomically." },
    tokens: { type: "choice", choices: ["cls", "mean", "all"], defaultText: "cls, or mean for a checkpoint with global_pool avg", description: "The class token, the mean of the patch tokens, or all tokens." },
    batch: { type: "int", min: 1, max: 4096, default: 32, description: "Images per forward pass." },
    skipBad: { type: "flag", description: "Skip images that fail to decode (listed on stderr and in the metadata) instead of stopping." },
    arch: { type: "choice", choices: vitPresetNames(), placeholder: "name", description: "Architecture, for a checkpoint without metadata or to override it." },
    imgSize: { type: "int", min: 8, placeholder: "pixels", description: "Run at this input size; the position embeddings are resampled.", defaultText: "the checkpoint's" },
    kernel: { type: "choice", choices: ["cubic", "lanczos3"], default: "cubic", description: "Resize kernel." },
    engine: { type: "choice", choices: ["auto", "jax", "onnx"], default: "auto", description: "jax-js, or onnxruntime-node (faster on CPU); auto: onnx when it is installed." },
    log: { type: "string", placeholder: "file.jsonl", description: "Append per-batch timings as JSON lines." },
    json: { type: "flag", description: "Print the summary as JSON." },
  },
  examples: [
    "faceprior embed --checkpoint model.safetensors --out faces.safetensors photos/",
    "faceprior embed --checkpoint model.safetensors --tokens all --out tokens.safetensors a.png b.png",
  ],
  async run(options, inputs, ctx) {
    if (!options.out.endsWith(".safetensors")) throw usageError(`--out: "${options.out}" must end in .safetensors, the only output format.`);
    const device = ctx.globals.device;
    if (options.engine === "onnx" && device !== "wasm") throw usageError(`--engine onnx runs on the CPU; --device ${device} is for jax-js. Pass one of them.`);
    const files = await listImageFiles(inputs);
    const ckpt = await readVitCheckpoint(options.checkpoint, { arch: options.arch, imgSize: options.imgSize });
    for (const note of ckpt.notes) ctx.stderr.write(`note: ${options.checkpoint}: ${note}\n`);
    const kind: TokenKind = options.tokens ?? (ckpt.cfg.globalPool === "avg" ? "mean" : "cls");
    const decode: DecodeImageOptions = { size: ckpt.cfg.imgSize, ...ckpt.normalization, kernel: options.kernel };

    const bad = await findBadImages(files, decode, ctx);
    if (bad.length > 0 && !options.skipBad) throw badImagesError(bad, files.length);
    for (const b of bad) ctx.stderr.write(`skipped ${b.reason}\n`);
    const badPaths = new Set(bad.map((b) => b.path));
    const good = files.filter((f) => !badPaths.has(f));
    if (good.length === 0) throw new FacepriorError("BAD_IMAGE", `none of the ${files.length} images could be decoded; nothing to embed. Check the inputs.`);

    const engine = await chooseEngine(options.engine, device);
    if (engine === "jax") await ctx.startEngine();
    const log = options.log ? await openJsonlLog(options.log) : null;
    let embedded: { data: Float32Array; shape: number[] };
    try {
      log?.write({ event: "start", checkpoint: options.checkpoint, images: good.length, tokens: kind, batch: options.batch, engine, device: ctx.globals.device, threads: ctx.globals.threads });
      embedded = await embedAll(ckpt, good, { kind, batch: options.batch, decode, log, engine }, ctx);
      log?.write({ event: "done", images: good.length, out: options.out });
    } finally {
      await log?.close();
    }
    const tensor = kind === "all" ? "tokens" : "embeddings";
    const metadata: Record<string, string> = {
      format: "faceprior-embeddings",
      format_version: "1",
      inputs: JSON.stringify(good),
      checkpoint: options.checkpoint,
      tokens: kind,
      engine,
      config: JSON.stringify(ckpt.cfg),
      mean: ckpt.normalization.mean.join(","),
      std: ckpt.normalization.std.join(","),
      ...(bad.length > 0 ? { skipped: JSON.stringify(bad) } : {}),
    };
    await writeSafetensors(options.out, { [tensor]: { dtype: "F32", shape: embedded.shape, data: embedded.data } }, metadata);
    report(ctx, options.out, tensor, embedded.shape, kind, bad, options.json);
  },
});

function report(ctx: CommandContext, out: string, tensor: string, shape: number[], kind: TokenKind, bad: BadImage[], json: boolean): void {
  if (json) {
    ctx.stdout.write(JSON.stringify({ out, tensor, shape, tokens: kind, images: shape[0], skipped: bad }, null, 2) + "\n");
    return;
  }
  const what = { cls: "class token", mean: "mean of patch tokens", all: "all tokens" }[kind];
  ctx.stdout.write(`Wrote ${out}: "${tensor}" [${shape.join(", ")}] float32 (${what}) for ${shape[0]} images; their paths, in row order, are in its metadata "inputs".\n`);
  if (bad.length > 0) ctx.stdout.write(`Skipped ${bad.length} images that failed to decode (metadata "skipped").\n`);
  ctx.stdout.write(`Read it with any safetensors reader, e.g. python -c "from safetensors.numpy import load_file; print(load_file('${out}')['${tensor}'].shape)"\n`);
}
