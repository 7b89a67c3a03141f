/**
 * How long a study's remaining cells will take, from the cells already timed. Cells that differ
 * only in their encoder do the same work (a study's encoders share one architecture), so a timed
 * cell times the others of its kind. A kind not timed yet is counted, not guessed: a probe cell
 * takes seconds and a fine-tune with all labels hours, so an average over cells misleads.
 */
import type { StudyCell } from "./study-config.js";

/** Everything about a cell but its encoder. */
export function cellKind(cell: StudyCell): string {
  const { encoder: _encoder, ...work } = cell;
  return JSON.stringify(work);
}

/** The seconds of each kind's timed cells. */
export type CellTimes = Map<string, number[]>;

export function recordCellTime(times: CellTimes, cell: StudyCell, seconds: number): void {
  const kind = cellKind(cell);
  times.set(kind, [...(times.get(kind) ?? []), seconds]);
}

export type RemainingTime = { seconds: number; timedCells: number; untimedCells: number };

/** The mean time of its kind for each cell left, and how many cells have no timed kind. */
export function remainingTime(times: CellTimes, left: StudyCell[]): RemainingTime {
  let seconds = 0;
  let timedCells = 0;
  for (const cell of left) {
    const timed = times.get(cellKind(cell));
    if (!timed) continue;
    seconds += timed.reduce((a, b) => a + b, 0) / timed.length;
    timedCells++;
  }
  return { seconds, timedCells, untimedCells: left.length - timedCells };
}
