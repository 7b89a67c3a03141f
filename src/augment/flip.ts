/**
 * Horizontal flip of a FaceSample. Pixel column x goes to S − 1 − x; a continuous coordinate x
 * goes to S − x (pixel centres at i + 0.5 stay pixel centres). A flip turns the subject's left
 * side into their right, so every left/right-named thing swaps: parsing classes (PARSING_MIRROR),
 * iBUG landmarks (MIRROR_68), mesh points (a mirror table from the teacher's UV map, see
 * `meshMirrorTable`) and, through `flipLabels`, any task label columns that name a side.
 */
import { FacepriorError } from "../errors.js";
import { PARSING_CLASSES, PARSING_MIRROR, type FaceSample } from "../priors/face-sample.js";
import { MIRROR_68 } from "../priors/landmarks68.js";
import { MESH_POINTS, checkFaceSample } from "./sample-shape.js";

/** FaceMesh points that have a UV coordinate; the 10 iris points after them have none. */
const UV_POINTS = 468;
/**
 * Largest accepted UV distance between a point's mirrored UV and its partner's UV. On Human
 * 3.3.6's map the largest is 0.0012 (points 244/464) and no second-nearest point is closer than
 * 0.0117, so a bigger gap means the map is not a symmetric face UV map.
 */
const MAX_UV_MISMATCH = 0.005;

/**
 * The 478-point mesh mirror table: `table[i]` is the point that i becomes under a horizontal flip.
 *
 * For the 468 FaceMesh points, the mirror of i is the point j whose UV is nearest to (1 − u_i, v_i)
 * (the UV map is left-right symmetric about u = 0.5; the 28 points on the midline map to
 * themselves). The 10 iris points have no UV, so their pairs are fixed: 468 + k ↔ 473 + k for
 * k = 0..4. Human orders both irises the same way anatomically: centre, then the nasal, upper,
 * temporal and lower contour points. (Checked on real faces: 469 lies on the image-left of 468,
 * the nasal side of the subject's left eye, and 474 on the image-right of 473, the nasal side of
 * the right eye.) A flip maps nasal to nasal and upper to upper, hence index k to index k.
 *
 * `uvMap` is the teacher's `faceUVMap` ([468][u, v], see teacherUVMap in src/priors/teacher.ts). Throws when the
 * result is not an involution or a mirrored UV has no close partner.
 */
export function meshMirrorTable(uvMap: readonly (readonly [number, number])[]): readonly number[] {
  if (uvMap.length !== UV_POINTS || !uvMap.every((p) => p.length === 2 && p.every(Number.isFinite))) {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `meshMirrorTable: uvMap must be ${UV_POINTS} finite [u, v] pairs, got ${uvMap.length} entries. Pass the teacher's faceUVMap.`,
    );
  }
  const table = Array.from({ length: MESH_POINTS }, (_, i) => i);
  for (let i = 0; i < UV_POINTS; i++) {
    const [u, v] = uvMap[i]!;
    let best = -1;
    let bestDistance = Infinity;
    uvMap.forEach(([uj, vj], j) => {
      const d = Math.hypot(1 - u - uj, v - vj);
      if (d < bestDistance) [best, bestDistance] = [j, d];
    });
    if (bestDistance > MAX_UV_MISMATCH) {
      throw new FacepriorError(
        "BAD_ARGUMENT",
        `meshMirrorTable: point ${i} at UV (${u}, ${v}) has no mirror partner; the nearest to (${1 - u}, ${v}) is point ${best}, ${bestDistance.toFixed(4)} away (limit ${MAX_UV_MISMATCH}). Pass a left-right symmetric UV map.`,
      );
    }
    table[i] = best;
  }
  for (let k = 0; k < 5; k++) [table[468 + k], table[473 + k]] = [473 + k, 468 + k];
  checkMirrorTable(table, MESH_POINTS, "meshMirrorTable");
  return Object.freeze(table);
}

/** Throws unless `table` is an involution on 0..n-1 (mirror of mirror is the point itself). */
export function checkMirrorTable(table: readonly number[], n: number, where: string): void {
  if (table.length !== n) {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `${where}: the mirror table has ${table.length} entries, expected ${n}. Build it with meshMirrorTable.`,
    );
  }
  const broken = table.flatMap((j, i) => (Number.isInteger(j) && j >= 0 && j < n && table[j] === i ? [] : [`${i}→${j}→${table[j]}`]));
  if (broken.length > 0) {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `${where}: the mirror table is not an involution at ${broken.slice(0, 8).join(", ")}${broken.length > 8 ? ` and ${broken.length - 8} more` : ""}. Build it with meshMirrorTable.`,
    );
  }
}

