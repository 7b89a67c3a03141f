/**
 * The checkpoint validator against damaged and hostile files: byte ranges that overlap or leave
 * bytes over, architecture metadata that does not match the tensors, weights that are not float
 * or not finite, and provenance that is not JSON. Each is a BAD_CHECKPOINT naming the file and
 * the part that is wrong, found before any array is made.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, test } from "node:test";
import { DEFAULT_NORMALIZATION, vitMetadata } from "./vit-metadata.js";
import { readVitCheckpoint } from "./vit-checkpoint.js";
import { encodeSafetensors, parseSafetensors, type TensorMap } from "./safetensors.js";
import { readFaceModel, writeFaceModel } from "../face-model/face-model.js";
import { fakeFaceModel, fakeVitTensors, SMALL_CFG } from "../../test/support/fake-vit.js";
import { rejectsWithError } from "../../test/support/faceprior-error.js";
import { assertNoStack, runCli } from "../../test/support/run-cli.js";
import { editHeader, joinSafetensors, splitSafetensors } from "../../test/support/safetensors-bytes.js";
import { scratchDir } from "../../test/support/scratch-dir.js";

let dir = "";
let faceModelBytes: Uint8Array;
const encoderBytes = () => encodeSafetensors(fakeVitTensors(), vitMetadata(SMALL_CFG, DEFAULT_NORMALIZATION));

before(async () => {
  dir = await scratchDir("faceprior-validate-");
  await writeFaceModel(join(dir, "model.safetensors"), fakeFaceModel(), "F32");
  faceModelBytes = new Uint8Array(await readFile(join(dir, "model.safetensors")));
});

/** Writes `bytes` as `<name>.safetensors` in the scratch folder and returns its path. */
async function fileOf(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, `${name}.safetensors`);
  await writeFile(path, bytes);
  return path;
}

test("tensors whose byte ranges overlap are refused, not read as shared weights", () => {
  const tensors: TensorMap = {
    a: { dtype: "F32", shape: [2], data: Float32Array.from([1, 2]) },
    b: { dtype: "F32", shape: [2], data: Float32Array.from([3, 4]) },
  };
  const overlapping = editHeader(encodeSafetensors(tensors), (header) => {
    header.b.data_offsets = [0, 8];
    header.a.data_offsets = [4, 12];
  });
  assert.throws(
    () => parseSafetensors(overlapping, "overlap.safetensors"),
    /overlap\.safetensors: tensors b and a share bytes 4-8\. The file is not a valid safetensors file/,
  );
});

test("bytes after the last tensor or between tensors are refused: the data must be covered exactly", () => {
  const parts = splitSafetensors(encoderBytes());
  const trailing = joinSafetensors({ ...parts, data: new Uint8Array([...parts.data, ...new Uint8Array(1 << 20)]) });
  assert.throws(
    () => parseSafetensors(trailing, "trailing.safetensors"),
    /trailing\.safetensors: 1048576 bytes after the last tensor belong to no tensor/,
  );
  const gap = editHeader(
    encodeSafetensors({
      a: { dtype: "F32", shape: [1], data: Float32Array.from([1]) },
      b: { dtype: "F32", shape: [1], data: Float32Array.from([2]) },
    }),
    (header) => {
      header.b.data_offsets = [4, 8];
      header.a = { dtype: "U8", shape: [2], data_offsets: [0, 2] };
    },
  );
  assert.throws(() => parseSafetensors(gap, "gap.safetensors"), /gap\.safetensors: bytes 2-4 of the data belong to no tensor \(before b\)/);
});

test("metadata depth of a million is checked against the tensors before it drives any work", { timeout: 20_000 }, async () => {
  const deep = (bytes: Uint8Array) => editHeader(bytes, (header) => (header.__metadata__.depth = "1000000"));
  const pattern =
    /deep-\w+\.safetensors: its __metadata__ has depth 1000000, but the file holds 2 blocks\. The tensors describe .* the metadata is wrong, re-export the checkpoint\./;
  await rejectsWithError(readVitCheckpoint(await fileOf("deep-encoder", deep(encoderBytes()))), "BAD_CHECKPOINT", pattern);
  const model = await fileOf("deep-model", deep(faceModelBytes));
  await rejectsWithError(readFaceModel(model), "BAD_CHECKPOINT", pattern);
  const info = await runCli(["info", model], dir);
  assertNoStack(info);
  assert.equal(info.code, 1);
  assert.match(info.stderr, /\[BAD_CHECKPOINT\]: .*deep-model\.safetensors: its __metadata__ has depth 1000000/);
});

test("a head weight labelled I32 is refused, not read as floats", async () => {
  const relabelled = editHeader(faceModelBytes, (header) => (header["heads.smile.weight"].dtype = "I32"));
  await rejectsWithError(
    readFaceModel(await fileOf("int-head", relabelled)),
    "BAD_CHECKPOINT",
    /int-head\.safetensors: heads\.smile\.weight is I32, expected F32 or F16\./,
  );
});

test("NaN or infinite weights are refused with the tensor's name, in the encoder and in a head", async () => {
  const poisoned = (name: string, value: number) => {
    const parts = splitSafetensors(faceModelBytes);
    const [begin] = (parts.header[name] as { data_offsets: [number, number] }).data_offsets;
    const data = parts.data.slice();
    new DataView(data.buffer).setFloat32(begin, value, true);
    return joinSafetensors({ ...parts, data });
  };
  const nan = await fileOf("nan", poisoned("blocks.1.mlp.fc2.weight", NaN));
  await rejectsWithError(
    readFaceModel(nan),
    "BAD_CHECKPOINT",
    /nan\.safetensors: blocks\.1\.mlp\.fc2\.weight holds NaN at element 0; weights must be finite numbers\./,
  );
  await rejectsWithError(readVitCheckpoint(nan, { encoderOnly: true }), "BAD_CHECKPOINT", /blocks\.1\.mlp\.fc2\.weight holds NaN/);
  await rejectsWithError(
    readFaceModel(await fileOf("inf", poisoned("heads.smile.bias", -Infinity))),
    "BAD_CHECKPOINT",
    /inf\.safetensors: heads\.smile\.bias holds -Infinity at element 0/,
  );
});

test("faceprior.model metadata that is not JSON, or not an object, is a BAD_CHECKPOINT naming the key", async () => {
  const about = (value: string) => editHeader(faceModelBytes, (header) => (header.__metadata__["faceprior.model"] = value));
  await rejectsWithError(
    readFaceModel(await fileOf("about-text", about("{not json"))),
    "BAD_CHECKPOINT",
    /about-text\.safetensors: __metadata__\.faceprior\.model: is not valid JSON \(.+\)\. Re-export the model\./,
  );
  await rejectsWithError(
    readFaceModel(await fileOf("about-null", about("null"))),
    "BAD_CHECKPOINT",
    /about-null\.safetensors: __metadata__\.faceprior\.model is null, expected a JSON object\. Re-export the model\./,
  );
});

test("a FIFO or a device given as a checkpoint is refused at once, never waited on or read to the end", { timeout: 20_000 }, async () => {
  execFileSync("mkfifo", [join(dir, "pipe.safetensors")]);
  await rejectsWithError(
    readVitCheckpoint(join(dir, "pipe.safetensors")),
    "BAD_CHECKPOINT",
    /pipe\.safetensors: is a FIFO \(named pipe\), not a safetensors file\. Pass a regular file\./,
  );
  await rejectsWithError(readFaceModel("/dev/zero"), "BAD_CHECKPOINT", /^\/dev\/zero: is a character device, not a safetensors file\./);
});
