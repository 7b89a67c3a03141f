import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openJsonlLog } from "../io/jsonl-log.js";
import { createProgress, formatDuration } from "./progress.js";

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 100, write: (s: string) => writes.push(s) > 0 } as unknown as NodeJS.WriteStream };
}

test("without a terminal: a plain line every interval, rate and ETA over recent samples, then a summary", () => {
  const { writes, stream } = fakeStream(false);
  let now = 0;
  const progress = createProgress({ total: 100, label: "embed", unit: "images", stream, lineIntervalMs: 5000, now: () => now });
  for (let i = 0; i < 10; i++) {
    now += 1000;
    progress.advance(5); // 5 images/s
  }
  assert.deepEqual(writes, ["embed: 25/100 images, 5.0 images/s, ETA 0:15\n", "embed: 50/100 images, 5.0 images/s, ETA 0:10\n"]);
  now += 10_000;
  progress.advance(50);
  progress.finish();
  assert.equal(writes.at(-1), "embed: 100 images in 20.0 s, 5.0 images/s\n");
});

test("on a terminal: one line redrawn in place, replaced by the summary", () => {
  const { writes, stream } = fakeStream(true);
  let now = 0;
  const progress = createProgress({ total: 4, label: "embed", unit: "images", stream, now: () => now });
  now = 1000;
  progress.advance(1);
  now = 1050;
  progress.advance(1); // within 100 ms of the last draw: not drawn
  now = 2000;
  progress.advance(1);
  assert.equal(writes.length, 2);
  assert.match(writes[0]!, /^\rembed \[#+\.+\] 1\/4 images {2}1\.0 images\/s {2}ETA 0:03\x1b\[K$/);
  assert.match(writes[1]!, /3\/4 images/);
  progress.finish();
  assert.equal(writes.at(-1), "\rembed: 3 images in 2.0 s, 1.5 images/s\x1b[K\n");
  const quiet = fakeStream(true);
  createProgress({ total: 1, label: "check", stream: quiet.stream, summary: false }).finish();
  assert.deepEqual(quiet.writes, ["\r\x1b[K"]);
});

test("formatDuration", () => {
  assert.deepEqual([0, 59.4, 61, 3600, 3725, Infinity].map(formatDuration), ["0:00", "0:59", "1:01", "1:00:00", "1:02:05", "?"]);
});

test("the JSON-lines log appends records in order, each with a time", async () => {
  const dir = await mkdtemp(join(tmpdir(), "faceprior-jsonl-"));
  try {
    const path = join(dir, "logs", "run.jsonl");
    for (const run of [1, 2]) {
      const log = await openJsonlLog(path);
      for (let i = 0; i < 3; i++) log.write({ run, i });
      await log.close();
    }
    const records = (await readFile(path, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      records.map((r) => [r.run, r.i]),
      [
        [1, 0],
        [1, 1],
        [1, 2],
        [2, 0],
        [2, 1],
        [2, 2],
      ],
    );
    assert.ok(records.every((r) => !Number.isNaN(Date.parse(r.time))));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
