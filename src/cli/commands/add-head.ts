/**
 * `faceprior add-head`: a new head fitted on the user's labelled photos (a folder per class, or
 * a labels CSV) and added to a face model, written as a new model file (transfer/add-head/fit-head.ts).
 * The walkthrough is docs/FINETUNE.md.
 */
import { resolve } from "node:path";
import { FaceAnalyzer } from "../../inference/face-analyzer.js";
import { addHead, checkNewHeadName, writeFaceModel } from "../../face-model/face-model.js";
import {
  DEFAULT_HOLDOUT,
  fitHead,
  MAX_HOLDOUT,
  type FitProgress,
  type FitReport,
  type FitStage,
} from "../../transfer/add-head/fit-head.js";
import { readLabelledPhotos, type LabelledPhotos } from "../../transfer/add-head/labelled-photos.js";
import { defineCommand } from "../command.js";
import { analyze } from "./analyze.js";
import { usageError } from "../errors.js";
import { printable } from "../printable.js";
import { createProgress, type Progress } from "../progress.js";

/** One progress bar on stderr per stage of the fit. */
function fitProgress(stream: NodeJS.WritableStream): (progress: FitProgress) => void {
  let stage: FitStage | null = null;
  let bar: Progress | null = null;
  let shown = 0;
  return ({ stage: now, done, total }) => {
    if (now !== stage) {
      [stage, shown] = [now, 0];
      bar = createProgress({ total, label: `add-head ${now}`, unit: now === "embed" ? "photos" : "steps", stream });
    }
    bar!.advance(done - shown);
    shown = done;
    if (done === total) bar!.finish();
  };
}

function describeSource({ source, activation, labels, photos }: LabelledPhotos): string {
  const kind = activation === "softmax" ? `${labels.length} classes` : `${labels.length} labels, 0 or 1 each`;
  return `${source}: ${photos.length} photos, ${kind} (${labels.join(", ")})`;
}

/** A table: per class (or label), the photos used, held out, and held out and right (found). */
function labelTable({ activation, labels }: FitReport): string {
  const header = activation === "softmax" ? ["class", "photos", "held out", "right"] : ["label", "with it", "held out", "found"];
  const rows = labels.map((l) => [l.label, String(l.photos), String(l.heldOut), l.heldOutRight === null ? "-" : String(l.heldOutRight)]);
  const width = Math.max(...[header, ...rows].map((row) => row[0]!.length));
  return [header, ...rows]
    .map(([first, ...rest]) => `  ${first!.padEnd(width)}${rest.map((cell, i) => cell.padStart(header[i + 1]!.length + 2)).join("")}`)
    .join("\n");
}

function fitSummary(name: string, report: FitReport): string {
  const lines: string[] = [];
  if (report.leftOut.length > 0)
    lines.push(
      `Left out ${report.leftOut.length} photo${report.leftOut.length === 1 ? "" : "s"}:`,
      ...report.leftOut.map((p) => `  ${printable(p.reason)}`),
    );
  lines.push(`Fitted head "${name}" (${report.activation}) on ${report.photos} photos.`);
  const { heldOut } = report;
  const measure = report.activation === "softmax" ? "accuracy" : "mean accuracy over labels";
  const baseline = report.activation === "softmax" ? "majority-class baseline" : "per-label majority baseline";
  const interval = heldOut && `${heldOut.interval[0].toFixed(2)}-${heldOut.interval[1].toFixed(2)}`;
  lines.push(
    heldOut
      ? `Held-out ${measure} ${heldOut.accuracy.toFixed(2)} on ${heldOut.photos} photos (95% interval ${interval}, Wilson); ${baseline} ${heldOut.majorityBaseline.toFixed(2)}.`
      : "Not measured: no photo was held out (--holdout 0, or every class has under 3 photos).",
  );
  lines.push(labelTable(report));
  return lines.join("\n");
}

/**
 * A warning when the held-out estimate does not show the head beats always answering the
 * majority: at or below it, or with the majority inside its 95% interval (too few photos to tell).
 */
