import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { crc32, deflateSync } from "node:zlib";
import sharp from "sharp";
import { readSafetensors } from "../checkpoint/safetensors.js";
import { FacepriorError } from "../errors.js";
import { maxAbsDiff } from "../../test/support/numerics.js";
import { sharedPath, skipUnlessShared } from "../../test/support/shared-data.js";
import { decodeImage, decodeImageBatch, decodeImageRgb, decodeImageUpright, normalizeRgb } from "./image.js";
import { listImageFiles } from "./image-files.js";

const HALF = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
const S = 32;
let dir = "";
/** A smooth 32x32 RGB pattern (JPEG-friendly), [H, W, 3] bytes. */
const pattern = new Uint8Array(S * S * 3).map((_, i) => {
  const [y, x, c] = [Math.floor(i / (3 * S)), Math.floor(i / 3) % S, i % 3];
  return [4 * x + 60, 4 * y + 40, 2 * (x + y) + 30][c]!;
});
const raw = (data: Uint8Array | Uint16Array, width: number, height: number, channels: 1 | 3 | 4) =>
  sharp(data, { raw: { width, height, channels } });
const at = (name: string) => join(dir, name);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "faceprior-image-"));
  await raw(pattern, S, S, 3).png().toFile(at("rgb.png"));
  await raw(
    Uint16Array.from(pattern, (v) => v * 257),
    S,
    S,
    3,
  )
    .toColourspace("rgb16")
    .png()
    .toFile(at("rgb16.png"));
  await raw(pattern, S, S, 3).toColourspace("cmyk").jpeg({ quality: 98 }).toFile(at("cmyk.jpg"));
  await raw(pattern, S, S, 3).toColourspace("b-w").png().toFile(at("gray.png"));
  const rgba = new Uint8Array(S * S * 4).map((_, i) => (i % 4 === 3 ? (Math.floor(i / 4) % S < S / 2 ? 0 : 255) : 200));
  await raw(rgba, S, S, 4).png().toFile(at("rgba.png"));
  const jpeg = await raw(pattern, S, S, 3).jpeg().toBuffer();
  await writeFile(at("truncated.jpg"), jpeg.subarray(0, jpeg.length - 200)); // header intact, scan data cut
  await writeFile(at("cut-header.jpg"), jpeg.subarray(0, 100));
  await writeFile(at("empty.png"), new Uint8Array(0));
  await writeFile(at("notes.png"), "this is not an image\n");
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejectsImage(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FacepriorError, String(error));
    assert.equal(error.code, "BAD_IMAGE");
    assert.match(error.message, pattern);
    return true;
  });
}

test("the parity fixture's input0.png decodes to expected input_nchw[0] within 1e-6", {
  skip: skipUnlessShared("fixtures/vit-parity"),
}, async () => {
  const decoded = await decodeImage(sharedPath("fixtures/vit-parity", "input0.png"), { size: 112, ...HALF });
  const expected = (await readSafetensors(sharedPath("fixtures/vit-parity", "expected.safetensors"))).tensors.input_nchw!;
  const first = expected.data.subarray(0, 3 * 112 * 112);
  assert.equal(decoded.length, first.length);
  const error = maxAbsDiff(decoded, first);
  assert.ok(error <= 1e-6, `max abs error ${error}`);
});

test("8-bit RGB at its own size is exactly (x/255 - mean)/std in NCHW order", async () => {
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const decoded = await decodeImage(at("rgb.png"), { size: S, mean, std });
  const pixel = (c: number, y: number, x: number) => decoded[c * S * S + y * S + x]!;
  for (const [y, x] of [
    [0, 0],
    [5, 17],
    [31, 31],
  ] as const) {
    for (let c = 0; c < 3; c++) {
      const byte = pattern[(y * S + x) * 3 + c]!;
      assert.ok(Math.abs(pixel(c, y, x) - (byte / 255 - mean[c]!) / std[c]!) < 1e-6);
    }
  }
});

