/** The shape check that every public augmentation function runs on the sample it is given. */
import { FacepriorError } from "../errors.js";
import type { FaceSample } from "../priors/face-sample.js";

export const MESH_POINTS = 478;

/** Throws a BAD_ARGUMENT error naming the first field whose length does not fit `sample.size`. */
export function checkFaceSample(sample: FaceSample, where: string): void {
  const s = sample.size;
  if (!Number.isInteger(s) || s <= 0) {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `${where}: sample.size is ${JSON.stringify(s)}. Pass the crop side in pixels, a positive integer.`,
    );
  }
  const expected: [keyof FaceSample, number, string][] = [
    ["image", s * s * 3, "[S, S, 3]"],
    ["parsing", s * s, "[S, S]"],
    ["landmarks68", 68 * 2, "[68, 2]"],
    ["mesh", MESH_POINTS * 2, `[${MESH_POINTS}, 2]`],
  ];
  for (const [field, length, shape] of expected) {
    const got = (sample[field] as ArrayLike<number>).length;
    if (got !== length) {
      throw new FacepriorError(
        "BAD_ARGUMENT",
        `${where}: sample.${field} has ${got} values, a ${shape} array of size ${s} has ${length}. Pass a FaceSample whose arrays match its size.`,
      );
    }
  }
}
