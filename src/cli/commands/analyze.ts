/**
 * `faceprior analyze`: every face in each image, with its box, landmarks and each head's
 * predictions (AUs, expression, age, attributes with the default model), as text, JSON and
 * overlay pictures. An image that cannot be read, or holds no face, is reported and the others go on.
 * Images are analysed as the folder walk finds them, and results are written as they come, so
 * a folder of 100,000 photos is never held in memory. On a terminal a bar with an ETA shows on
 * stderr; a one-line summary ends every run.
 * With `--shard i/n` only that shard's images are analysed, into a folder of chunk files that a
 * rerun resumes and `faceprior merge` joins into the JSON one run writes.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeImageUpright } from "../../data/image.js";
import { imageFiles, type SkippedFolder } from "../../data/image-files.js";
import { FacepriorError } from "../../errors.js";
import { writeFileAtomic } from "../../io/atomic-write.js";
import { analysisOverlay } from "../../inference/analysis-overlay.js";
import { FaceAnalyzer, type AnalyzedFace, type ImageAnalysis } from "../../inference/face-analyzer.js";
import type { InferenceEngine } from "../../engine/onnx-session.js";
import { openItemShard, planItemShard } from "../../shard/item-shard.js";
import {
  openRecordDocument,
  recordChunkFingerprint,
  writeRecordChunk,
  type RecordDocumentFile,
  type RecordOutput,
} from "../../shard/record-chunks.js";
import { shardName, type ShardSpec } from "../../shard/shard-spec.js";
import { describeImage, summaryLine, type Tally } from "../analysis-text.js";
import { defineCommand, type CommandContext } from "../command.js";
import { usageError } from "../errors.js";
import { jsonOption } from "../json-output.js";
import { MODEL_OPTION } from "../model-option.js";
import { STDOUT } from "../options.js";
import { checkOutputFile, checkOutputFolder, outputPaths, OVERLAY_SUFFIX, type OutputPaths } from "../output-paths.js";
import { createCountProgress } from "../progress.js";
import { printable } from "../printable.js";
import { shardFrom, shardOption } from "../shard-option.js";

/** The JSON form: everything but the aligned crop's pixels. */
function jsonFace({ aligned: _aligned, ...face }: AnalyzedFace) {
  void _aligned;
  return face;
}

/** What each image goes through, and where its lines and files go. */
type AnalyzeRun = {
  analyzer: FaceAnalyzer;
  outputs: OutputPaths;
  options: { pad: number; overlay?: string; landmarks: boolean };
  ctx: CommandContext;
  /** Where the lines for people go: stdout, or stderr when stdout carries JSON lines. */
  notes: NodeJS.WritableStream;
  /** Whether each image's faces are printed as text: not when stdout carries JSON lines. */
  textResults: boolean;
  /** Each image's JSON record goes here as it comes (--json), or nowhere. */
  records: RecordDocumentFile | null;
  progress: ImageProgress;
  tally: Tally;
};

/** Prints a line for people, clearing the terminal bar first. */
function say(run: AnalyzeRun, text: string, stream = run.notes): void {
  run.progress.clear();
  stream.write(text);
}

/** Counts and prints an image or folder that could not be read. */
function reportFailure(run: AnalyzeRun, line: string): void {
  run.tally.errors++;
  say(run, `${printable(line)}\n`);
}

/** Analyses one image: prints its faces, writes its overlay, moves the bar on, and returns its JSON record. */
async function analyzeFile(run: AnalyzeRun, file: string): Promise<ImageAnalysis | Unreadable> {
  const record = await analyzeAndPrint(run, file);
  run.progress.advance(); // after the image's lines: the bar stays below them while the next image is analysed
  return record;
}

async function analyzeAndPrint(run: AnalyzeRun, file: string): Promise<ImageAnalysis | Unreadable> {
  const { analyzer, outputs, options, tally } = run;
  const analysis = await analyzeOne(analyzer, file);
  tally.images++;
  if ("error" in analysis) {
    reportFailure(run, `${file}: cannot be analysed: ${analysis.error}`);
    return analysis;
  }
  tally.faces += analysis.faces.length;
  if (analysis.faces.length === 0) tally.withoutFace++;
  if (run.textResults) say(run, describeImage(analysis, options), run.ctx.stdout);
  if (options.overlay) {
    const png = await analysisOverlay(await decodeImageUpright(file), analysis.faces);
    await writeFileAtomic(outputs.overlayFor(file, options.overlay), png);
  }
  return { ...analysis, faces: analysis.faces.map(jsonFace) as AnalyzedFace[] };
}

/** The images the inputs name, without an earlier run's overlays, as the walk finds them. */
async function* inputImages(outputs: OutputPaths, inputs: string[], onSkipped: (skipped: SkippedFolder) => void): AsyncGenerator<string> {
  for await (const file of imageFiles(inputs, onSkipped)) if (!outputs.isOverlay(file)) yield file;
}

/** A bar on a terminal, and nothing elsewhere (a pipe or a log gets the summary line only). */
type ImageProgress = { advance(): void; clear(): void; finish(): void };

