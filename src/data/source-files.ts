/**
 * Reading the text sources of datasets (CSV tables and whitespace-separated label lists) with
 * line numbers, so every later message can name the file and line. CSV parsing is csv-parse's,
 * streamed, so a 300 MB `fer2013.csv` never sits in memory as one string.
 */
import type { FileHandle } from "node:fs/promises";
import { parse, CsvError } from "csv-parse";
import { openRegularFile, type FileKind } from "../io/regular-file.js";
import { datasetError } from "./dataset.js";

export type CsvRecord = { line: number; values: string[] };

/** Label tables and lists: streamed (CSV) or far below this (text lists); the bound stops a runaway read. */
const TABLE: FileKind = { code: "BAD_DATASET", what: "a label table", maxBytes: 4 * 1024 ** 3 };
const LIST: FileKind = { ...TABLE, maxBytes: 512 * 1024 ** 2 };

function notFound(shown: string, error: unknown, fix: string): Error {
  if ((error as NodeJS.ErrnoException).code === "ENOENT") return datasetError(shown, "not found", fix);
  return error as Error;
}

/** `file` opened once it is a regular file (a FIFO or device would hang the read); missing is an error with `fix`. */
function openSource(file: string, shown: string, kind: FileKind, missingFix: string): Promise<FileHandle> {
  return openRegularFile(file, kind, shown).catch((error) => {
    throw notFound(shown, error, missingFix);
  });
}

/**
 * The records of a CSV file after its header: `header` (trimmed names), then each record with
 * the line it ends on. Wrong field counts and broken quoting are errors naming the line.
 */
export async function readCsv(
  file: string,
  shown: string,
  missingFix = "Check the dataset folder.",
): Promise<{ header: string[]; records: AsyncGenerator<CsvRecord> }> {
  const handle = await openSource(file, shown, TABLE, missingFix);
  const parser = handle.createReadStream().pipe(parse({ bom: true, skip_empty_lines: true, info: true, trim: true }));
  const iterator = parser[Symbol.asyncIterator]() as AsyncIterator<{ record: string[]; info: { lines: number } }>;
  const next = async () => {
    try {
      return await iterator.next();
    } catch (error) {
      if (error instanceof CsvError) {
        const line = (error as CsvError & { lines?: number }).lines;
        const reason = error.message.replace(/ on line \d+$/, "").replace(/\.$/, "");
        throw datasetError({ file: shown, line }, `is not valid CSV (${reason})`, "Fix the quoting or the number of fields on that line.");
      }
      throw error;
    }
  };
  const first = await next();
  if (first.done) throw datasetError(shown, "is empty (no header line)", "Write a header line and one line per row.");
  const header = first.value.record.map((name) => name.trim());
  async function* records(): AsyncGenerator<CsvRecord> {
    try {
      for (let item = await next(); !item.done; item = await next()) {
        yield { line: item.value.info.lines, values: item.value.record };
      }
    } finally {
      parser.destroy(); // a reader that stops early (an error) closes the file
    }
  }
  return { header, records: records() };
}

/** Repeated names in a header, for an error on line 1. */
export function repeatedColumns(header: readonly string[]): string[] {
  return header.filter((name, index) => header.indexOf(name) !== index);
}

export type TextLine = { line: number; text: string };

/** The non-blank lines of a text file, trimmed, with their 1-based numbers. */
export async function readLines(file: string, shown: string, missingFix = "Check the dataset folder."): Promise<TextLine[]> {
  const handle = await openSource(file, shown, LIST, missingFix);
  const text = await handle.readFile("utf8").finally(() => handle.close());
  const lines: TextLine[] = [];
  text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .forEach((raw, index) => {
      const trimmed = raw.trim();
      if (trimmed !== "") lines.push({ line: index + 1, text: trimmed });
    });
  return lines;
}

/** The first line of a file (up to 64 KiB read), or undefined when it cannot be read. */
export async function firstLine(file: string): Promise<string | undefined> {
  const handle = await openRegularFile(file, TABLE).catch(() => undefined);
  if (!handle) return undefined;
  try {
    const buffer = Buffer.alloc(65536);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer
      .subarray(0, bytesRead)
      .toString("utf8")
      .replace(/^\uFEFF/, "")
      .split(/\r?\n/)[0];
  } finally {
    await handle.close();
  }
}
