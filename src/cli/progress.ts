/**
 * Progress on stderr. On a terminal the bar redraws in place (at most ten
 * times a second) with the rate and ETA; otherwise (a pipe, a CI log) it prints one plain line
 * every few seconds. Rates are over the last ten seconds, so a slow first batch (the jit
 * compile) stops weighing on the ETA once it is past.
 */

export type ProgressOptions = {
  total: number;
  /** Leads each line, e.g. "embed". */
  label: string;
  /** Plural noun for the counted things. */
  unit?: string;
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Without a terminal, a line at most this often. */
  lineIntervalMs?: number;
  /** Print a summary line when finished (default true); without it a terminal bar is erased. */
  summary?: boolean;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
};

export type Progress = {
  advance(count: number): void;
  /** Erases a terminal bar, so that a line of results can be printed; the next `advance` draws it again. */
  clear(): void;
  /** Prints the summary line (on a terminal, in place of the bar). */
  finish(): void;
};

const REDRAW_MS = 100;
const RATE_WINDOW_MS = 10_000;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

export function createProgress(options: ProgressOptions): Progress {
  const { total, label, unit = "items" } = options;
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => performance.now());
  const tty = stream.isTTY === true;
  const lineInterval = options.lineIntervalMs ?? 5000;
  const start = now();
  const samples: { t: number; done: number }[] = [{ t: start, done: 0 }];
  let done = 0;
  let lastDraw = tty ? -Infinity : start; // without a terminal, the first line after an interval

  const rate = () => {
    const first = samples[0]!;
    const last = samples.at(-1)!;
    return last.t > first.t ? (last.done - first.done) / ((last.t - first.t) / 1000) : NaN;
  };
  const status = () => {
    const r = rate();
    const shownRate = Number.isFinite(r) ? `${r.toFixed(1)} ${unit}/s` : `- ${unit}/s`;
    return `${done}/${total} ${unit}  ${shownRate}  ETA ${r > 0 ? formatDuration((total - done) / r) : "?"}`;
  };
  const draw = () => {
    if (tty) {
      const text = status();
      const room = Math.max(10, Math.min(30, (stream.columns ?? 80) - label.length - text.length - 6));
      const filled = total > 0 ? Math.round((room * done) / total) : room;
      stream.write(`\r${label} [${"#".repeat(filled)}${".".repeat(room - filled)}] ${text}\x1b[K`);
    } else {
      stream.write(`${label}: ${status().replace(/ {2}/g, ", ")}\n`);
    }
  };

  return {
    advance(count) {
      done = Math.min(total, done + count);
      const t = now();
      samples.push({ t, done });
      while (samples.length > 2 && samples[1]!.t <= t - RATE_WINDOW_MS) samples.shift();
      if (t - lastDraw >= (tty ? REDRAW_MS : lineInterval)) {
        lastDraw = t;
        draw();
      }
    },
    clear() {
      if (!tty || lastDraw === -Infinity) return;
      stream.write("\r\x1b[K");
      lastDraw = -Infinity;
    },
    finish() {
      if (options.summary === false) {
        if (tty) stream.write("\r\x1b[K");
        return;
      }
      const seconds = (now() - start) / 1000;
      const overall = seconds > 0 ? `, ${(done / seconds).toFixed(1)} ${unit}/s` : "";
      // On a terminal the summary replaces the bar.
      stream.write(`${tty ? "\r" : ""}${label}: ${done} ${unit} in ${seconds.toFixed(1)} s${overall}${tty ? "\x1b[K" : ""}\n`);
    },
  };
}

/** Progress of work that learns its total when it starts: `update` takes the count done so far and the total. */
export type CountProgress = { update(done: number, total: number): void; clear(): void; finish(): void };

/** The bar starts at the first `update`, sized by its total; advances are the differences of `done`. */
export function createCountProgress(options: Omit<ProgressOptions, "total">): CountProgress {
  let progress: Progress | null = null;
  let shown = 0;
  return {
    update(done, total) {
      progress ??= createProgress({ ...options, total });
      progress.advance(done - shown);
      shown = done;
    },
    clear: () => progress?.clear(),
    finish: () => progress?.finish(),
  };
}
