/**
 * Runs one tier of the suite from the built `dist/`: `fast` (npm test) or `e2e` (npm run test:e2e).
 *
 * A test file's name says its tier: `*.e2e.test.ts` runs the CLI end to end, trains, drives
 * Chromium or a WebGPU adapter; every other `*.test.ts` is fast. The list comes from the sources,
 * not from `dist/`, so that a renamed or deleted test's stale output is never run.
 * Extra arguments keep only the files whose path contains one of them: `npm test -- src/data`.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const TIERS = ["fast", "e2e"] as const;
type Tier = (typeof TIERS)[number];
const TEST_ROOTS = ["src", "test", "web", "bench"];

const repoRoot = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");

function testSources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : testSources(path);
    return entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

function tierOf(path: string): Tier {
  return path.endsWith(".e2e.test.ts") ? "e2e" : "fast";
}

function builtTestsOf(tier: Tier, filters: readonly string[]): string[] {
  const sources = TEST_ROOTS.flatMap((root) => testSources(join(repoRoot, root)))
    .map((path) => relative(repoRoot, path))
    .filter((path) => tierOf(path) === tier)
    .filter((path) => filters.length === 0 || filters.some((filter) => path.includes(filter)))
    .sort();
  const missing = sources.filter((path) => !existsSync(join(repoRoot, "dist", path.replace(/\.ts$/, ".js"))));
  if (missing.length > 0) {
    throw new Error(`${missing.length} test file(s) are not built, e.g. ${missing[0]}: run \`npm run build\` first`);
  }
  return sources.map((path) => join("dist", path.replace(/\.ts$/, ".js")));
}

function main(args: readonly string[]): number {
  const [tier, ...filters] = args;
  if (!TIERS.includes(tier as Tier)) {
    console.error(`run-tests: the tier must be one of ${TIERS.join(", ")}, not "${tier ?? ""}"`);
    return 2;
  }
  const files = builtTestsOf(tier as Tier, filters);
  if (files.length === 0) {
    console.error(`run-tests: no ${tier} test file matches ${filters.join(", ")}`);
    return 2;
  }
  console.log(`# ${tier} tier: ${files.length} test files${tier === "fast" ? " (npm run test:e2e runs the end-to-end tier)" : ""}`);
  const run = spawnSync(process.execPath, ["--test", "--test-concurrency=1", ...files], { cwd: repoRoot, stdio: "inherit" });
  return run.status ?? 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
