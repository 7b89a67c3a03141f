import assert from "node:assert/strict";
import { test } from "node:test";
import { FacepriorError } from "../errors.js";
import { itemsOfShard, parseShard, shardOfKey } from "./shard-spec.js";

const refused = (run: () => unknown, message: RegExp) =>
  assert.throws(run, (e: FacepriorError) => e.code === "BAD_ARGUMENT" && message.test(e.message));

test("--shard i/n counts from 0, and a bad value is quoted back with what to pass", () => {
  assert.deepEqual(parseShard("2/5", {}), { index: 2, count: 5 });
  assert.deepEqual(parseShard("0/1", {}), { index: 0, count: 1 });
  refused(() => parseShard("5/5", {}), /^shard "5\/5": index 5 is not below the count 5\. Shards count from 0: use 0\/5 to 4\/5\.$/);
  refused(() => parseShard("1/0", {}), /^shard "1\/0": has 0 shards\. Use 1 to 1000000\.$/);
  refused(() => parseShard("two/5", {}), /^shard "two\/5": is not <index>\/<count> or auto\. Pass e\.g\. 0\/10, or auto/);
  refused(() => parseShard("-1/3", {}), /is not <index>\/<count> or auto/);
});

test("--shard auto reads a Slurm array's id relative to its first id, or a Kubernetes index with FACEPRIOR_SHARD_COUNT", () => {
  // sbatch --array=1-4 numbers tasks 1..4: task 3 is the third of four, shard 2/4.
  assert.deepEqual(parseShard("auto", { SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_COUNT: "4" }), {
    index: 2,
    count: 4,
  });
  assert.deepEqual(parseShard("auto", { SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "8" }), { index: 0, count: 8 });
  refused(
    () =>
      parseShard("auto", { SLURM_ARRAY_TASK_ID: "2", SLURM_ARRAY_TASK_MIN: "0", SLURM_ARRAY_TASK_STEP: "2", SLURM_ARRAY_TASK_COUNT: "4" }),
    /the array's step is 2 \(SLURM_ARRAY_TASK_STEP\), so its ids are not consecutive\. Submit with sbatch --array=0-<n-1>/,
  );
  assert.deepEqual(parseShard("auto", { JOB_COMPLETION_INDEX: "7", FACEPRIOR_SHARD_COUNT: "10" }), { index: 7, count: 10 });
  refused(
    () => parseShard("auto", { JOB_COMPLETION_INDEX: "7" }),
    /^shard "auto": FACEPRIOR_SHARD_COUNT is not set\. Set FACEPRIOR_SHARD_COUNT to the Job's completions/,
  );
  refused(
    () => parseShard("auto", { JOB_COMPLETION_INDEX: "7", FACEPRIOR_SHARD_COUNT: "ten" }),
    /FACEPRIOR_SHARD_COUNT is "ten", not a whole number/,
  );
  refused(() => parseShard("auto", { JOB_COMPLETION_INDEX: "10", FACEPRIOR_SHARD_COUNT: "10" }), /index 10 is not below the count 10/);
  refused(() => parseShard("auto", {}), /^shard "auto": neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set\./);
});

test("an item's shard is SHA-256 of its path mod n, as docs/SCALE.md tells users to reproduce it", () => {
  // Python: int.from_bytes(hashlib.sha256(path.encode()).digest()[:6], "big") % n
  assert.deepEqual(
    [3, 10, 1000].map((n) => shardOfKey("images/00001.jpg", n)),
    [0, 9, 939],
  );
  assert.deepEqual(
    [3, 10, 1000].map((n) => shardOfKey("images/00002.jpg", n)),
    [1, 8, 68],
  );
  assert.deepEqual(
    [3, 10, 1000].map((n) => shardOfKey("photos/a.jpg", n)),
    [0, 9, 209],
  );
});

test("adding images moves none of the others, and shards come out about even", () => {
  const paths = Array.from({ length: 3000 }, (_, i) => `images/${String(i).padStart(5, "0")}.jpg`);
  const more = [...paths.slice(0, 1500), ...Array.from({ length: 300 }, (_, i) => `new/${i}.jpg`), ...paths.slice(1500)];
  const shardOf = (list: string[]) =>
    new Map(
      Array.from({ length: 10 }, (_, s) =>
        itemsOfShard(list, { index: s, count: 10 }, (p) => p).map(({ item }) => [item, s] as const),
      ).flat(),
    );
  const before = shardOf(paths);
  const after = shardOf(more);
  assert.ok(
    paths.every((p) => before.get(p) === after.get(p)),
    "an image changed shard when others were added",
  );
  const sizes = Array.from({ length: 10 }, (_, s) => [...before.values()].filter((v) => v === s).length);
  assert.equal(
    sizes.reduce((a, b) => a + b, 0),
    3000,
  );
  assert.ok(
    sizes.every((n) => n > 240 && n < 360),
    `shard sizes ${sizes}`,
  );
  // Positions are those in the whole list, in order.
  const mine = itemsOfShard(more, { index: 4, count: 10 }, (p) => p);
  assert.ok(mine.every(({ item, position }) => more[position] === item));
  assert.ok(mine.every((m, i) => i === 0 || m.position > mine[i - 1]!.position));
});
