/**
 * Photometric jitter of the image alone (parsing and points do not move), in torchvision's
 * ColorJitter sense but in a fixed order: brightness, contrast, saturation, hue. Each factor is
 * drawn from [max(0, 1 − strength), 1 + strength]; the hue shift from [−hue, hue] turns of the
 * colour wheel. Values are clamped to [0, 255] after each step and rounded once at the end.
 */
import { uniform, type Rng } from "./prng.js";

/** Strengths; 0 turns a step off. `hue` is at most 0.5 (half a turn). */
export type ColorJitterOptions = { brightness: number; contrast: number; saturation: number; hue: number };

/** One drawn jitter: three factors (1 = unchanged) and a hue shift in turns (0 = unchanged). */
export type ColorJitterParams = { brightness: number; contrast: number; saturation: number; hue: number };

export const IDENTITY_COLOR_JITTER: ColorJitterParams = Object.freeze({ brightness: 1, contrast: 1, saturation: 1, hue: 0 });

/** Always reads four draws from `rng`, so later draws do not depend on which steps are on. */
export function drawColorJitter(rng: Rng, options: ColorJitterOptions): ColorJitterParams {
  const factor = (strength: number) => uniform(rng, Math.max(0, 1 - strength), 1 + strength);
  return {
    brightness: factor(options.brightness),
    contrast: factor(options.contrast),
    saturation: factor(options.saturation),
    hue: uniform(rng, -options.hue, options.hue),
  };
}

/** Rec. 601 luma, the grey that contrast and saturation blend towards. */
const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;
const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/** The jittered copy of an [S, S, 3] RGB image (any HWC RGB buffer works). */
export function applyColorJitter(image: Uint8Array, params: ColorJitterParams): Uint8Array {
  const px = Float32Array.from(image);
  const n = px.length / 3;
  if (params.brightness !== 1) for (let i = 0; i < px.length; i++) px[i] = clamp(px[i]! * params.brightness);
  if (params.contrast !== 1) {
    let sum = 0;
    for (let p = 0; p < n; p++) sum += luma(px[3 * p]!, px[3 * p + 1]!, px[3 * p + 2]!);
    const mean = sum / n;
    for (let i = 0; i < px.length; i++) px[i] = clamp(mean + params.contrast * (px[i]! - mean));
  }
  if (params.saturation !== 1) {
    for (let p = 0; p < n; p++) {
      const grey = luma(px[3 * p]!, px[3 * p + 1]!, px[3 * p + 2]!);
      for (let c = 0; c < 3; c++) px[3 * p + c] = clamp(grey + params.saturation * (px[3 * p + c]! - grey));
    }
  }
  if (params.hue !== 0) for (let p = 0; p < n; p++) rotateHue(px, 3 * p, params.hue);
  return Uint8Array.from(px, Math.round);
}

/** Turns the hue of the pixel at `at` by `turns` in HSV, keeping its saturation and value. */
function rotateHue(px: Float32Array, at: number, turns: number): void {
  const [r, g, b] = [px[at]!, px[at + 1]!, px[at + 2]!];
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const chroma = max - min;
  if (chroma === 0) return; // a grey has no hue
  const sector = max === r ? (g - b) / chroma : max === g ? (b - r) / chroma + 2 : (r - g) / chroma + 4;
  const hue = ((((sector / 6 + turns) % 1) + 1) % 1) * 6; // in [0, 6)
  const k = Math.floor(hue);
  const f = hue - k;
  const falling = max - chroma * f; // the channel leaving its maximum within this sector
  const rising = min + chroma * f; // the channel reaching its maximum within this sector
  const rgb = [
    [max, rising, min],
    [falling, max, min],
    [min, max, rising],
    [min, falling, max],
    [rising, min, max],
    [max, min, falling],
  ][k % 6]!;
  for (let c = 0; c < 3; c++) px[at + c] = rgb[c]!;
}

/** The grey copy of an RGB image: every channel set to the pixel's Rec. 601 luma, rounded. */
export function toGrayscale(image: Uint8Array): Uint8Array {
  const out = new Uint8Array(image.length);
  for (let at = 0; at < image.length; at += 3) out.fill(Math.round(luma(image[at]!, image[at + 1]!, image[at + 2]!)), at, at + 3);
  return out;
}
