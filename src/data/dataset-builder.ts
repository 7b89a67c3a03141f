/**
 * Collects rows for any loader with the boundary checks every format shares: the path stays
 * inside the dataset folder, and no path appears twice (both places are named).
 */
import { basename, join, resolve } from "node:path";
import type { TaskName } from "./tasks.js";
import { RootGuard, normaliseRowPath } from "./dataset-paths.js";
import {
  datasetError,
  where,
  type Dataset,
  type DatasetFormat,
  type DatasetRow,
  type InlinePixels,
  type SourceLine,
  type SplitRule,
} from "./dataset.js";

export type DatasetHeader = {
  root: string;
  format: DatasetFormat;
  task: TaskName;
  labelColumns: string[];
  split: SplitRule;
};

export class DatasetBuilder {
  readonly root: string;
  readonly name: string;
  readonly rows: DatasetRow[] = [];
  readonly warnings: string[] = [];
  private readonly header: DatasetHeader;
  private readonly guard: RootGuard;
  private readonly seen = new Map<string, SourceLine>();

  constructor(header: DatasetHeader) {
    this.root = resolve(header.root);
    this.name = basename(this.root);
    this.header = header;
    this.guard = new RootGuard(this.root);
  }

  /** `<name>/<relative>`, how files of this dataset are named in messages. */
  shown(relative: string): string {
    return `${this.name}/${relative}`;
  }

  /**
   * Adds a row read at `at`. With `inline`, the row's image is the given pixels and `path` is
   * only a name (`<table>#<line>`); `file` is then the table.
   */
  add(
    at: SourceLine,
    path: string,
    labels: number[],
    meta: Record<string, string>,
    inline?: { file: string; pixels: InlinePixels },
  ): DatasetRow {
    const checked = normaliseRowPath(path);
    if ("problem" in checked) throw datasetError(at, checked.problem, checked.fix);
    const first = this.seen.get(checked.path);
    if (first) {
      const earlier = first.file === at.file && first.line !== undefined ? `line ${first.line}` : where(first);
      throw datasetError(at, `path "${checked.path}" repeats ${earlier}`, "Remove one of them.");
    }
    if (!inline) {
      const escape = this.guard.escape(checked.path);
      if (escape !== undefined) {
        throw datasetError(
          at,
          `path "${checked.path}" resolves to "${escape}", outside the dataset folder (a symlink)`,
          "Copy the file into the folder, or link to a place inside it.",
        );
      }
    }
    this.seen.set(checked.path, at);
    const row: DatasetRow = {
      index: this.rows.length,
      path: checked.path,
      file: inline ? inline.file : join(this.root, checked.path),
      labels,
      meta,
    };
    if (inline) row.pixels = inline.pixels;
    this.rows.push(row);
    return row;
  }

  warn(at: SourceLine | string, problem: string, consequence: string): void {
    this.warnings.push(`${where(at)}: ${problem}. ${consequence}`);
  }

  /** The dataset; an error at `source` when no row was added. */
  finish(source: SourceLine | string, fix: string): Dataset {
    if (this.rows.length === 0) throw datasetError(source, "has no rows", fix);
    const { format, task, labelColumns, split } = this.header;
    return { root: this.root, name: this.name, format, task, labelColumns, rows: this.rows, split, warnings: this.warnings };
  }
}