/**
 * The terminal bar. Its total comes from a second walk over the inputs that runs beside the
 * analysis, so the first results need not wait for a count of a large folder.
 */
function imageProgress(ctx: CommandContext, count: () => Promise<number>): ImageProgress {
  if (!ctx.stderr.isTTY) return { advance() {}, clear() {}, finish() {} };
  const bar = createCountProgress({ label: "analyze", unit: "images", stream: ctx.stderr, summary: false });
  let total: number | null = null;
  let done = 0;
  const start = (n: number) => {
    total = n;
    bar.update(done, Math.max(total, done)); // the bar, and its clock, start now
  };
  count().then(start, () => {}); // a walk that fails is reported by the analysing one
  return {
    advance() {
      done++;
      if (total !== null) bar.update(done, Math.max(total, done));
    },
    clear: bar.clear,
    finish: bar.finish,
  };
}

async function countImages(outputs: OutputPaths, inputs: string[]): Promise<number> {
  let n = 0;
  for await (const _ of inputImages(outputs, inputs, () => {})) n++;
  return n;
}

const analysisOutput = (analyzer: FaceAnalyzer): RecordOutput => ({
  header: { model: analyzer.model.source, engine: analyzer.engine },
  list: "images",
});

/** `--json -`: one JSON record per line (NDJSON) on stdout, as each image is done. */
const jsonLines = (stdout: NodeJS.WritableStream): RecordDocumentFile => ({
  add: async (record) => void stdout.write(`${JSON.stringify(record)}\n`),
  commit: async () => {},
  abort: async () => {},
});

/** Where --json sends the records: JSON lines on stdout, a JSON file written as they come, or nowhere. */
async function openRecords(
  json: string | undefined,
  outputs: OutputPaths,
  analyzer: FaceAnalyzer,
  stdout: NodeJS.WritableStream,
): Promise<RecordDocumentFile | null> {
  if (json === undefined) return null;
  if (json === STDOUT) return jsonLines(stdout);
  return openRecordDocument(outputs.checked(json, "--json"), analysisOutput(analyzer));
}

/** Every image, each record sent where --json says as soon as it is done. */
async function analyzeAll(run: AnalyzeRun, inputs: string[]): Promise<void> {
  try {
    for await (const file of inputImages(run.outputs, inputs, ({ folder, problem, fix }) =>
      reportFailure(run, `${folder}: ${problem}. ${fix}`),
    )) {
      const record = await analyzeFile(run, file);
      await run.records?.add(record);
    }
  } catch (error) {
    await run.records?.abort();
    throw error;
  }
  await run.records?.commit();
}

/** One shard's images, into chunk files in the folder `dir`, keeping the chunks an earlier run finished. */
async function analyzeShard(
  run: AnalyzeRun,
  inputs: string[],
  shard: ShardSpec,
  dir: string,
  chunkSize: number,
  minScore: number,
): Promise<void> {
  const files: string[] = []; // the plan needs every key: a shard holds its paths, not its results
  for await (const file of inputImages(run.outputs, inputs, ({ folder, problem, fix }) =>
    reportFailure(run, `${folder}: ${problem}. ${fix}`),
  ))
    files.push(file);
  const { analyzer } = run;
  const modelSha256 = createHash("sha256")
    .update(await readFile(analyzer.model.source))
    .digest("hex");
  const settings = { output: analysisOutput(analyzer), model_sha256: modelSha256, pad: run.options.pad, min_score: minScore };
  const { plan, chunks } = planItemShard({ kind: "analysis", shard, settings, keys: files, chunkSize, extension: ".json" });
  const pending = await openItemShard(dir, plan, chunks, recordChunkFingerprint);
  for (const chunk of pending) {
    const entries = [];
    for (const item of chunk.items) entries.push({ ...item, record: await analyzeFile(run, item.key) });
    await writeRecordChunk(join(dir, chunk.file), chunk.fingerprint, entries);
  }
  say(
    run,
    `analyze: shard ${shardName(shard)} in ${dir}: ${chunks.reduce((n, c) => n + c.items.length, 0)} images in ${chunks.length} chunk files (${chunks.length - pending.length} kept from an earlier run). ` +
      `When all ${shard.count} shards are done, join them: faceprior merge <the ${shard.count} shard folders> --out <file>.json\n`,
    run.ctx.stderr,
  );
}

/** Checks the outputs before any work: a wrong path fails at once, not after the analysis. */
async function checkOutputs(options: { json?: string; out?: string; overlay?: string; shard?: string }): Promise<ShardSpec | null> {
  const shard = shardFrom(options.shard);
  if (shard && !options.out)
    throw usageError(
      `--shard: needs --out <folder>, where the shard writes its results for faceprior merge. Pass e.g. --out shards/analysis-${shard.index}.`,
    );
  if (shard && options.json)
    throw usageError(`--json: with --shard the results go into the --out folder, and faceprior merge writes the JSON. Leave out --json.`);
  if (!shard && options.out)
    throw usageError(`--out: names a shard's folder, for --shard only. For one file of results pass --json <file>.json.`);
  if (options.json && options.json !== STDOUT) await checkOutputFile(options.json, "--json");
  if (options.overlay) await checkOutputFolder(options.overlay, "--overlay");
  return shard;
}

