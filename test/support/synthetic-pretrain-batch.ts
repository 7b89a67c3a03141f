/** A pretraining batch of synthetic 32x32 faces (patch 8), for loss and lowering tests. */
import { numpy as np, random } from "../../src/engine/jax.js";
import { landmarkPatches, patchClassHistograms } from "../../src/priors/patch-labels.js";
import type { PretrainBatch } from "../../src/pretrain/pretrain-loss.js";

/** `count` faces: smooth images, a parsing map with every class in every patch, landmarks (two outside the crop). */
export function syntheticPretrainBatch(count = 2): PretrainBatch {
  const s = 32;
  const faces = Array.from({ length: count }, (_, i) => i);
  const images = Float32Array.from({ length: count * 3 * s * s }, (_, k) =>
    Math.sin(0.3 * (k % s) + 0.2 * Math.floor(k / s) + 0.5 * Math.floor(k / (s * s))),
  );
  const parsing = Int32Array.from(
    { length: count * s * s },
    (_, k) => (((k % s) >> 2) + 3 * ((Math.floor(k / s) % s) >> 2) + Math.floor(k / (s * s))) % 10,
  );
  const hist = faces.flatMap((i) => [...patchClassHistograms(Uint8Array.from(parsing.subarray(i * s * s, (i + 1) * s * s)), s, 8, 10)]);
  const landmarks = faces.map((i) => Float32Array.from({ length: 136 }, (_, k) => (k < 4 ? -3 : 16 + 14 * Math.sin(1.1 * k + i))));
  const labels = landmarks.map((lm) => landmarkPatches(lm, s, 8));
  return {
    images: np.array(images).reshape([count, 3, s, s]),
    parsing: np.array(parsing, { dtype: np.int32 }).reshape([count, s, s]),
    patch_hist: np.array(Float32Array.from(hist)).reshape([count, 16, 10]),
    landmark_patch: np.array(Int32Array.from(labels.flatMap((l) => [...l.patchIndex])), { dtype: np.int32 }).reshape([count, 68]),
    landmark_offset: np.array(Float32Array.from(labels.flatMap((l) => [...l.offset]))).reshape([count, 68, 2]),
    descriptors: random.normal(random.key(99), [count, 8]),
  };
}
