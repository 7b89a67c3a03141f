/**
 * From labelled photos (labelled-photos.ts) to a new head on a face model's encoder; what
 * `faceprior add-head` runs:
 *
 *   1. each photo's largest face through `FaceAnalyzer.embed`: the pooled encoder features the
 *      model's heads read. Photos that cannot be read or show no face are left out and listed.
 *   2. a seeded, stratified share of the photos held out (head-holdout.ts): a head fitted on the
 *      others is scored on it, against the majority baseline.
 *   3. the head fitted on all the photos: the one returned.
 *
 * Heads are linear probes (probe.ts `trainLinearHead`): trained on standardised features with the
 * shared train loop, then folded onto raw features, as a face model stores them. Losses: the
 * expression task's label-smoothed cross-entropy for softmax heads, BCE with logits for sigmoid ones.
 *
 *   await startEngine();                                   // the head trains on jax-js
 *   const analyzer = await FaceAnalyzer.load();
 *   const { head, report } = await fitHead(analyzer, { name: "smile", photos: await readLabelledPhotos("photos/") });
 *   await writeFaceModel("smile.safetensors", addHead(analyzer.model, head, { about: report }));
 */
import { join } from "node:path";
import { nn, numpy as np, type Array } from "../../engine/jax.js";
import { FacepriorError, invalidArgument } from "../../errors.js";
import { withTempDir } from "../../io/exit-cleanup.js";
import type { TrainConfigInput } from "../../train/train-config.js";
import type { FeatureSet } from "../features.js";
import { trainLinearHead } from "../probe.js";
import { DEFAULT_LABEL_SMOOTHING, smoothedCrossEntropy } from "../tasks/expression.js";
import type { TaskLoss } from "../tasks/index.js";
import { bceWithLogits, sigmoidPredict } from "../tasks/multi-label.js";
import { checkNewHeadName, type FaceModel, type ModelHead } from "../../face-model/face-model.js";
import { holdOut, scoreHeldOut, type HeldOutScore, type HoldoutSplit } from "./head-holdout.js";
import { checkEnoughPhotos, checkTargets, type LabelledPhoto, type LabelledPhotos, type LeftOutPhoto } from "./labelled-photos.js";

export const DEFAULT_HOLDOUT = 0.2;
/** Past this, the measured head is fitted on too few photos to stand for the final one. */
export const MAX_HOLDOUT = 0.5;

export type FitStage = "embed" | "held-out fit" | "final fit";
export type FitProgress = { stage: FitStage; done: number; total: number };

export type FitHeadOptions = {
  /** The head's name in the model: letters, digits and _, starting with a letter. */
  name: string;
  photos: LabelledPhotos;
  /** Overwrite the model's head of that name. */
  replace?: boolean;
  /** Share of each class held out to measure the head, 0 to MAX_HOLDOUT; 0 skips the measurement. */
  holdout?: number;
  /** Seeds the split and the head's initialisation. */
  seed?: number;
  /** Train config over the probe's defaults (100 epochs, lr 1e-2), e.g. { epochs: 200 }. */
  train?: TrainConfigInput;
  onProgress?: (progress: FitProgress) => void;
};

/** Per class, or per label the photos with it: how many were used, held out, and held out and right. */
export type LabelCount = { label: string; photos: number; heldOut: number; heldOutRight: number | null };

export type FitReport = {
  source: string;
  activation: LabelledPhotos["activation"];
  /** Photos the returned head was fitted on. */
  photos: number;
  labels: LabelCount[];
  /** Null when no photo was held out (holdout 0, or classes under 3 photos). */
  heldOut: Omit<HeldOutScore, "right"> | null;
  leftOut: { file: string; reason: string }[];
  seed: number;
};

export type FitHeadResult = { head: ModelHead; report: FitReport };

type HeadKind = { loss: TaskLoss; targets: (rows: number[][]) => Array; predict: (logits: Array) => Array };

const HEAD_KINDS: Record<LabelledPhotos["activation"], HeadKind> = {
  softmax: {
    loss: (logits, classes) => smoothedCrossEntropy(logits, classes, DEFAULT_LABEL_SMOOTHING),
    targets: (rows) =>
      np.array(
        Int32Array.from(rows, (row) => row[0]!),
        { dtype: np.int32 },
      ),
    predict: (logits) => nn.softmax(logits, -1),
  },
  sigmoid: {
    loss: (logits, targets) => bceWithLogits(logits, targets, null),
    targets: (rows) => np.array(Float32Array.from(rows.flat())).reshape([rows.length, rows[0]!.length]),
    predict: sigmoidPredict,
  },
};

/** One face's features and its box, as `FaceAnalyzer.embed` gives them. */
type EmbeddedFace = { box: { width: number; height: number }; embedding: Float32Array };

/** What finds and embeds the photos' faces: a FaceAnalyzer (inference/face-analyzer.ts), whose model gets the head. */
export type FaceEmbedder = { model: Pick<FaceModel, "source" | "heads" | "cfg">; embed(file: string): Promise<EmbeddedFace[]> };

const largestFace = (faces: EmbeddedFace[]) => faces.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));