test("16-bit, CMYK and grayscale inputs become 8-bit RGB", async () => {
  assert.equal((await sharp(at("rgb16.png")).metadata()).depth, "ushort");
  assert.equal((await sharp(at("cmyk.jpg")).metadata()).space, "cmyk");
  assert.equal((await sharp(at("gray.png")).metadata()).channels, 1);
  const rgb = await decodeImageRgb(at("rgb.png"), { size: S });
  assert.deepEqual(await decodeImageRgb(at("rgb16.png"), { size: S }), rgb);
  const cmyk = await decodeImageRgb(at("cmyk.jpg"), { size: S });
  const meanError = cmyk.reduce((sum, v, i) => sum + Math.abs(v - rgb[i]!), 0) / cmyk.length;
  assert.ok(meanError < 8, `CMYK JPEG is off by ${meanError} levels on average`);
  const gray = await decodeImageRgb(at("gray.png"), { size: S });
  assert.equal(gray.length, S * S * 3);
  for (let i = 0; i < S * S; i++) assert.ok(gray[3 * i] === gray[3 * i + 1] && gray[3 * i] === gray[3 * i + 2]);
});

test("alpha is composited over black", async () => {
  const rgb = await decodeImageRgb(at("rgba.png"), { size: S });
  assert.deepEqual([...rgb.subarray(0, 3)], [0, 0, 0]); // transparent left half
  assert.deepEqual([...rgb.subarray(3 * (S - 1), 3 * S)], [200, 200, 200]); // opaque right half
});

test("EXIF orientation is applied before a centre-crop resize", async () => {
  // stored 40x20: red left half, blue right half; orientation 6 displays it rotated 90° clockwise
  const stored = new Uint8Array(40 * 20 * 3);
  for (let p = 0; p < 40 * 20; p++) stored[3 * p + (p % 40 < 20 ? 0 : 2)] = 255;
  await raw(stored, 40, 20, 3).png().withMetadata({ orientation: 6 }).toFile(at("rotated.png"));
  const rgb = await decodeImageRgb(at("rotated.png"), { size: 10 });
  assert.deepEqual([...rgb.subarray(0, 3)], [255, 0, 0], "top row is the stored left half (red)");
  assert.deepEqual([...rgb.subarray(3 * 99, 3 * 100)], [0, 0, 255], "bottom row is the stored right half (blue)");
  // a wide image keeps its centre: thirds red | green | blue -> all green
  const thirds = new Uint8Array(60 * 20 * 3);
  for (let p = 0; p < 60 * 20; p++) thirds[3 * p + Math.floor((p % 60) / 20)] = 255;
  await raw(thirds, 60, 20, 3).png().toFile(at("wide.png"));
  const centre = await decodeImageRgb(at("wide.png"), { size: 8 });
  for (let y = 0; y < 8; y++) {
    for (let x = 2; x < 6; x++)
      assert.deepEqual([...centre.subarray(3 * (8 * y + x), 3 * (8 * y + x) + 3)], [0, 255, 0], `pixel ${x},${y}`);
  }
});

test("bad files are BAD_IMAGE errors naming the file and the problem", async () => {
  await rejectsImage(decodeImage(at("missing.png"), { size: S, ...HALF }), /missing\.png: no such file\. Check the path\./);
  await rejectsImage(decodeImage(at("empty.png"), { size: S, ...HALF }), /empty\.png: is empty \(0 bytes\)\./);
  await rejectsImage(decodeImage(at("notes.png"), { size: S, ...HALF }), /notes\.png: is not an image sharp can read\. Use JPEG, PNG/);
  await rejectsImage(
    decodeImage(at("truncated.jpg"), { size: S, ...HALF }),
    /truncated\.jpg: is truncated or corrupt \(.*premature end.*\)\. Re-export or re-download it\./i,
  );
  await rejectsImage(decodeImage(at("cut-header.jpg"), { size: S, ...HALF }), /cut-header\.jpg: is truncated or corrupt \(/);
  await rejectsImage(decodeImage(dir, { size: S, ...HALF }), /is a folder, not an image/);
  await rejectsImage(
    decodeImage(at("rgb.png"), { size: S, ...HALF, maxPixels: 1000 }),
    /rgb\.png: is 32x32 \(0\.0 MP\), over the 0\.0 MP limit\. Downscale it first\./,
  );
});

test("huge images are refused from the header, before decoding", async () => {
  await sharp({ create: { width: 12_000, height: 10_000, channels: 3, background: "#808080" } })
    .png({ compressionLevel: 1 })
    .toFile(at("huge.png"));
  await rejectsImage(
    decodeImage(at("huge.png"), { size: S, ...HALF }),
    /huge\.png: is 12000x10000 \(120\.0 MP\), over the 100\.0 MP limit\. Downscale it first\./,
  );
});

/** A PNG whose header declares `width` x `height` RGB, with one tiny (wrong-sized) data chunk. */
function declaredPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const framed = Buffer.alloc(body.length + 8);
    framed.writeUInt32BE(data.length, 0);
    body.copy(framed, 4);
    framed.writeUInt32BE(crc32(body), body.length + 4);
    return framed;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no interlace
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", header), chunk("IDAT", deflateSync(Buffer.alloc(64))), chunk("IEND", Buffer.alloc(0))]);
}

