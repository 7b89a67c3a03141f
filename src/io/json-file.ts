/**
 * Reading the JSON files faceprior writes and reads back (cache.json, study.json,
 * metrics.json): a damaged or hand-edited file is an error that names it and says what to do,
 * never a bare SyntaxError.
 */
import { FacepriorError, type ErrorCode } from "../errors.js";
import { readRegularFile } from "./regular-file.js";

/** Far above any JSON faceprior writes; a bigger file is not one of them. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

export type JsonFileOptions = {
  code: ErrorCode;
  /** What to do about a damaged file, as a sentence: "Delete it and run prepare again." */
  fix: string;
};

/** `text` parsed, or an error naming `shown` with the parser's reason. */
export function parseJson(text: string, shown: string, { code, fix }: JsonFileOptions): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FacepriorError(code, `${shown}: is not valid JSON (${(error as Error).message}). ${fix}`, { cause: error });
  }
}

/** The parsed file, or undefined when there is no file at `path`; any other failure is an error. */
export async function readJsonFileIfExists(path: string, options: JsonFileOptions): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(path, { code: options.code, what: "a JSON file", maxBytes: MAX_JSON_BYTES });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    if (error instanceof FacepriorError) throw error;
    throw new FacepriorError(options.code, `${path}: cannot be read (${(error as Error).message}). ${options.fix}`, { cause: error });
  }
  return parseJson(bytes.toString("utf8"), path, options);
}
