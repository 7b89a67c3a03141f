/**
 * Measuring a new head before it is fitted on every photo (fit-head.ts): a seeded share of the
 * photos is held out, a head fitted on the others is scored on them, and the score is set
 * against always answering the training majority (the majority class; for a sigmoid head, each
 * label's majority value).
 *
 * The split is stratified by class: of a class of n photos, the round(f·n) ranked first by
 * `unitHash(seed, path)` are held out, at least one where n >= 3. A sigmoid head's photos are one
 * stratum. A photo is held out only while every class, or every label with it and without it,
 * keeps MIN_PHOTOS_PER_LABEL photos to train on. Ranking by path makes the split independent of
 * the order the photos are listed in.
 *
 * A few held-out photos give a rough estimate, so it comes with its 95% Wilson interval: over
 * the held-out photos (softmax), or over their yes/no decisions, photos × labels, taken as
 * independent (sigmoid; photos share faces, so that interval is the narrower side of the truth).
 */
import { unitHash } from "../../data/splits.js";
import { majorityClassBaseline, attributeMajorityBaseline } from "../baselines.js";
import { accuracy, argmaxRows, attributeAccuracy, binaryCounts, confusionMatrix, wilsonInterval } from "../metrics.js";
import { labelGroups, MIN_PHOTOS_PER_LABEL, type LabelledPhotos } from "./labelled-photos.js";

/** Indices into `photos.photos`, ascending. */
export type HoldoutSplit = { train: number[]; heldOut: number[] };

/** How many of a stratum's n photos to hold out: round(f·n), at least 1 where n >= 3; none below. */
export function heldOutCount(n: number, fraction: number): number {
  if (fraction === 0 || n < 3) return 0;
  return Math.max(1, Math.round(fraction * n));
}

export function holdOut(photos: LabelledPhotos, fraction: number, seed: number): HoldoutSplit {
  const list = photos.photos;
  const stratum = list.map((p) => (photos.activation === "softmax" ? p.targets[0]! : 0));
  const quota = new Map<number, number>();
  for (const s of stratum) quota.set(s, (quota.get(s) ?? 0) + 1);
  for (const [s, n] of quota) quota.set(s, heldOutCount(n, fraction));
  const groups = labelGroups(photos);
  const training = groups.map((group) => list.filter((p) => group.has(p.targets)).length);
  const ranked = list.map((p, i) => ({ i, u: unitHash(seed, p.path) })).sort((a, b) => a.u - b.u || a.i - b.i);
  const heldOut = new Set<number>();
  for (const { i } of ranked) {
    const member = groups.map((group) => group.has(list[i]!.targets));
    const keepsEnough = member.every((inGroup, g) => !inGroup || training[g]! > MIN_PHOTOS_PER_LABEL);
    if (quota.get(stratum[i]!)! === 0 || !keepsEnough) continue;
    heldOut.add(i);
    quota.set(stratum[i]!, quota.get(stratum[i]!)! - 1);
    member.forEach((inGroup, g) => {
      if (inGroup) training[g]!--;
    });
  }
  const all = list.map((_, i) => i);
  return { train: all.filter((i) => !heldOut.has(i)), heldOut: all.filter((i) => heldOut.has(i)) };
}

export type HeldOutScore = {
  photos: number;
  /** The share right: of photos (softmax), or of each label's yes/no at 0.5, averaged over labels (sigmoid). */
  accuracy: number;
  /** 95% Wilson interval of `accuracy`. */
  interval: [low: number, high: number];
  /** The same for always answering the training majority. */
  majorityBaseline: number;
  /** Per class, the held-out photos of it classed right; per label, those with it found (p >= 0.5). */
  right: number[];
};

/** Scores held-out predictions: [H, K] probabilities, rows in `split.heldOut` order. */
export function scoreHeldOut(photos: LabelledPhotos, split: HoldoutSplit, predictions: Float32Array): HeldOutScore {
  const k = photos.labels.length;
  const targets = (indices: number[]) => Float32Array.from(indices.flatMap((i) => photos.photos[i]!.targets));
  const [trainTargets, truth] = [targets(split.train), targets(split.heldOut)];
  if (photos.activation === "softmax") {
    const predicted = argmaxRows(predictions, k);
    const right = accuracy(predicted, truth);
    return {
      photos: split.heldOut.length,
      accuracy: right,
      interval: wilsonInterval(Math.round(right * split.heldOut.length), split.heldOut.length),
      majorityBaseline: majorityClassBaseline(trainTargets, truth, k).accuracy,
      right: confusionMatrix(predicted, truth, k).map((row, c) => row[c]!),
    };
  }
  const mean = attributeAccuracy(predictions, truth, k).mean;
  const decisions = split.heldOut.length * k;
  return {
    photos: split.heldOut.length,
    accuracy: mean,
    interval: wilsonInterval(Math.round(mean * decisions), decisions),
    majorityBaseline: attributeMajorityBaseline(trainTargets, truth, k).accuracy.mean,
    right: binaryCounts(predictions, truth, k).map((counts) => counts.tp),
  };
}
