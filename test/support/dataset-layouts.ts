/**
 * Small benchmark layouts written into temp folders, for the dataset loader tests. Images are
 * a few placeholder bytes: loaders never decode them.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { FacepriorError } from "../../src/errors.js";
import { scratchDir } from "./scratch-dir.js";

export type Layout = Record<string, string | Uint8Array>;

const FAKE_IMAGE = new Uint8Array([0xff, 0xd8, 0xff, 0xd9]);

/** Writes the files into a new temp folder named `<name>` (under a fresh parent) and returns it. */
export async function writeLayout(name: string, files: Layout): Promise<string> {
  const root = join(await scratchDir("faceprior-data-"), name);
  await mkdir(root, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

/** Placeholder images at these paths. */
export function images(...paths: string[]): Layout {
  return Object.fromEntries(paths.map((path) => [path, FAKE_IMAGE]));
}

/** Asserts a BAD_DATASET error whose message holds every fragment. */
export async function rejectsWith(promise: Promise<unknown>, ...fragments: string[]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FacepriorError, `expected a FacepriorError, got ${String(error)}`);
    assert.equal(error.code, "BAD_DATASET", error.message);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
    return true;
  });
}

const row = (values: number[]) => values.join(" ");

/** A CelebA-style attribute list: the names in CelebA order, rows of -1/1. */
export function attributeList(names: readonly string[], rows: { name: string; values: number[] }[]): string {
  return [String(rows.length), names.join(" "), ...rows.map((r) => `${r.name} ${row(r.values)}`)].join("\n") + "\n";
}

/** The 40 values of an attribute row with these attribute positions set to 1, the rest -1. */
export function attributeValues(...present: number[]): number[] {
  return Array.from({ length: 40 }, (_, k) => (present.includes(k) ? 1 : -1));
}

/** A FER2013 csv pixel string: 48x48 values from a formula. */
export function ferPixels(seed: number): string {
  return Array.from({ length: 48 * 48 }, (_, k) => (k * 7 + seed * 13) % 256).join(" ");
}