export function baselineWarning({ heldOut }: FitReport): string | null {
  if (!heldOut) return null;
  const { accuracy, interval, majorityBaseline: baseline, photos } = heldOut;
  if (accuracy <= baseline) {
    return `warning: the head is no better than always answering the majority on the ${photos} held-out photos (${accuracy.toFixed(2)}, baseline ${baseline.toFixed(2)}). Do not rely on it: add photos, or check their labels.`;
  }
  if (interval[0] <= baseline) {
    return `warning: ${photos} held-out photos are too few to tell the head from always answering the majority: the 95% interval of its accuracy, ${interval[0].toFixed(2)}-${interval[1].toFixed(2)}, includes the baseline ${baseline.toFixed(2)}. Add photos before relying on it.`;
  }
  return null;
}

export const addHeadCommand = defineCommand({
  name: "add-head",
  summary: "Fit a new head on your labelled photos (a folder per class, or a CSV); add it to a face model.",
  details: [
    "--photos is a folder with one subfolder of photos per class (photos/smiling/*.jpg, photos/neutral/*.jpg), a CSV path,label with a class name per photo, or a CSV path,<label>,... with 0 or 1 per label (a multi-label head). CSV paths are relative to the CSV's folder.",
    "Each photo's largest face goes through the model's encoder; photos that cannot be read or show no face are listed and left out. Each class needs 2 photos or more (each label: 2 with it, 2 without).",
    "A seeded share of each class (--holdout, --seed) is held out to measure a first head against the majority baseline; the head written is then fitted on all the photos. Walkthrough: docs/FINETUNE.md.",
  ],
  options: {
    name: {
      type: "string",
      required: true,
      placeholder: "name",
      description: "The new head's name: letters, digits and _; starts with a letter.",
    },
    photos: { type: "string", required: true, placeholder: "dir|csv", description: "A folder of class folders, or a labels CSV." },
    model: { type: "string", placeholder: "file", description: "Face model to add the head to.", defaultText: "the bundled model" },
    out: { type: "string", required: true, placeholder: "file", description: "Face model to write (.safetensors), with the new head." },
    replace: { type: "flag", description: "Overwrite the model's head of the same name." },
    holdout: {
      type: "number",
      min: 0,
      max: MAX_HOLDOUT,
      default: DEFAULT_HOLDOUT,
      description: "Share of each class held out to measure the head (0: none).",
    },
    epochs: { type: "int", min: 1, description: "Training epochs of the linear head.", defaultText: "100" },
    pad: analyze.options.pad, // faces found as analyze finds them
  },
  examples: [
    "faceprior add-head --name smile --photos photos/ --out smile.safetensors",
    "faceprior add-head --name hat --photos hats.csv --model smile.safetensors --out hat.safetensors",
  ],
  async run(options, _inputs, ctx) {
    if (!options.out.endsWith(".safetensors")) throw usageError(`--out: "${options.out}" must end in .safetensors.`);
    const photos = await readLabelledPhotos(options.photos);
    ctx.stderr.write(`add-head: ${describeSource(photos)}\n`);
    await ctx.startEngine(); // the head trains on jax-js
    const analyzer = await FaceAnalyzer.load({
      model: options.model,
      device: ctx.globals.device,
      threads: ctx.globals.threads,
      pad: options.pad,
    });
    try {
      checkNewHeadName(analyzer.model, options.name, options.replace);
      const { head, report } = await fitHead(analyzer, {
        name: options.name,
        photos,
        replace: options.replace,
        holdout: options.holdout,
        seed: ctx.globals.seed,
        train: options.epochs === undefined ? {} : { epochs: options.epochs },
        onProgress: fitProgress(ctx.stderr),
      });
      const model = addHead(analyzer.model, head, { replace: options.replace, about: report });
      await writeFaceModel(resolve(options.out), model);
      ctx.stdout.write(`${fitSummary(options.name, report)}\n`);
      const warning = baselineWarning(report);
      if (warning) ctx.stderr.write(`${warning}\n`);
      ctx.stdout.write(`Wrote ${options.out} (heads: ${model.heads.map((h) => h.name).join(", ")}).\n`);
      ctx.stdout.write(`Try it: faceprior analyze photo.jpg --model ${options.out}\n`);
    } finally {
      await analyzer.dispose();
    }
  },
});
