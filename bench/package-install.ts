/**
 * faceprior as a dependency, the way a user gets it (issue #14). `npm pack` here, then in an empty
 * project in a temporary folder: install the tarball from npm's cache (offline by default), measure
 * what the install takes on disk, compile the README's TypeScript example with `tsc --strict` and
 * TypeScript's default `skipLibCheck: false`, load the package from CommonJS (`require` and
 * `import()`), run examples/analyze.mjs and `npx faceprior analyze`. Every step prints what it
 * found; a failed check, or a command that fails, makes it exit 1. The numbers go to
 * bench/results/package-install.json.
 *
 *   npm run build && node dist/bench/package-install.js [--online] [--onnxruntime] [--keep]
 *
 * --online: npm may fetch metadata it has not cached (a machine's first run); otherwise --offline.
 * --onnxruntime: afterwards install onnxruntime-node too, measure it and analyse again on it.
 * --keep: leave the temporary project in place and print its folder.
 *
 * It packs the current dist/ (`npm pack --ignore-scripts`), so build first. tsc and @types/node
 * come from this repository's node_modules: the installed size is faceprior's alone.
 */
import "./errors-without-stack.js";
import { execFile } from "node:child_process";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { REPO_ROOT } from "../test/support/shared-data.js";

const { values: args } = parseArgs({
  options: { online: { type: "boolean" }, onnxruntime: { type: "boolean" }, keep: { type: "boolean" } },
});
const NPM_NETWORK = args.online ? "--prefer-offline" : "--offline";
const TARGET_MB = 150;

type Run = { stdout: string; stderr: string; seconds: number; status: number };

