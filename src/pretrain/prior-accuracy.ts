/**
 * Do the auxiliary heads learn? Their accuracy on faces against the trivial baselines:
 * - parsing: pixel accuracy of the pixel head over masked patches, against always answering the
 *   most frequent class of those pixels;
 * - landmarks: how often the patch head puts a landmark in its true patch, against placing every
 *   landmark at its mean position over the faces given.
 * Inputs are a PreviewData (pretrain-preview.ts) and the cache's priors for the same faces.
 */
import type { PreviewData } from "./pretrain-preview.js";

export type HeadAccuracy = { accuracy: number; baseline: number };

/** Parsing [N, S, S] -> [N, L, p·p], each patch's pixels row-major (the pixel head's layout). */
function patchifyParsing(parsing: Uint8Array, n: number, size: number, p: number): Uint8Array {
  const grid = size / p;
  const out = new Uint8Array(parsing.length);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const patch = Math.floor(y / p) * grid + Math.floor(x / p);
        out[((i * grid * grid + patch) * p + (y % p)) * p + (x % p)] = parsing[(i * size + y) * size + x]!;
      }
    }
  }
  return out;
}

export function parsingAccuracy(preview: PreviewData, parsing: Uint8Array): HeadAccuracy {
  if (!preview.parsing) throw new Error("parsingAccuracy: the preview has no parsing predictions (no pixel head)");
  const { size, patchSize: p, mask } = preview;
  const pp = p * p;
  const n = mask.length / (size / p) ** 2;
  const target = patchifyParsing(parsing, n, size, p);
  const counts = new Array<number>(256).fill(0);
  let right = 0;
  let total = 0;
  mask.forEach((hidden, patch) => {
    if (hidden !== 1) return;
    for (let k = patch * pp; k < (patch + 1) * pp; k++) {
      counts[target[k]!]!++;
      if (preview.parsing![k] === target[k]) right++;
      total++;
    }
  });
  return { accuracy: right / total, baseline: Math.max(...counts) / total };
}

export function landmarkPatchAccuracy(preview: PreviewData, landmarkPatch: Int32Array): HeadAccuracy {
  if (!preview.landmarks) throw new Error("landmarkPatchAccuracy: the preview has no landmark predictions (no patch head)");
  const { size, patchSize: p, landmarks, priorLandmarks } = preview;
  const grid = size / p;
  const n = landmarkPatch.length / 68;
  const patchOf = (x: number, y: number) =>
    Math.min(grid - 1, Math.max(0, Math.floor(y / p))) * grid + Math.min(grid - 1, Math.max(0, Math.floor(x / p)));
  const meanPatch = Array.from({ length: 68 }, (_, m) => {
    let [x, y] = [0, 0];
    for (let i = 0; i < n; i++) [x, y] = [x + priorLandmarks[(i * 68 + m) * 2]! / n, y + priorLandmarks[(i * 68 + m) * 2 + 1]! / n];
    return patchOf(x, y);
  });
  let [right, baseline, total] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    for (let m = 0; m < 68; m++) {
      const truth = landmarkPatch[i * 68 + m]!;
      if (truth < 0) continue;
      total++;
      if (patchOf(landmarks[(i * 68 + m) * 2]!, landmarks[(i * 68 + m) * 2 + 1]!) === truth) right++;
      if (meanPatch[m] === truth) baseline++;
    }
  }
  return { accuracy: right / total, baseline: baseline / total };
}
