/**
 * Builds dist/vendor/, what the face-prior teacher runs on (src/priors/teacher.ts), so that an
 * install of faceprior needs no @tensorflow package (issue #14: they took 88 of its 192 MB):
 *
 *   human-node-wasm.cjs        @vladmandic/human's node-wasm build with the three tfjs packages it
 *                              requires (core, converter, backend-wasm: their Node builds, 2 MB in
 *                              all, license headers kept) bundled in; Human's models stay in its package
 *   tfjs-backend-wasm/*.wasm   the wasm backend's binaries, which it and Human's browser build load
 *
 * The versions are the lockfile's; Human and the tfjs packages are pinned together in package.json.
 * `npm run compile` runs it after tsc.
 */
import { copyFile, mkdir, readdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { build } from "esbuild";

const require = createRequire(import.meta.url);
const vendor = join(dirname(require.resolve("../package.json")), "dist", "vendor");

await build({
  entryPoints: [join(dirname(require.resolve("@vladmandic/human")), "human.node-wasm.js")],
  outfile: join(vendor, "human-node-wasm.cjs"),
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  // tfjs-core reads it only where Node has no global fetch (before Node 18).
  external: ["node-fetch"],
  logLevel: "warning",
});

const wasmDir = dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
await mkdir(join(vendor, "tfjs-backend-wasm"), { recursive: true });
for (const file of (await readdir(wasmDir)).filter((f) => f.endsWith(".wasm"))) {
  await copyFile(join(wasmDir, file), join(vendor, "tfjs-backend-wasm", file));
}
