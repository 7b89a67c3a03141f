import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { scratchDir } from "../../test/support/scratch-dir.js";
import { openItemShard, planItemShard, readItemShardFolder } from "./item-shard.js";
import { joinRowShards, rowChunkFingerprint, rowOutputMetadata, writeRowChunk, type FaceRow, type RowOutput } from "./row-chunks.js";

const OUTPUT: RowOutput = { tensor: "embeddings", rowShape: [2], metadata: { format: "test" }, listsInputs: false, perFace: true };
const face = (x: number): FaceRow => ({ box: { x, y: 0, width: 10, height: 10 }, score: 0.9 });
/** Per input: its faces, each face's row filled with the face's x, or why it was skipped. */
const INPUTS: Record<string, FaceRow[] | string> = { "a.jpg": [face(1), face(2)], "b.jpg": [], "c.jpg": "is corrupt", "d.jpg": [face(3)] };
const KEYS = Object.keys(INPUTS);

const rowsOf = (faces: FaceRow[]) => Float32Array.from(faces.flatMap((f) => [f.box.x, f.box.x]));

test("row shards of faces, some inputs with none and one skipped, join into what one run writes", async () => {
  const root = await scratchDir("faceprior-row-chunks-");
  const dirs = [0, 1].map((index) => join(root, `shard-${index}`));
  for (const [index, dir] of dirs.entries()) {
    const { plan, chunks } = planItemShard({
      kind: "embeddings",
      shard: { index, count: 2 },
      settings: { output: OUTPUT },
      keys: KEYS,
      chunkSize: 1,
      extension: ".safetensors",
    });
    for (const chunk of await openItemShard(dir, plan, chunks, rowChunkFingerprint)) {
      const [item] = chunk.items;
      const faces = INPUTS[item!.key]!;
      const written =
        typeof faces === "string"
          ? { rows: new Float32Array(0), items: [], skipped: [{ ...item!, reason: faces }] }
          : { rows: rowsOf(faces), items: [{ ...item!, faces }], skipped: [] };
      await writeRowChunk(join(dir, chunk.file), chunk.fingerprint, OUTPUT.rowShape, written);
    }
  }
  const joined = await joinRowShards(await Promise.all(dirs.map(readItemShardFolder)), OUTPUT);

  const embedded = KEYS.filter((key) => typeof INPUTS[key] !== "string").map((key) => ({ key, faces: INPUTS[key] as FaceRow[] }));
  assert.deepEqual(joined.tensors.embeddings, { dtype: "F32", shape: [3, 2], data: Float32Array.from([1, 1, 2, 2, 3, 3]) });
  assert.deepEqual(joined.metadata, rowOutputMetadata(OUTPUT, embedded, [{ path: "c.jpg", reason: "is corrupt" }]));
  assert.deepEqual(JSON.parse(joined.metadata.faces!), [
    { source: "a.jpg", ...face(1) },
    { source: "a.jpg", ...face(2) },
    { source: "d.jpg", ...face(3) },
  ]);
  assert.deepEqual(JSON.parse(joined.metadata.no_face!), ["b.jpg"]);
});
