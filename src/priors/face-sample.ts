/**
 * One aligned face with its priors, as the prior cache stores it and augmentation transforms it.
 * Components and per-patch labels are derived from these fields (see components.ts,
 * patch-labels.ts), so a transform of a sample only has to move these.
 */
export type FaceSample = {
  /** Side of the square aligned crop, in pixels. */
  size: number;
  /** [S, S, 3] RGB, row-major. */
  image: Uint8Array;
  /** [S, S] parsing classes, see PARSING_CLASSES. */
  parsing: Uint8Array;
  /** [68, 2] iBUG-ordered landmarks, continuous pixel coordinates (pixel centres at i + 0.5). */
  landmarks68: Float32Array;
  /** [478, 2] the teacher's full mesh (468 FaceMesh points + 10 iris points), same coordinates. */
  mesh: Float32Array;
};

/** Parsing classes of METHOD.md §1; "left" and "right" are the subject's. */
export const PARSING_CLASSES = [
  "background",
  "skin",
  "left_brow",
  "right_brow",
  "left_eye",
  "right_eye",
  "nose",
  "upper_lip",
  "lower_lip",
  "inner_mouth",
] as const;
export type ParsingClass = (typeof PARSING_CLASSES)[number];

/** The class id each class becomes under a horizontal flip (left and right swap). */
export const PARSING_MIRROR: readonly number[] = PARSING_CLASSES.map((name) => {
  const mirrored = name.startsWith("left_") ? name.replace("left_", "right_") : name.replace("right_", "left_");
  return PARSING_CLASSES.indexOf(mirrored as ParsingClass);
});
