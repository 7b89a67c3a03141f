/**
 * Priors drawn into RGB pixel arrays: the parsing classes' colours blended in, landmarks as dots.
 * No Node imports, so the browser demo draws its crops with the same code as overlay.ts.
 */

/** One colour per parsing class (background drawn black where a map is shown alone). */
export const CLASS_COLOURS: readonly [number, number, number][] = [
  [0, 0, 0],
  [255, 200, 150],
  [0, 200, 255],
  [0, 120, 255],
  [0, 255, 120],
  [0, 160, 60],
  [255, 255, 0],
  [255, 0, 120],
  [200, 0, 255],
  [120, 0, 0],
];

/** Blends the class colours into `image` ([S, S, 3], in place) at `alpha`, background untouched. */
export function blendParsing(image: Uint8Array, parsing: Uint8Array, alpha: number): Uint8Array {
  for (let i = 0; i < parsing.length; i++) {
    const cls = parsing[i]!;
    if (cls === 0) continue;
    for (let c = 0; c < 3; c++) image[3 * i + c] = Math.round((1 - alpha) * image[3 * i + c]! + alpha * CLASS_COLOURS[cls]![c]!);
  }
  return image;
}

/** 2x2 dots at points [n, 2] (continuous coordinates) on `image` ([S, S, 3], in place). */
export function drawDots(image: Uint8Array, size: number, points: Float32Array, rgb: readonly [number, number, number]): Uint8Array {
  for (let p = 0; p < points.length / 2; p++) {
    const [x, y] = [Math.floor(points[2 * p]! - 0.5), Math.floor(points[2 * p + 1]! - 0.5)];
    for (const [dx, dy] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ] as const) {
      const [px, py] = [x + dx, y + dy];
      if (px >= 0 && py >= 0 && px < size && py < size) image.set(rgb, 3 * (py * size + px));
    }
  }
  return image;
}
