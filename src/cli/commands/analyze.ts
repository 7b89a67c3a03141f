/**
 * `faceprior analyze`: every face in each image, with its box, landmarks and each head's
 * predictions (AUs, expression, age, attributes with the default model), as text, JSON and
 * overlay pictures. An image that cannot be read, or holds no face, is reported and the others go on.
 * With `--shard i/n` only that shard's images are analysed, into a folder of chunk files that a
 * rerun resumes and `faceprior merge` joins into the JSON one run writes.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeImageUpright } from "../../data/image.js";
import { imageFiles } from "../../data/image-files.js";
import { FacepriorError } from "../../errors.js";
import { writeFileAtomic, writeJsonAtomic } from "../../io/atomic-write.js";
import { analysisOverlay } from "../../inference/analysis-overlay.js";
import { FaceAnalyzer, type AnalyzedFace, type HeadPrediction, type ImageAnalysis } from "../../inference/face-analyzer.js";
import type { InferenceEngine } from "../../inference/onnx-session.js";
import { openItemShard, planItemShard } from "../../shard/item-shard.js";
import { recordChunkFingerprint, recordDocument, writeRecordChunk, type RecordOutput } from "../../shard/record-chunks.js";
import { shardName, type ShardSpec } from "../../shard/shard-spec.js";
import { defineCommand, type CommandContext } from "../command.js";
import { usageError } from "../errors.js";
import { checkOutputFile, outputPaths, OVERLAY_SUFFIX, type OutputPaths } from "../output-paths.js";
import { printable } from "../printable.js";
import { shardFrom, shardOption } from "../shard-option.js";

const WIDTH = 100;

/** `items` joined by two spaces, wrapped at WIDTH with `indent`. */
function wrap(items: string[], indent: string): string {
  const lines: string[] = [];
  let line = "";
  for (const item of items) {
    if (line && indent.length + line.length + 2 + item.length > WIDTH) {
      lines.push(indent + line);
      line = item;
    } else line = line ? `${line}  ${item}` : item;
  }
  if (line) lines.push(indent + line);
  return lines.join("\n");
}

function describePrediction(name: string, p: HeadPrediction): string {
  const pad = "      ";
  if (p.kind === "value") return `    ${name}: ${p.value.toFixed(1)}`;
  const entries = Object.entries(p.probabilities).map(([label, v]) => `${label} ${v.toFixed(2)}`);
  const head = p.kind === "class" ? `    ${name}: ${p.label} (${p.probability.toFixed(2)})` : `    ${name} (probability each is present):`;
  return `${head}\n${wrap(entries, pad)}`;
}

function describeFace(face: AnalyzedFace, index: number): string {
  const { x, y, width, height } = face.box;
  const box = `box x ${x.toFixed(0)} y ${y.toFixed(0)} w ${width.toFixed(0)} h ${height.toFixed(0)}`;
  const landmarks = wrap(face.landmarks.map(([lx, ly]) => `${lx.toFixed(0)},${ly.toFixed(0)}`), "      ");
  return [
    `  face ${index + 1}: ${box} (score ${face.score.toFixed(2)})`,
    ...Object.entries(face.predictions).map(([name, p]) => describePrediction(name, p)),
    `    landmarks (68, x,y in pixels):\n${landmarks}`,
  ].join("\n");
}

/** The image's line and its faces' blocks, as printed. */
function describeImage({ source, width, height, faces }: ImageAnalysis, pad: number): string {
  const found = faces.length === 0 ? `no face found${pad < 0.5 ? " (for a photo cropped tight around the face, try --pad 0.5)" : ""}` : `${faces.length} face${faces.length > 1 ? "s" : ""}`;
  return `${printable(source)} (${width}x${height}): ${found}\n${faces.map(describeFace).join("\n")}${faces.length ? "\n" : ""}`;
}

/** The JSON form: everything but the aligned crop's pixels. */
function jsonFace({ aligned: _aligned, ...face }: AnalyzedFace) {
  void _aligned;
  return face;
}

/** What each image goes through, and where its lines and files go. */
type AnalyzeRun = {
  analyzer: FaceAnalyzer;
  outputs: OutputPaths;
  options: { pad: number; overlay?: string };
  ctx: CommandContext;
  /** Counts and prints a line about an image or folder that could not be read. */
  reportFailure: (line: string) => void;
};

/** Analyses one image: prints its faces, writes its overlay, and returns its JSON record. */
async function analyzeFile(run: AnalyzeRun, file: string): Promise<ImageAnalysis | Unreadable> {
  const { analyzer, outputs, options, ctx } = run;
  const analysis = await analyzeOne(analyzer, file);
  if ("error" in analysis) {
    run.reportFailure(`${file}: cannot be analysed: ${analysis.error}`);
    return analysis;
  }
  ctx.stdout.write(describeImage(analysis, options.pad));
  if (options.overlay) {
    const png = await analysisOverlay(await decodeImageUpright(file), analysis.faces);
    await writeFileAtomic(outputs.overlayFor(file, options.overlay), png);
  }
  return { ...analysis, faces: analysis.faces.map(jsonFace) as AnalyzedFace[] };
}

/** The images the inputs name, without an earlier run's overlays. */
async function* inputImages(run: AnalyzeRun, inputs: string[]): AsyncGenerator<string> {
  for await (const file of imageFiles(inputs, ({ folder, problem, fix }) => run.reportFailure(`${folder}: ${problem}. ${fix}`))) {
    if (run.outputs.isOverlay(file)) continue;
    run.outputs.addInput(file);
    yield file;
  }
}