export const analyze = defineCommand({
  name: "analyze",
  summary: "Find every face in images; print box, AUs, expression, age and attributes (and landmarks).",
  details: [
    "Uses the bundled default model (MODEL_CARD.md) unless --model names another face model. Faces are found and aligned by the face-prior teacher, as in prepare.",
    "The model runs in onnxruntime-node when it is installed, else in jax-js (--engine to choose).",
    "An image that cannot be read, or in which no face is found, is reported; the others are still analysed. So is a subfolder that cannot be read. The exit status is 1 if any image or folder could not be read. A one-line summary on stderr ends the run; on a terminal a progress bar with an ETA shows while it runs.",
    "--json - (or --json alone) prints one JSON object per image and line (NDJSON) on stdout instead of the text, which is then left out; reports of what could not be read go to stderr. --json <file>.json writes one JSON document, as the images are done.",
    `Folders are searched without following links to other folders, and images are analysed as they are found, so folders of any size stream. Overlays never replace an input; files named *${OVERLAY_SUFFIX} found in folders are an earlier run's overlays and are not analysed.`,
    "With --shard i/n only the images of shard i (by a hash of each path) are analysed, into the --out folder, where chunk files are written that a rerun keeps; faceprior merge joins the n folders into the JSON one run writes (docs/SCALE.md).",
  ],
  inputs: { name: "images", description: "Image files, or folders searched recursively for image files.", min: 1, variadic: true },
  options: {
    model: MODEL_OPTION,
    json: jsonOption("Every result (boxes, landmarks, all probabilities)"),
    landmarks: { type: "flag", description: "Also print each face's 68 landmarks (the JSON always has them)." },
    overlay: {
      type: "string",
      placeholder: "dir",
      description: `Write one PNG per image, <path below the inputs' common folder>${OVERLAY_SUFFIX}: boxes, landmarks, parsing map and every head's labels.`,
    },
    engine: {
      type: "choice",
      choices: ["auto", "jax", "onnx"],
      default: "auto",
      description: "onnxruntime-node or jax-js; auto: onnx when installed.",
    },
    pad: {
      type: "number",
      min: 0,
      max: 2,
      default: 0.2,
      description: "Border added before detection, as a fraction of the longer side (tight crops: 0.5).",
    },
    minScore: { type: "number", min: 0, max: 1, default: 0.5, description: "Faces scoring below this are left out." },
    shard: shardOption("Analyse, into the --out folder, only"),
    out: { type: "string", placeholder: "dir", description: "With --shard: the shard's folder of chunk files, for faceprior merge." },
    chunkSize: { type: "int", min: 1, default: 256, description: "With --shard: images per chunk file (the unit of resuming)." },
  },
  examples: [
    "faceprior analyze examples/astronaut.jpg",
    "faceprior analyze photos/ --json results.json --overlay overlays/",
    "faceprior analyze photos/ --json - | jq -c '.faces[].predictions.expression.label'",
    "faceprior analyze photos/ --shard 0/8 --out shards/analysis-0",
  ],
  async run(options, inputs, ctx) {
    const started = performance.now();
    const shard = await checkOutputs(options);
    const outputs = await outputPaths(inputs);
    if (options.engine !== "onnx") await ctx.startEngine();
    const analyzer = await FaceAnalyzer.load({
      model: options.model,
      engine: options.engine as InferenceEngine | "auto",
      device: ctx.globals.device,
      threads: ctx.globals.threads,
      pad: options.pad,
      minScore: options.minScore,
    });
    if (analyzer.engineFallback) ctx.stderr.write(`note: ${analyzer.engineFallback}\n`);
    const jsonOnStdout = options.json === STDOUT;
    const run: AnalyzeRun = {
      analyzer,
      outputs,
      options,
      ctx,
      notes: jsonOnStdout ? ctx.stderr : ctx.stdout,
      textResults: !jsonOnStdout,
      records: null,
      progress: imageProgress(ctx, () => countImages(outputs, inputs)),
      tally: { images: 0, faces: 0, withoutFace: 0, errors: 0 },
    };
    try {
      if (shard) await analyzeShard(run, inputs, shard, options.out!, options.chunkSize, options.minScore);
      else {
        run.records = await openRecords(options.json, outputs, analyzer, ctx.stdout);
        await analyzeAll(run, inputs);
      }
    } finally {
      run.progress.finish();
      await analyzer.dispose();
    }
    ctx.stderr.write(summaryLine(run.tally, (performance.now() - started) / 1000));
    return run.tally.errors > 0 ? 1 : 0;
  },
});

type Unreadable = { source: string; error: string };

/** One image's analysis, or why it cannot be read; other errors (a broken model) end the run. */
async function analyzeOne(analyzer: FaceAnalyzer, file: string): Promise<ImageAnalysis | Unreadable> {
  try {
    return await analyzer.analyze(file);
  } catch (error) {
    if (!(error instanceof FacepriorError) || error.code !== "BAD_IMAGE") throw error;
    return { source: file, error: error.message };
  }
}
