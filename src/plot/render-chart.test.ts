import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { chartSvg, lossCurveSpec, writeChartPng } from "./render-chart.js";

const records = [
  { step: 1, mim: 1.2, pix: 2.3 },
  { step: 2, mim: 0.9, pix: 1.7 },
  { step: 3, mim: 0.7, pix: Number.NaN },
];

test("loss curves draw one labelled line per part, skipping values a log scale cannot show", async () => {
  const svg = await chartSvg(lossCurveSpec(records, ["mim", "pix"], "pretraining"));
  assert.match(svg, /<text[^>]*>mim<\/text>/);
  assert.match(svg, /<text[^>]*>pix<\/text>/);
  assert.match(svg, /<text[^>]*>pretraining<\/text>/);
  const lines = svg.match(/<path aria-label="[^"]*" role="graphics-symbol" aria-roledescription="line mark" d="[^"]*"/g) ?? [];
  assert.equal(lines.length, 2);
  // mim has three finite points; pix's NaN at step 3 is left out, so its line has two.
  const segments = (line: string) => (/ d="([^"]*)"/.exec(line)![1]!.match(/[MLC]/g) ?? []).length; // one command per point
  assert.deepEqual(
    lines.map((l) => [/loss part: (\w+)/.exec(l)![1], segments(l)]),
    [
      ["mim", 3],
      ["pix", 2],
    ],
  );
});

test("charts are written as PNG at twice their size", async () => {
  const dir = await mkdtemp(join(tmpdir(), "faceprior-plot-"));
  try {
    const file = join(dir, "loss.png");
    await writeChartPng(file, lossCurveSpec(records, ["mim"], "t"));
    const meta = await sharp(file).metadata();
    assert.equal(meta.format, "png");
    assert.ok(meta.width! > 2 * 520, `width ${meta.width}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