/** Each photo's largest face's features [N, D], for the photos used; the others with the reason. */
async function embedPhotos(
  analyzer: FaceEmbedder,
  photos: readonly LabelledPhoto[],
  onPhoto?: (done: number) => void,
): Promise<{ features: FeatureSet; used: LabelledPhoto[]; leftOut: LeftOutPhoto[] }> {
  const used: LabelledPhoto[] = [];
  const embeddings: Float32Array[] = [];
  const leftOut: LeftOutPhoto[] = [];
  for (const [i, photo] of photos.entries()) {
    try {
      const faces = await analyzer.embed(photo.file);
      if (faces.length > 0) {
        used.push(photo);
        embeddings.push(largestFace(faces).embedding);
      } else leftOut.push({ ...photo, reason: `${photo.file}: no face found. For tight crops of faces, raise pad (e.g. to 0.5)` });
    } catch (error) {
      if (!(error instanceof FacepriorError) || error.code !== "BAD_IMAGE") throw error;
      leftOut.push({ ...photo, reason: error.message.replace(/\.$/, "") });
    }
    onPhoto?.(i + 1);
  }
  const dim = analyzer.model.cfg.embedDim;
  const features = new Float32Array(used.length * dim);
  embeddings.forEach((embedding, i) => features.set(embedding, i * dim));
  return { features: { features, rows: Int32Array.from(used.keys()), dim, count: used.length }, used, leftOut };
}

function fitReport(
  photos: LabelledPhotos,
  split: HoldoutSplit,
  score: HeldOutScore | null,
  leftOut: LeftOutPhoto[],
  seed: number,
): FitReport {
  const has = (k: number, i: number) =>
    photos.activation === "softmax" ? photos.photos[i]!.targets[0] === k : photos.photos[i]!.targets[k] === 1;
  const labels = photos.labels.map((label, k) => ({
    label,
    photos: photos.photos.filter((_, i) => has(k, i)).length,
    heldOut: split.heldOut.filter((i) => has(k, i)).length,
    heldOutRight: score ? score.right[k]! : null,
  }));
  const heldOut = score
    ? { photos: score.photos, accuracy: score.accuracy, interval: score.interval, majorityBaseline: score.majorityBaseline }
    : null;
  const { source, activation } = photos;
  return {
    source,
    activation,
    photos: photos.photos.length,
    labels,
    heldOut,
    leftOut: leftOut.map(({ file, reason }) => ({ file, reason })),
    seed,
  };
}

/** One line on the head, stored with it in the model (HeadSpec.about). */
function describeFit({ photos, source, heldOut }: FitReport): string {
  const measured = heldOut
    ? `held-out accuracy ${heldOut.accuracy.toFixed(2)} on ${heldOut.photos} photos (majority baseline ${heldOut.majorityBaseline.toFixed(2)})`
    : "not measured on held-out photos";
  return `Fitted by faceprior add-head on ${photos} photos from ${source}; ${measured}.`;
}

/** Fits a head named `name` on the photos' faces, after measuring one on a held-out share (see the module comment). */
export async function fitHead(analyzer: FaceEmbedder, options: FitHeadOptions): Promise<FitHeadResult> {
  const { name, replace = false, holdout = DEFAULT_HOLDOUT, seed = 0, onProgress } = options;
  checkNewHeadName(analyzer.model, name, replace);
  if (!(holdout >= 0 && holdout <= MAX_HOLDOUT)) throw invalidArgument("holdout", `a fraction from 0 to ${MAX_HOLDOUT}`, holdout);
  checkTargets(options.photos);
  checkEnoughPhotos(options.photos); // before the slow part
  const total = options.photos.photos.length;
  const { features, used, leftOut } = await embedPhotos(analyzer, options.photos.photos, (done) =>
    onProgress?.({ stage: "embed", done, total }),
  );
  const photos = checkEnoughPhotos({ ...options.photos, photos: used }, leftOut);
  const split = holdOut(photos, holdout, seed);
  const kind = HEAD_KINDS[photos.activation];
  // The probes' run folders are scratch; removed after the fit, or at exit when it is interrupted.
  return withTempDir("faceprior-fit-head-", async (runDir) => {
    const fit = (stage: FitStage, trainFaces: number[], evalFaces: number[]) =>
      trainLinearHead({
        name,
        features,
        trainFaces,
        evalFaces,
        outputs: photos.labels.length,
        targets: (faces) => kind.targets(faces.map((f) => photos.photos[f]!.targets)),
        loss: kind.loss,
        predict: kind.predict,
        runDir: join(runDir, stage.replace(/ /g, "-")),
        train: { seed, ...options.train },
        onProgress: ({ step, totalSteps }) => onProgress?.({ stage, done: step, total: totalSteps }),
      });
    const score =
      split.heldOut.length > 0 ? scoreHeldOut(photos, split, (await fit("held-out fit", split.train, split.heldOut)).predictions) : null;
    const { head } = await fit("final fit", [...photos.photos.keys()], []);
    const report = fitReport(photos, split, score, leftOut, seed);
    return { head: { name, activation: photos.activation, labels: photos.labels, about: describeFit(report), ...head }, report };
  });
}