/** Runs a command; a non-zero exit ends the bench with its output, unless `mayFail`. */
async function run(
  command: string,
  argv: string[],
  cwd: string,
  { env = {}, mayFail = false }: { env?: NodeJS.ProcessEnv; mayFail?: boolean } = {},
): Promise<Run> {
  const start = performance.now();
  const seconds = () => (performance.now() - start) / 1000;
  try {
    const { stdout, stderr } = await promisify(execFile)(command, argv, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
    return { stdout, stderr, seconds: seconds(), status: 0 };
  } catch (error) {
    const { stdout = "", stderr = "", code } = error as { stdout?: string; stderr?: string; code?: number | string };
    if (mayFail && typeof code === "number") return { stdout, stderr, seconds: seconds(), status: code };
    throw new Error(`${command} ${argv.join(" ")} (in ${cwd}) failed:\n${stdout}${stderr}`);
  }
}

let failures = 0;
function check(ok: boolean, what: string): void {
  console.log(`  ${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
}

/** Bytes on disk (allocated blocks, as `du` counts them) and files under `dir`; links are not followed. */
async function diskUsage(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(dir, { recursive: true })) {
    const stat = await lstat(join(dir, entry));
    bytes += stat.blocks * 512;
    if (stat.isFile()) files++;
  }
  return { bytes, files };
}
const mb = (bytes: number) => bytes / 2 ** 20;

/** Analyze's stderr less the summary line that ends every run (`analyze: 1 image, 1 face found, ...`). */
const withoutSummary = (stderr: string) => stderr.replace(/^analyze: \d+ images?, .*\n?$/m, "").trim();

/** The installed packages (scoped ones by scope), largest first. */
async function largestPackages(modules: string, count: number): Promise<string[]> {
  const names = (await readdir(modules)).filter((n) => !n.startsWith("."));
  const sizes = await Promise.all(names.map(async (name) => ({ name, bytes: (await diskUsage(join(modules, name))).bytes })));
  return sizes
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count)
    .map(({ name, bytes }) => `${name} ${mb(bytes).toFixed(1)}`);
}

/** The README's first ```ts block: the example a user copies. */
async function readmeExample(): Promise<string> {
  const readme = await readFile(join(REPO_ROOT, "README.md"), "utf8");
  const block = /```ts\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error("README.md has no ```ts block to compile.");
  return block[1]!;
}

const results: Record<string, unknown> = { date: new Date().toISOString().slice(0, 10), node: process.version, npmNetwork: NPM_NETWORK };
const work = await mkdtemp(join(tmpdir(), "faceprior-package-"));
try {
  console.log("1. npm pack (the current dist/)");
  const packed = JSON.parse(
    (await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], REPO_ROOT)).stdout,
  )[0] as {
    filename: string;
    size: number;
    unpackedSize: number;
    files: { path: string }[];
  };
  const paths = packed.files.map((f) => f.path);
  results.tarball = { file: packed.filename, mb: mb(packed.size), unpackedMb: mb(packed.unpackedSize), files: paths.length };
  console.log(
    `  ${packed.filename}: ${mb(packed.size).toFixed(1)} MB, ${mb(packed.unpackedSize).toFixed(1)} MB unpacked, ${paths.length} files`,
  );
  check(
    [
      "dist/src/index.js",
      "dist/src/index.d.ts",
      "dist/src/research.js",
      "dist/src/cli/main.js",
      "dist/vendor/human-node-wasm.cjs",
      "dist/vendor/tfjs-backend-wasm/tfjs-backend-wasm-simd.wasm",
      "models/faceprior-default.safetensors",
      "LICENSE",
    ].every((p) => paths.includes(p)),
    "it holds the built entries, the CLI, the teacher's bundled Human and tfjs, the bundled model and LICENSE",
  );
  check(!paths.some((p) => /\.test\.|\.map$|tsbuildinfo/.test(p)), "it holds no tests, source maps or build state");

  console.log(`2. npm install ${NPM_NETWORK} into an empty project`);
  const app = join(work, "app");
  await mkdir(app);
  await writeFile(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }, null, 2));
  const install = await run("npm", ["install", NPM_NETWORK, "--no-audit", "--no-fund", join(work, packed.filename)], app);
  console.log(`  ${install.seconds.toFixed(0)} s; npm said:\n${(install.stdout + install.stderr).trim().replace(/^/gm, "    ")}`);
  const modules = join(app, "node_modules");
  const installed = await diskUsage(modules);
  results.installed = {
    mb: mb(installed.bytes),
    files: installed.files,
    seconds: install.seconds,
    largest: await largestPackages(modules, 12),
  };
  console.log(
    `  node_modules: ${mb(installed.bytes).toFixed(1)} MB on disk, ${installed.files} files; largest (MB): ${(results.installed as { largest: string[] }).largest.join(", ")}`,
  );
  check(mb(installed.bytes) <= TARGET_MB, `at most ${TARGET_MB} MB installed (issue #14's target)`);
  const tsconfigs = (await readdir(join(modules, "faceprior"), { recursive: true })).filter(
    (f) => f.endsWith(".tsbuildinfo") || f === "tsconfig.json",
  );
  check(tsconfigs.length === 0, "nothing was built at install (no tsconfig or tsbuildinfo in the installed package)");

  console.log("3. the README's TypeScript example under tsc --strict, skipLibCheck off");
  await writeFile(join(app, "example.ts"), await readmeExample());
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      noEmit: true,
      typeRoots: [join(REPO_ROOT, "node_modules", "@types")],
      types: ["node"],
    },
    files: ["example.ts"],
  };
  await writeFile(join(app, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  const tsc = await run(
    process.execPath,
    [join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json", "--listFilesOnly"],
    app,
  );
  const typeFiles = tsc.stdout
    .split("\n")
    .filter((f) => f.includes("node_modules/") && !f.includes("/typescript/lib/") && !f.includes("/@types/node/"));
  check(
    !typeFiles.some((f) => f.includes("@jax-js")),
    `its types reach ${typeFiles.length} .d.ts files of faceprior and its dependencies, none of jax-js`,
  );
  const compiled = await run(process.execPath, [join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], app, {
    mayFail: true,
  });
  if (compiled.stdout.trim()) console.log(compiled.stdout.trim().replace(/^/gm, "    "));
  check(compiled.status === 0 && compiled.stdout.trim() === "", `tsc --strict: no errors (${compiled.seconds.toFixed(0)} s)`);

  console.log("4. CommonJS: require() and import()");
  await writeFile(
    join(app, "load.cjs"),
    [
      'const required = require("faceprior");',
      'import("faceprior").then((imported) => {',
      "  console.log(typeof required.FaceAnalyzer.load, typeof required.predictionOf, imported.FaceAnalyzer === required.FaceAnalyzer);",
      "});",
      "",
    ].join("\n"),
  );
  const cjs = await run(process.execPath, ["load.cjs"], app);
  check(
    cjs.stdout.trim() === "function function true",
    `require("faceprior") and await import("faceprior") give the same FaceAnalyzer (printed: ${cjs.stdout.trim()})`,
  );

  console.log("5. the library example, node node_modules/faceprior/examples/analyze.mjs");
  const example = await run(process.execPath, [join(modules, "faceprior", "examples", "analyze.mjs")], app);
  console.log(example.stdout.trim().replace(/^/gm, "    "));
  check(
    /^face at \(\d+, \d+\): \w+ \d\.\d\d, age \d+, AUs [\w ]*\nembedding: 192 numbers, engine jax$/.test(example.stdout.trim()),
    `it analyses and embeds the photo on jax-js (${example.seconds.toFixed(0)} s)`,
  );

  console.log("6. npx faceprior analyze node_modules/faceprior/examples/astronaut.jpg");
  const photo = join("node_modules", "faceprior", "examples", "astronaut.jpg");
  const analyze = await run("npx", ["--no-install", "faceprior", "analyze", photo], app);
  console.log(`${analyze.stdout.split("\n").slice(0, 4).join("\n").replace(/^/gm, "    ")}\n    ...\n    stderr: ${analyze.stderr.trim()}`);
  results.analyze = { seconds: analyze.seconds, stderr: analyze.stderr.trim() };
  check(analyze.stdout.startsWith(`${photo} (512x512): 1 face`), `it finds the face (${analyze.seconds.toFixed(0)} s, first run included)`);
  check(
    /^note: the model runs on jax-js: onnxruntime-node, the faster CPU engine, is not installed\. Install it with `ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1\.30\.0`\.$/.test(
      withoutSummary(analyze.stderr),
    ),
    "stderr says once which engine runs and how to get the faster one, then the summary line, and nothing else",
  );

  if (args.onnxruntime) {
    console.log(`7. ONNXRUNTIME_NODE_INSTALL=skip npm install ${NPM_NETWORK} onnxruntime-node@1.30.0, then analyze again`);
    await run("npm", ["install", NPM_NETWORK, "--no-audit", "--no-fund", "onnxruntime-node@1.30.0"], app, {
      env: { ONNXRUNTIME_NODE_INSTALL: "skip" },
    });
    const withOrt = await diskUsage(modules);
    const onnx = await run("npx", ["--no-install", "faceprior", "analyze", photo], app);
    results.withOnnxruntime = { mb: mb(withOrt.bytes), analyzeSeconds: onnx.seconds, stderr: onnx.stderr.trim() };
    console.log(`  node_modules: ${mb(withOrt.bytes).toFixed(1)} MB; analyze ${onnx.seconds.toFixed(0)} s`);
    check(
      onnx.stdout.startsWith(`${photo} (512x512): 1 face`) && withoutSummary(onnx.stderr) === "",
      "it analyses on onnxruntime-node, with nothing but the summary line on stderr",
    );
  }
} catch (error) {
  console.error(`package-install: ${(error as Error).message}`);
  failures++;
} finally {
  if (args.keep) console.log(`kept ${work}`);
  else await rm(work, { recursive: true, force: true });
}
results.failures = failures;
await writeFile(join(REPO_ROOT, "bench", "results", "package-install.json"), `${JSON.stringify(results, null, 2)}\n`);
console.log(failures === 0 ? "package-install: every check passed" : `package-install: ${failures} check(s) failed`);
process.exitCode = failures === 0 ? 0 : 1;
