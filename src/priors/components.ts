/**
 * Facial components from the teacher's mesh: polygons (as mesh index rings) for the brows, eyes,
 * nose, lips, inner mouth and face oval, their boxes, and the landmark-derived geometric
 * descriptors that the component-level pretraining task regresses. "left" and "right" are the
 * subject's: the subject's right eye is on the image's left.
 */

/** Mesh index rings, each a closed polygon in drawing order. */
export const COMPONENT_RINGS = {
  face_oval: [
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93,
    234, 127, 162, 21, 54, 103, 67, 109,
  ],
  right_brow: [156, 70, 63, 105, 66, 107, 55, 193, 65, 52, 53, 46, 124, 35],
  left_brow: [383, 300, 293, 334, 296, 336, 285, 417, 295, 282, 283, 276, 353, 265],
  right_eye: [33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7],
  left_eye: [263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249],
  nose: [168, 417, 351, 437, 420, 360, 344, 438, 309, 250, 462, 370, 94, 141, 242, 20, 79, 218, 115, 131, 198, 217, 122, 193],
  upper_lip: [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191, 78],
  lower_lip: [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95, 78],
  inner_mouth: [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95],
} as const satisfies Record<string, readonly number[]>;

export type ComponentName = keyof typeof COMPONENT_RINGS;

/** The components the component-level task embeds and contrasts (METHOD.md §2). */
export const TASK_COMPONENTS = ["left_brow", "right_brow", "left_eye", "right_eye", "nose", "mouth"] as const;

/** A ring's polygon [n, 2] taken from a mesh [478, 2]. */
export function componentPolygon(mesh: Float32Array, name: ComponentName): Float32Array {
  return Float32Array.from(COMPONENT_RINGS[name].flatMap((m) => [mesh[2 * m]!, mesh[2 * m + 1]!]));
}

/** [x0, y0, x1, y1] around the points. */
export function boundingBox(points: Float32Array): [number, number, number, number] {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i < points.length; i += 2) {
    x0 = Math.min(x0, points[i]!);
    x1 = Math.max(x1, points[i]!);
    y0 = Math.min(y0, points[i + 1]!);
    y1 = Math.max(y1, points[i + 1]!);
  }
  return [x0, y0, x1, y1];
}

/** Boxes of the task components, [6, 4] in TASK_COMPONENTS order; the mouth spans both lips. */
export function componentBoxes(mesh: Float32Array): Float32Array {
  return Float32Array.from(
    TASK_COMPONENTS.flatMap((name) => {
      if (name !== "mouth") return boundingBox(componentPolygon(mesh, name));
      const lips = [...componentPolygon(mesh, "upper_lip"), ...componentPolygon(mesh, "lower_lip")];
      return boundingBox(Float32Array.from(lips));
    }),
  );
}

/** The descriptors of METHOD.md §2, in this order, each divided by the inter-ocular distance. */
export const COMPONENT_DESCRIPTORS = [
  "right_eye_opening",
  "left_eye_opening",
  "right_brow_to_eye",
  "left_brow_to_eye",
  "mouth_opening",
  "mouth_width",
  "right_lip_corner_height",
  "left_lip_corner_height",
] as const;

/**
 * Geometric descriptors from iBUG-68 landmarks [68, 2]. Heights are measured along the face's own
 * vertical axis (perpendicular to the line between the eye centres), so head roll cancels out.
 * Lip-corner height is how far a corner sits above the mid-line of the lips (positive: raised).
 */
export function componentDescriptors(lm: Float32Array): Float32Array {
  const p = (i: number): [number, number] => [lm[2 * i]!, lm[2 * i + 1]!];
  const mean = (...idx: number[]): [number, number] => {
    const pts = idx.map(p);
    return [pts.reduce((s, q) => s + q[0], 0) / pts.length, pts.reduce((s, q) => s + q[1], 0) / pts.length];
  };
  const rightEye = mean(36, 37, 38, 39, 40, 41);
  const leftEye = mean(42, 43, 44, 45, 46, 47);
  const iod = Math.max(Math.hypot(leftEye[0] - rightEye[0], leftEye[1] - rightEye[1]), 1e-6);
  // Unit "down" axis of the face: the eye line rotated by +90 degrees in image coordinates.
  const down: [number, number] = [-(leftEye[1] - rightEye[1]) / iod, (leftEye[0] - rightEye[0]) / iod];
  const height = (a: [number, number], b: [number, number]) => ((b[0] - a[0]) * down[0] + (b[1] - a[1]) * down[1]) / iod;
  const dist = (a: [number, number], b: [number, number]) => Math.hypot(b[0] - a[0], b[1] - a[1]) / iod;
  const lipMid = mean(62, 66);
  return Float32Array.from([
    height(mean(37, 38), mean(40, 41)),
    height(mean(43, 44), mean(46, 47)),
    height(mean(17, 18, 19, 20, 21), rightEye),
    height(mean(22, 23, 24, 25, 26), leftEye),
    height(p(62), p(66)),
    dist(p(48), p(54)),
    height(p(48), lipMid),
    height(p(54), lipMid),
  ]);
}
