/**
 * RGB bytes to the model's input planes. No Node imports: image.ts and the browser demo share it.
 */
import { invalidArgument } from "../errors.js";

/** [S, S, 3] bytes -> [3, S, S] floats, (x / 255 - mean) / std, written into `out` at `offset`. */
export function normalizeRgb(
  rgb: Uint8Array,
  mean: readonly number[],
  std: readonly number[],
  out?: Float32Array,
  offset = 0,
): Float32Array {
  if (mean.length !== 3 || !mean.every(Number.isFinite)) throw invalidArgument("mean", "3 finite numbers", mean);
  if (std.length !== 3 || !std.every((v) => v > 0)) throw invalidArgument("std", "3 positive numbers", std);
  const plane = rgb.length / 3;
  const target = out ?? new Float32Array(rgb.length);
  for (let c = 0; c < 3; c++) {
    const m = mean[c]!;
    const s = std[c]!;
    const base = offset + c * plane;
    for (let i = 0; i < plane; i++) target[base + i] = (rgb[3 * i + c]! / 255 - m) / s;
  }
  return target;
}
