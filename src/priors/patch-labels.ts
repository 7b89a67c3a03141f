/**
 * Per-patch prior labels for a ViT patch grid over the aligned crop: the fraction of each patch's
 * pixels in each parsing class, and which patch holds each landmark with its offset inside it.
 * Patches are numbered row-major, as the encoder's patch tokens are.
 */

/** [L, K]: each patch's class fractions (rows sum to 1). */
export function patchClassHistograms(parsing: Uint8Array, size: number, patch: number, numClasses: number): Float32Array {
  const grid = size / patch;
  if (!Number.isInteger(grid)) throw new Error(`patchClassHistograms: patch ${patch} does not divide size ${size}`);
  const out = new Float32Array(grid * grid * numClasses);
  const share = 1 / (patch * patch);
  for (let y = 0; y < size; y++) {
    const rowBase = Math.floor(y / patch) * grid;
    for (let x = 0; x < size; x++) {
      const cell = rowBase + Math.floor(x / patch);
      out[cell * numClasses + parsing[y * size + x]!]! += share;
    }
  }
  return out;
}

export type LandmarkPatches = {
  /** [68]: the patch holding each landmark, or -1 when it lies outside the crop. */
  patchIndex: Int32Array;
  /** [68, 2]: position inside that patch, 0-1 on each axis (0 for landmarks outside). */
  offset: Float32Array;
};

export function landmarkPatches(landmarks: Float32Array, size: number, patch: number): LandmarkPatches {
  const grid = size / patch;
  const count = landmarks.length / 2;
  const patchIndex = new Int32Array(count).fill(-1);
  const offset = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) {
    const [x, y] = [landmarks[2 * i]!, landmarks[2 * i + 1]!];
    if (!(x >= 0 && y >= 0 && x < size && y < size)) continue;
    const [col, row] = [Math.floor(x / patch), Math.floor(y / patch)];
    patchIndex[i] = row * grid + col;
    offset[2 * i] = x / patch - col;
    offset[2 * i + 1] = y / patch - row;
  }
  return { patchIndex, offset };
}
