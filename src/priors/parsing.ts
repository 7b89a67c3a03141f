/**
 * The 10-class parsing prior (METHOD.md §1): component polygons from the mesh rasterised into a
 * label map of the aligned crop, later classes painted over earlier ones.
 */
import { componentPolygon, type ComponentName } from "./components.js";
import { PARSING_CLASSES, type ParsingClass } from "./face-sample.js";

/** Painting order: the face oval as skin first, then the parts on top of it. */
const PAINT_ORDER: [ComponentName, ParsingClass][] = [
  ["face_oval", "skin"],
  ["nose", "nose"],
  ["left_brow", "left_brow"],
  ["right_brow", "right_brow"],
  ["left_eye", "left_eye"],
  ["right_eye", "right_eye"],
  ["upper_lip", "upper_lip"],
  ["lower_lip", "lower_lip"],
  ["inner_mouth", "inner_mouth"],
];

/**
 * Sets `value` in `mask` ([size, size]) at every pixel whose centre lies inside `polygon`
 * ([n, 2], continuous coordinates), by the even-odd rule.
 */
export function fillPolygon(mask: Uint8Array, size: number, polygon: Float32Array, value: number): void {
  const n = polygon.length / 2;
  const crossings: number[] = [];
  for (let row = 0; row < size; row++) {
    const y = row + 0.5;
    crossings.length = 0;
    for (let i = 0; i < n; i++) {
      const [x0, y0] = [polygon[2 * i]!, polygon[2 * i + 1]!];
      const j = (i + 1) % n;
      const [x1, y1] = [polygon[2 * j]!, polygon[2 * j + 1]!];
      // Half-open in y so a vertex on the scanline counts once.
      if (y0 <= y !== y1 <= y) crossings.push(x0 + ((y - y0) / (y1 - y0)) * (x1 - x0));
    }
    crossings.sort((a, b) => a - b);
    for (let k = 0; k + 1 < crossings.length; k += 2) {
      const from = Math.max(0, Math.ceil(crossings[k]! - 0.5));
      const to = Math.min(size - 1, Math.ceil(crossings[k + 1]! - 0.5) - 1);
      mask.fill(value, row * size + from, row * size + to + 1);
    }
  }
}

/** The parsing map [size, size] of an aligned mesh [478, 2]. */
export function parsingFromMesh(mesh: Float32Array, size: number): Uint8Array {
  const mask = new Uint8Array(size * size);
  for (const [component, label] of PAINT_ORDER) {
    fillPolygon(mask, size, componentPolygon(mesh, component), PARSING_CLASSES.indexOf(label));
  }
  return mask;
}