const analysisOutput = (analyzer: FaceAnalyzer): RecordOutput => ({ header: { model: analyzer.model.source, engine: analyzer.engine }, list: "images" });

/** Every image; with `json`, all records into that file. */
async function analyzeAll(run: AnalyzeRun, inputs: string[], json: string | undefined): Promise<void> {
  const results: (ImageAnalysis | Unreadable)[] = [];
  for await (const file of inputImages(run, inputs)) {
    const record = await analyzeFile(run, file);
    if (json) results.push(record); // kept only when they are to be written
  }
  if (json) await writeJsonAtomic(run.outputs.checked(json, "--json"), recordDocument(analysisOutput(run.analyzer), results));
}

/** One shard's images, into chunk files in the folder `dir`, keeping the chunks an earlier run finished. */
async function analyzeShard(run: AnalyzeRun, inputs: string[], shard: ShardSpec, dir: string, chunkSize: number, minScore: number): Promise<void> {
  const files: string[] = [];
  for await (const file of inputImages(run, inputs)) files.push(file);
  const { analyzer } = run;
  const modelSha256 = createHash("sha256").update(await readFile(analyzer.model.source)).digest("hex");
  const settings = { output: analysisOutput(analyzer), model_sha256: modelSha256, pad: run.options.pad, min_score: minScore };
  const { plan, chunks } = planItemShard({ kind: "analysis", shard, settings, keys: files, chunkSize, extension: ".json" });
  const pending = await openItemShard(dir, plan, chunks, recordChunkFingerprint);
  for (const chunk of pending) {
    const entries = [];
    for (const item of chunk.items) entries.push({ ...item, record: await analyzeFile(run, item.key) });
    await writeRecordChunk(join(dir, chunk.file), chunk.fingerprint, entries);
  }
  run.ctx.stderr.write(
    `analyze: shard ${shardName(shard)} in ${dir}: ${chunks.reduce((n, c) => n + c.items.length, 0)} images in ${chunks.length} chunk files (${chunks.length - pending.length} kept from an earlier run). ` +
      `When all ${shard.count} shards are done, join them: faceprior merge <the ${shard.count} shard folders> --out <file>.json\n`,
  );
}

export const analyze = defineCommand({
  name: "analyze",
  summary: "Find every face in images; print box, landmarks, AUs, expression, age and attributes.",
  details: [
    "Uses the bundled default model (MODEL_CARD.md) unless --model names another face model. Faces are found and aligned by the face-prior teacher, as in prepare.",
    "The model runs in onnxruntime-node when it is installed, else in jax-js (--engine to choose).",
    "An image that cannot be read, or in which no face is found, is reported; the others are still analysed. So is a subfolder that cannot be read. The exit status is 1 if any image or folder could not be read.",
    `Folders are searched without following links to other folders. Overlays never replace an input; files named *${OVERLAY_SUFFIX} found in folders are an earlier run's overlays and are not analysed.`,
    "With --shard i/n only the images of shard i (by a hash of each path) are analysed, and --json names the shard's folder, where chunk files are written that a rerun keeps; faceprior merge joins the n folders into the JSON one run writes (docs/SCALE.md).",
  ],
  inputs: { name: "images", description: "Image files, or folders searched recursively for image files.", min: 1, variadic: true },
  options: {
    model: { type: "string", placeholder: "file", description: "Face model (.safetensors) with heads.", defaultText: "the bundled model" },
    json: { type: "string", placeholder: "file", description: "Also write every result as JSON (boxes, landmarks, all probabilities); with --shard, the shard's folder." },
    overlay: { type: "string", placeholder: "dir", description: `Write one PNG per image, <path below the inputs' common folder>${OVERLAY_SUFFIX}: boxes, landmarks, parsing map and labels.` },
    engine: { type: "choice", choices: ["auto", "jax", "onnx"], default: "auto", description: "onnxruntime-node or jax-js; auto: onnx when installed." },
    pad: { type: "number", min: 0, max: 2, default: 0.2, description: "Border added before detection, as a fraction of the longer side (tight crops: 0.5)." },
    minScore: { type: "number", min: 0, max: 1, default: 0.5, description: "Faces scoring below this are left out." },
    shard: shardOption("Analyse, into the --json folder, only"),
    chunkSize: { type: "int", min: 1, default: 256, description: "With --shard: images per chunk file (the unit of resuming)." },
  },
  examples: ["faceprior analyze examples/astronaut.jpg", "faceprior analyze photos/ --json results.json --overlay overlays/", "faceprior analyze photos/ --shard 0/8 --json shards/analysis-0"],
  async run(options, inputs, ctx) {
    const shard = shardFrom(options.shard);
    if (shard && !options.json) throw usageError(`--shard: needs --json <folder>, where the shard writes its results for faceprior merge. Pass e.g. --json shards/analysis-${shard.index}.`);
    if (options.json && !shard) await checkOutputFile(options.json, "--json");
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
    let failed = 0;
    const reportFailure = (line: string) => {
      failed++;
      ctx.stdout.write(`${printable(line)}\n`);
    };
    const run: AnalyzeRun = { analyzer, outputs, options, ctx, reportFailure };
    try {
      if (shard) await analyzeShard(run, inputs, shard, options.json!, options.chunkSize, options.minScore);
      else await analyzeAll(run, inputs, options.json);
    } finally {
      await analyzer.dispose();
    }
    return failed > 0 ? 1 : 0;
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
