/**
 * `faceprior analyze`: every face in each image, with its box, landmarks and each head's
 * predictions (AUs, expression, age, attributes with the default model), as text, JSON and
 * overlay pictures. An image that cannot be read, or holds no face, is reported and the others go on.
 */
import { decodeImageUpright } from "../../data/image.js";
import { imageFiles } from "../../data/image-files.js";
import { FacepriorError } from "../../errors.js";
import { writeFileAtomic, writeJsonAtomic } from "../../io/atomic-write.js";
import { analysisOverlay } from "../../inference/analysis-overlay.js";
import { FaceAnalyzer, type AnalyzedFace, type HeadPrediction, type ImageAnalysis } from "../../inference/face-analyzer.js";
import type { InferenceEngine } from "../../inference/onnx-session.js";
import { defineCommand } from "../command.js";
import { checkOutputFile, outputPaths, OVERLAY_SUFFIX } from "../output-paths.js";
import { printable } from "../printable.js";

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

export const analyze = defineCommand({
  name: "analyze",
  summary: "Find every face in images; print box, landmarks, AUs, expression, age and attributes.",
  details: [
    "Uses the bundled default model (MODEL_CARD.md) unless --model names another face model. Faces are found and aligned by the face-prior teacher, as in prepare.",
    "The model runs in onnxruntime-node when it is installed, else in jax-js (--engine to choose).",
    "An image that cannot be read, or in which no face is found, is reported; the others are still analysed. So is a subfolder that cannot be read. The exit status is 1 if any image or folder could not be read.",
    `Folders are searched without following links to other folders. Overlays never replace an input; files named *${OVERLAY_SUFFIX} found in folders are an earlier run's overlays and are not analysed.`,
  ],
  inputs: { name: "images", description: "Image files, or folders searched recursively for image files.", min: 1, variadic: true },
  options: {
    model: { type: "string", placeholder: "file", description: "Face model (.safetensors) with heads.", defaultText: "the bundled model" },
    json: { type: "string", placeholder: "file", description: "Also write every result as JSON (boxes, landmarks, all probabilities)." },
    overlay: { type: "string", placeholder: "dir", description: `Write one PNG per image, <path below the inputs' common folder>${OVERLAY_SUFFIX}: boxes, landmarks, parsing map and labels.` },
    engine: { type: "choice", choices: ["auto", "jax", "onnx"], default: "auto", description: "onnxruntime-node or jax-js; auto: onnx when installed." },
    pad: { type: "number", min: 0, max: 2, default: 0.2, description: "Border added before detection, as a fraction of the longer side (tight crops: 0.5)." },
    minScore: { type: "number", min: 0, max: 1, default: 0.5, description: "Faces scoring below this are left out." },
  },
  examples: ["faceprior analyze examples/astronaut.jpg", "faceprior analyze photos/ --json results.json --overlay overlays/"],
  async run(options, inputs, ctx) {
    if (options.json) await checkOutputFile(options.json, "--json");
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
    const results: (ImageAnalysis | Unreadable)[] | null = options.json ? [] : null; // kept only when they are to be written
    let failed = 0;
    const reportFailure = (line: string) => {
      failed++;
      ctx.stdout.write(`${printable(line)}\n`);
    };
    try {
      for await (const file of imageFiles(inputs, ({ folder, problem, fix }) => reportFailure(`${folder}: ${problem}. ${fix}`))) {
        if (outputs.isOverlay(file)) continue;
        outputs.addInput(file);
        const analysis = await analyzeOne(analyzer, file);
        if ("error" in analysis) {
          reportFailure(`${file}: cannot be analysed: ${analysis.error}`);
          results?.push(analysis);
          continue;
        }
        ctx.stdout.write(describeImage(analysis, options.pad));
        results?.push({ ...analysis, faces: analysis.faces.map(jsonFace) as AnalyzedFace[] });
        if (options.overlay) {
          const png = await analysisOverlay(await decodeImageUpright(file), analysis.faces);
          await writeFileAtomic(outputs.overlayFor(file, options.overlay), png);
        }
      }
    } finally {
      await analyzer.dispose();
    }
    if (options.json) await writeJsonAtomic(outputs.checked(options.json, "--json"), { model: analyzer.model.source, engine: analyzer.engine, images: results });
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