test("a PNG declaring 100000x100000 is called too large, not truncated or corrupt", async () => {
  await writeFile(at("declared-huge.png"), declaredPng(100_000, 100_000));
  await rejectsImage(
    decodeImage(at("declared-huge.png"), { size: S, ...HALF }),
    /declared-huge\.png: is 100000x100000 \(10000\.0 MP\), over the 100\.0 MP limit\. Downscale it first\./,
  );
});

test("a batch is the decoded images back to back; bytes can be decoded as well as paths", async () => {
  const files = [at("rgb.png"), at("gray.png")];
  const batch = await decodeImageBatch(files, { size: 16, ...HALF });
  const singles = await Promise.all(files.map((f) => decodeImage(f, { size: 16, ...HALF })));
  assert.deepEqual(batch, Float32Array.from([...singles[0]!, ...singles[1]!]));
  const bytes = new Uint8Array(await sharp(at("rgb.png")).png().toBuffer());
  assert.deepEqual(await decodeImage({ name: "upload", bytes }, { size: 16, ...HALF }), singles[0]);
  await rejectsImage(decodeImage({ name: "upload", bytes: new Uint8Array(0) }, { size: 16, ...HALF }), /^upload: is empty/);
  assert.deepEqual(normalizeRgb(new Uint8Array([255, 0, 51]), [0.5, 0, 0.1], [0.5, 1, 0.1]), Float32Array.from([1, 0, 1]));
});

test("folders expand recursively to sorted image files, skipping hidden and non-image entries", async () => {
  const root = at("album");
  await mkdir(join(root, "b", ".cache"), { recursive: true });
  await mkdir(join(root, "a"), { recursive: true });
  for (const name of ["b/2.JPG", "a/1.png", "z.webp", "b/.cache/x.png", "readme.txt", ".hidden.png"])
    await writeFile(join(root, name), "x");
  assert.deepEqual(await listImageFiles([root, at("rgb.png")]), [
    join(root, "a/1.png"),
    join(root, "b/2.JPG"),
    join(root, "z.webp"),
    at("rgb.png"),
  ]);
  await mkdir(at("nothing"));
  await rejectsImage(listImageFiles([at("nothing")]), /nothing: is a folder with no images/);
  await rejectsImage(listImageFiles([at("nope")]), /nope: no such file or folder/);
});

test("for detection, large photos are shrunk to fit 1024 px, small ones kept, and EXIF-rotated upright", async () => {
  await sharp({ create: { width: 3000, height: 2000, channels: 3, background: "#336699" } })
    .jpeg()
    .toFile(at("wide.jpg"));
  const wide = await decodeImageUpright(at("wide.jpg"));
  assert.deepEqual([wide.width, wide.height, wide.channels, wide.data.length], [1024, 683, 3, 1024 * 683 * 3]);
  // Stored 40x20 with EXIF orientation 6 (rotate 90° clockwise to view): upright it is 20x40.
  await sharp({ create: { width: 40, height: 20, channels: 3, background: "#ff0000" } })
    .withMetadata({ orientation: 6 })
    .jpeg()
    .toFile(at("turned.jpg"));
  const turned = await decodeImageUpright(at("turned.jpg"));
  assert.deepEqual([turned.width, turned.height], [20, 40]);
});
