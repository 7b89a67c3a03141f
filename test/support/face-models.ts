/**
 * The face model tests of face-model features run on: the bundled default model once it is in
 * the repository, until then the interim model the project's runs wrote; a skip message when
 * neither is on this machine.
 */
import { existsSync } from "node:fs";
import { DEFAULT_MODEL_PATH } from "../../src/inference/face-analyzer.js";

const INTERIM_MODEL = "/work/runs/interim-model.safetensors";

export const TEST_FACE_MODEL: string | undefined = [DEFAULT_MODEL_PATH, INTERIM_MODEL].find((path) => existsSync(path));

/** For `test(name, { skip: skipUnlessFaceModel() }, ...)`: false, or why it skips. */
export function skipUnlessFaceModel(): string | false {
  return TEST_FACE_MODEL ? false : `no face model: neither ${DEFAULT_MODEL_PATH} nor ${INTERIM_MODEL} exists`;
}
