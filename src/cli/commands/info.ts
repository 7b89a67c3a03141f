/**
 * `faceprior info <file>`: what a ViT checkpoint or a face model holds, checked, without starting
 * the engine; for a face model also each head, its labels and its held-out headline.
 */
import { stat } from "node:fs/promises";
import { readSafetensors } from "../../checkpoint/safetensors.js";
import { countParameters, readVitCheckpoint } from "../../checkpoint/vit-checkpoint.js";
import { isFaceModelMetadata, readFaceModel, type FaceModel } from "../../face-model/face-model.js";
import { VIT_ALIASES, VIT_PRESETS, numPatches, vitPresetNames, type VitConfig } from "../../model/vit-presets.js";
import { defineCommand } from "../command.js";
import { jsonOption, writeJsonOutput } from "../json-output.js";

/** 1234567 -> "1,234,567", independent of the locale. */
export const groupDigits = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/** The preset of the same size; pooling is how features are read, not a size. */
function matchingPreset(cfg: VitConfig): string | undefined {
  const same = (a: VitConfig) => (Object.keys(cfg) as (keyof VitConfig)[]).every((k) => k === "globalPool" || a[k] === cfg[k]);
  const name = Object.keys(VIT_PRESETS).find((n) => same(VIT_PRESETS[n]!));
  const alias = Object.keys(VIT_ALIASES).find((a) => VIT_ALIASES[a] === name);
  return name && (alias ? `${name} (--arch ${alias})` : name);
}

/** One row per head: what it outputs and, when recorded, its held-out headline and how it was balanced. */
function headRows(model: FaceModel): [string, string][] {
  const about = (model.about.heads ?? {}) as Record<
    string,
    { heldOut?: { headline?: { name: string; value: number } }; data?: string; split?: string }
  >;
  // Models balanced before rules existed took the best τ.
  const balanced = (model.about.logitAdjustment ?? {}) as Record<string, { tau: number; rule?: string }>;
  return model.heads.map((head) => {
    const record = about[head.name];
    const headline = record?.heldOut?.headline;
    const measured = headline ? `; held out (${record.split} of ${record.data}): ${headline.name} ${headline.value.toFixed(3)}` : "";
    const adjustment = balanced[head.name];
    const balance = adjustment ? `; balanced at τ ${adjustment.tau} (rule ${adjustment.rule ?? "best"})` : "";
    return [
      `head ${head.name}`,
      `${head.activation}, ${head.labels.length} output${head.labels.length > 1 ? "s" : ""} (${head.labels.slice(0, 6).join(", ")}${head.labels.length > 6 ? ", ..." : ""})${measured}${balance}`,
    ];
  });
}

export const info = defineCommand({
  name: "info",
  summary: "Print a checkpoint's or face model's architecture, parameters, metadata and heads.",
  details: ["Reads and checks every tensor against the architecture, as loading for embed does; nothing is computed."],
  inputs: { name: "checkpoint", description: "A ViT checkpoint (.safetensors).", min: 1, variadic: false },
  options: {
    json: jsonOption("The summary"),
    arch: {
      type: "choice",
      choices: vitPresetNames(),
      placeholder: "name",
      description: "Check against this architecture instead of the file's metadata.",
    },
    numHeads: { type: "int", min: 1, description: "Heads, for a file without metadata whose width is not in timm's table." },
  },
  examples: ["faceprior info model.safetensors", "faceprior info --json model.safetensors"],
  async run(options, [path], ctx) {
    const faceModel = isFaceModelMetadata((await readSafetensors(path!)).metadata) ? await readFaceModel(path!) : null;
    const ckpt = await readVitCheckpoint(path!, { arch: options.arch, numHeads: options.numHeads, encoderOnly: faceModel !== null });
    const { cfg, tensors, normalization, notes } = ckpt;
    const metadata = faceModel
      ? Object.fromEntries(Object.entries(ckpt.metadata).filter(([k]) => !k.startsWith("faceprior.")))
      : ckpt.metadata;
    const parameters = countParameters(tensors);
    const dtypes = [...new Set(Object.values(tensors).map((t) => t.dtype))].join("+");
    const bytes = (await stat(path!)).size;
    const preset = matchingPreset(cfg);
    if (options.json) {
      const heads = faceModel?.heads.map(({ name, activation, labels }) => ({ name, activation, labels }));
      const summary = {
        path,
        config: cfg,
        preset: preset ?? null,
        parameters,
        tensors: Object.keys(tensors).length,
        dtype: dtypes,
        bytes,
        normalization,
        metadata,
        notes,
        ...(faceModel ? { heads, mirrorAverage: faceModel.mirrorAverage ?? false, about: faceModel.about } : {}),
      };
      await writeJsonOutput(options.json, summary, ctx.stdout);
      return;
    }
    const grid = cfg.imgSize / cfg.patchSize;
    const description = faceModel?.about.description;
    const rows: [string, string][] = [
      ...(typeof description === "string" && description ? [["model", description] as [string, string]] : []),
      ["architecture", `ViT, width ${cfg.embedDim}, depth ${cfg.depth}, ${cfg.numHeads} heads, MLP ratio ${cfg.mlpRatio}`],
      ["input", `${cfg.imgSize}x${cfg.imgSize}, patch ${cfg.patchSize} (${grid}x${grid} = ${numPatches(cfg)} patches + class token)`],
      ["details", `qkv bias ${cfg.qkvBias}, LayerNorm eps ${cfg.lnEps}, pooling ${cfg.globalPool}`],
      ...(faceModel?.mirrorAverage
        ? [["features", "the mean of each face's and its mirror image's (the heads read them so)"] as [string, string]]
        : []),
      ["preset", preset ?? "none (a custom size)"],
      [
        "parameters",
        `${groupDigits(parameters)} in ${Object.keys(tensors).length} tensors, ${dtypes} (${groupDigits(bytes)} bytes on disk)`,
      ],
      ["normalisation", `mean ${normalization.mean.join(",")}, std ${normalization.std.join(",")}`],
      ...Object.entries(metadata).map(([k, v]): [string, string] => [`metadata.${k}`, v]),
      ...notes.map((n): [string, string] => ["note", n]),
      ...(faceModel ? headRows(faceModel) : []),
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    ctx.stdout.write(`${path}\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join("\n")}\n`);
  },
});
