/**
 * Packs an encoder and the linear-probe heads of transfer runs into one face model file
 * (face-model/face-model.ts): each run folder (`faceprior finetune --mode probe`) gives its task, label
 * columns, the head of its first fold and seed (saved folded onto raw features, probe.ts) and
 * that head's held-out metrics, which go into the model's provenance.
 */
import { stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { readSafetensors } from "../checkpoint/safetensors.js";
import { readVitCheckpoint } from "../checkpoint/vit-checkpoint.js";
import { FacepriorError } from "../errors.js";
import { readJsonFileIfExists } from "../io/json-file.js";
import { PROBE_HEAD_FILE } from "./probe.js";
import { GREY_HEAD_SHARE } from "../priors/cache-dataset.js";
import { TRANSFER_TASKS, type TransferTaskName } from "./tasks/index.js";
import { writeFaceModel, type ModelHead } from "../face-model/face-model.js";

type RunMetrics = {
  task: TransferTaskName;
  mode: string;
  columns: string[];
  protocol: string;
  cache: string;
  pooling: "avg" | "token";
  /** Absent in runs made before grey-input heads. */
  greyTrainingShare?: number;
  init: { checkpoint?: string };
  runs: {
    seed: number;
    fold: string;
    trainFaces: number;
    testFaces: number;
    metrics: Record<string, unknown> & { headline: { name: string; value: number } };
  }[];
};

/** One probe run folder -> its head and the provenance of that head. */
export async function probeRunHead(runDir: string): Promise<{ head: ModelHead; about: Record<string, unknown> }> {
  const metricsFile = join(runDir, "metrics.json");
  const finished = "Pass the folder of a finished linear-probe run (`faceprior finetune` in mode probe).";
  const metrics = (await readJsonFileIfExists(metricsFile, { code: "BAD_ARGUMENT", fix: finished })) as RunMetrics | undefined;
  const option = { option: "heads" };
  if (metrics === undefined) throw new FacepriorError("BAD_ARGUMENT", `heads ${runDir}: no metrics.json. ${finished}`, option);
  if (metrics.mode !== "probe")
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `heads ${runDir}: a ${metrics.mode} run. Only linear-probe heads can be packed on a shared encoder.`,
      option,
    );
  if (!Object.hasOwn(TRANSFER_TASKS, metrics.task))
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `heads ${runDir}: task "${metrics.task}" is not one of ${Object.keys(TRANSFER_TASKS).join(", ")}. Pass the folder of a faceprior run.`,
      option,
    );
  const first = metrics.runs[0]!;
  const file = join(runDir, "probes", `${first.fold}-seed${first.seed}`, PROBE_HEAD_FILE);
  const { tensors } = await readSafetensors(file);
  const { activation, outputLabels } = TRANSFER_TASKS[metrics.task];
  const head: ModelHead = {
    name: metrics.task,
    activation,
    labels: outputLabels(metrics.columns),
    weight: tensors["head.weight"]!.data as Float32Array,
    bias: tensors["head.bias"]!.data as Float32Array,
    ...((metrics.greyTrainingShare ?? 0) >= GREY_HEAD_SHARE ? { greyInput: true } : {}),
  };
  const heldOut = Object.fromEntries(Object.entries(first.metrics).filter(([key]) => key !== "confusion"));
  const about = {
    task: metrics.task,
    pooling: metrics.pooling,
    data: basename(metrics.cache),
    protocol: metrics.protocol,
    split: first.fold === "all" ? "test split" : `test split of ${first.fold}`,
    trainFaces: first.trainFaces,
    testFaces: first.testFaces,
    heldOut,
    encoder: metrics.init.checkpoint,
  };
  return { head, about };
}

/** Writes the face model: the encoder at `encoderPath` (fp16 on disk) with the heads of `runDirs`. */
export async function packFaceModel(
  encoderPath: string,
  runDirs: string[],
  out: string,
  description: string,
): Promise<{ heads: string[]; bytes: number }> {
  const encoder = await readVitCheckpoint(encoderPath);
  const packed = await Promise.all(runDirs.map(probeRunHead));
  const wrongEncoder = packed.find(({ about }) => about.encoder && about.encoder !== encoderPath);
  if (wrongEncoder) {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `heads: the ${wrongEncoder.about.task} head was trained on ${wrongEncoder.about.encoder}, not on the encoder ${encoderPath}. Pack heads with the encoder they were trained on.`,
      { option: "heads" },
    );
  }
  const poolings = [...new Set(packed.map((p) => p.about.pooling))];
  if (poolings.length > 1)
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `heads: the runs pool features differently (${poolings.join(", ")}). Pack heads trained with one pooling.`,
      { option: "heads" },
    );
  // The heads read features pooled as in their runs, whatever the checkpoint's own default.
  const cfg = { ...encoder.cfg, globalPool: poolings[0] as "avg" | "token" };
  const heads = packed.map((p) => p.head);
  const about = {
    description,
    encoder: { file: encoderPath, metadata: encoder.metadata },
    heads: Object.fromEntries(packed.map((p) => [p.head.name, p.about])),
  };
  await writeFaceModel(out, { cfg, normalization: encoder.normalization, tensors: encoder.tensors, heads, about });
  const { size } = await stat(out);
  return { heads: heads.map((h) => h.name), bytes: size };
}
