/**
 * Folders of many photos (issue #14): for a folder of 1,000 files and one of 100,000 (hard links to
 * copies of examples/astronaut.jpg in a temporary folder), the folder walk alone (time to its first file and
 * to its last, peak RSS) and `faceprior analyze --json -` over the folder (time to its first
 * result, and its peak RSS then and after a few more), each in a fresh process. A walk that held
 * every path would grow with the folder; one that streams stays where the smaller folder is.
 *
 *   npm run build && node dist/bench/folder-listing.js [--files 1000,100000] [--results 5]
 *
 * The numbers go to bench/results/folder-listing.json. Linux only (peak RSS is read from /proc).
 */
import "./errors-without-stack.js";
import { spawn } from "node:child_process";
import { copyFile, link, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { imageFiles } from "../src/data/image-files.js";
import { REPO_ROOT } from "../test/support/shared-data.js";

const { values: args } = parseArgs({
  options: { files: { type: "string", default: "1000,100000" }, results: { type: "string", default: "5" }, walk: { type: "string" } },
});
const PHOTO = join(REPO_ROOT, "examples", "astronaut.jpg");
const CLI = join(REPO_ROOT, "dist", "src", "cli", "main.js");
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

/** The child's part: walks `folder` and prints what it measured as one JSON line. */
async function measureWalk(folder: string): Promise<void> {
  const rssBefore = process.memoryUsage().rss;
  const start = performance.now();
  let firstMs = 0;
  let files = 0;
  for await (const _ of imageFiles([folder], () => {})) if (files++ === 0) firstMs = performance.now() - start;
  const allMs = performance.now() - start;
  const peakMib = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ files, firstMs, allMs, rssBeforeMib: mib(rssBefore), peakMib: Math.round(peakMib) }));
}

/** Hard links per copy of the photo: ext4 allows 65,000 links to a file. */
const LINKS_PER_COPY = 50_000;

/** A folder of `count` hard links to copies of the photo (the copies beside it). */
async function folderOf(count: number, root: string): Promise<string> {
  const folder = join(root, `${count}`);
  await mkdir(folder);
  for (let i = 0; i < count; i++) {
    const copy = join(root, `${count}-copy-${Math.floor(i / LINKS_PER_COPY)}.jpg`);
    if (i % LINKS_PER_COPY === 0) await copyFile(PHOTO, copy);
    await link(copy, join(folder, `photo-${String(i).padStart(6, "0")}.jpg`));
  }
  return folder;
}

/** Runs `argv` under Node and hands each stdout line, with the process id, to `onLine` until it returns true. */
function runUntil(argv: string[], onLine: (line: string, pid: number) => Promise<boolean>): Promise<void> {
  const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "ignore"] });
  const lines = createInterface({ input: child.stdout });
  const closed = new Promise<void>((done) => child.on("close", () => done()));
  lines.on("line", async (line) => {
    if (await onLine(line, child.pid!)) child.kill();
  });
  return closed;
}

async function peakRssMib(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024);
}

async function measureWalkInChild(folder: string): Promise<unknown> {
  let measured: unknown;
  await runUntil([fileURLToPath(import.meta.url), "--walk", folder], async (line) => {
    measured = JSON.parse(line);
    return true;
  });
  return measured;
}

/** Analyze over the folder: seconds to its first result and peak RSS then and after `results` of them. */
async function measureAnalyze(folder: string, results: number): Promise<unknown> {
  const start = performance.now();
  const measured: Record<string, number> = {};
  let seen = 0;
  await runUntil([CLI, "analyze", "--json", "-", folder], async (_line, pid) => {
    const n = ++seen; // counted before any await: lines that come while one is measured are not measured
    if (n === 1) Object.assign(measured, { firstResultS: (performance.now() - start) / 1000, peakMibAtFirst: await peakRssMib(pid) });
    if (n !== results) return false;
    Object.assign(measured, { results: n, seconds: (performance.now() - start) / 1000, peakMibAtLast: await peakRssMib(pid) });
    return true;
  });
  return measured;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "faceprior-folder-listing-"));
  const measured: Record<string, unknown> = {};
  try {
    for (const count of args.files!.split(",").map(Number)) {
      const folder = await folderOf(count, root);
      const walk = await measureWalkInChild(folder);
      const analyze = await measureAnalyze(folder, Number(args.results));
      measured[count] = { walk, analyze };
      console.log(`${count} files: walk ${JSON.stringify(walk)}; analyze ${JSON.stringify(analyze)}`);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const results = { date: new Date().toISOString().slice(0, 10), node: process.version, photo: "examples/astronaut.jpg", measured };
  await writeFile(join(REPO_ROOT, "bench", "results", "folder-listing.json"), `${JSON.stringify(results, null, 2)}\n`);
}

if (args.walk) await measureWalk(args.walk);
else await main();
