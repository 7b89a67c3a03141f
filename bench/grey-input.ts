/**
 * Does a face model's expression head depend on colour? CelebA-HQ faces (colour photos, every
 * 1/limit-th row of the manifest) analysed as they are and as grey copies: the expression classes
 * predicted on each, and how often "happy" agrees with CelebA's own `Smiling` label. A head
 * trained on grey faces only (FER2013) that answers "happy" for most colour faces and not for
 * their grey copies is one that should read grey input (face-model.ts `greyInput`).
 *
 *   npm run build && node dist/bench/grey-input.js [--model <face model>] [--limit 80] [--data ../shared/data]
 */
import "./errors-without-stack.js";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { FaceAnalyzer } from "../src/inference/face-analyzer.js";

const { values: args } = parseArgs({
  options: { model: { type: "string" }, limit: { type: "string", default: "80" }, data: { type: "string", default: "../shared/data" } },
});
const root = join(args.data!, "celebahq_attr");
const limit = Number(args.limit);
const [header, ...rows] = (await readFile(join(root, "manifest.csv"), "utf8")).trim().split("\n");
const smilingColumn = header!.split(",").indexOf("Smiling");
const picked = rows.filter((_, i) => i % Math.floor(rows.length / limit) === 0).slice(0, limit);
const analyzer = await FaceAnalyzer.load(args.model ? { model: args.model } : {});
const counts: Record<"colour" | "grey", Record<string, number>> = { colour: {}, grey: {} };
const agree = { colour: 0, grey: 0 };
let smiling = 0;
for (const row of picked) {
  const [path, ...labels] = row.split(",");
  const smile = labels[smilingColumn - 1] === "1";
  smiling += Number(smile);
  const colour = await readFile(join(root, path!));
  const grey = await sharp(colour).grayscale().toColourspace("srgb").jpeg({ quality: 95 }).toBuffer();
  for (const [kind, bytes] of [
    ["colour", colour],
    ["grey", grey],
  ] as const) {
    const [face] = (await analyzer.analyze(bytes)).faces;
    const expression = face?.predictions.expression;
    const label = expression?.kind === "class" ? expression.label : "no face";
    counts[kind][label] = (counts[kind][label] ?? 0) + 1;
    if ((label === "happy") === smile) agree[kind]++;
  }
}
await analyzer.dispose();
console.log(`${args.model ?? "the bundled model"} on ${picked.length} CelebA-HQ faces (${smiling} labelled Smiling):`);
for (const kind of ["colour", "grey"] as const) {
  const shown = Object.entries(counts[kind])
    .sort((a, b) => b[1] - a[1])
    .map(([label, n]) => `${label} ${n}`)
    .join(", ");
  console.log(
    `  ${kind.padEnd(6)} predicted: ${shown}; "happy" agrees with Smiling on ${agree[kind]} (${((100 * agree[kind]) / picked.length).toFixed(1)}%)`,
  );
}