/** PARSING_MIRROR as a 256-entry lookup; -1 marks ids that are not parsing classes. */
const PARSING_LOOKUP = Int16Array.from({ length: 256 }, (_, id) => (id < PARSING_CLASSES.length ? PARSING_MIRROR[id]! : -1));

/**
 * The mirror image of `sample`: image and parsing columns reversed (left/right classes swapped),
 * landmarks68 and mesh x → S − x and reordered by MIRROR_68 and `meshMirror`. Flipping twice
 * gives back the image and parsing exactly, and the points up to float32 rounding of S − x
 * (at most one float32 step at S; exact for coordinates on a 1/256 grid).
 */
export function flipSample(sample: FaceSample, meshMirror: readonly number[]): FaceSample {
  checkFaceSample(sample, "flipSample");
  checkMirrorTable(meshMirror, MESH_POINTS, "flipSample");
  const s = sample.size;
  const parsing = new Uint8Array(sample.parsing.length);
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      const from = y * s + (s - 1 - x);
      const to = y * s + x;
      const mirrored = PARSING_LOOKUP[sample.parsing[from]!]!;
      if (mirrored < 0) {
        throw new FacepriorError(
          "BAD_ARGUMENT",
          `flipSample: parsing class ${sample.parsing[from]} at row ${y}, column ${s - 1 - x} is not one of the ${PARSING_CLASSES.length} PARSING_CLASSES. Add it there with its mirror class.`,
        );
      }
      parsing[to] = mirrored;
    }
  }
  return {
    size: s,
    image: flipImage(sample.image, s),
    parsing,
    landmarks68: mirrorPoints(sample.landmarks68, MIRROR_68, s),
    mesh: mirrorPoints(sample.mesh, meshMirror, s),
  };
}

/** The mirror image of an [S, S, 3] RGB image: each row's columns reversed. */
export function flipImage(image: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(image.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const from = 3 * (y * size + (size - 1 - x));
      out.set(image.subarray(from, from + 3), 3 * (y * size + x));
    }
  }
  return out;
}

/** Point i of the result is point table[i] of `points`, reflected: (S − x, y). */
function mirrorPoints(points: Float32Array, table: readonly number[], s: number): Float32Array {
  const out = new Float32Array(points.length);
  table.forEach((j, i) => {
    out[2 * i] = s - points[2 * j]!;
    out[2 * i + 1] = points[2 * j + 1]!;
  });
  return out;
}

/** Pairs of label columns that name the subject's left and right side of the same thing. */
export type LabelSwapPairs = readonly (readonly [number, number])[];

/**
 * The swap pairs of every task faceprior ships: none. AU labels code each AU once for the whole
 * face (CK+, BP4D and DISFA have no left/right columns), none of the 40 CelebA/LFWA attributes
 * names a side, and expression and age do not change under a flip. A task with lateral columns
 * (say AU12L/AU12R) declares its own pairs.
 */
export const NO_SWAP_PAIRS: LabelSwapPairs = Object.freeze([]);

/**
 * The labels of a flipped sample: a copy of `labels` (one sample's label columns) with the
 * columns of each pair exchanged.
 */
export function flipLabels<T extends Float32Array | Uint8Array | number[]>(labels: T, swapPairs: LabelSwapPairs): T {
  const seen = new Set<number>();
  for (const pair of swapPairs) {
    for (const column of pair) {
      if (!Number.isInteger(column) || column < 0 || column >= labels.length || seen.has(column)) {
        throw new FacepriorError(
          "BAD_ARGUMENT",
          `flipLabels: swap pair ${JSON.stringify(pair)} names column ${column}, which is ${seen.has(column) ? "already in another pair" : `outside 0..${labels.length - 1}`}. Give each label column at most once.`,
        );
      }
      seen.add(column);
    }
  }
  const out = labels.slice() as T;
  for (const [a, b] of swapPairs) [out[a], out[b]] = [labels[b]!, labels[a]!];
  return out;
}
