/**
 * The face-prior teacher in Node: @vladmandic/human (configured in human-teacher.ts) on
 * tfjs-backend-wasm, fully offline. Weights come from Human's own `models/` folder; any
 * attempt to fetch something else fails with an error instead of reaching the network.
 *
 * Human's node-wasm build runs from dist/vendor, where the build bundles it with the tfjs
 * packages it requires (scripts/vendor-teacher.mjs): Human's package `exports` only its tfjs-node
 * build, which cannot be installed without internet (METHOD.md §1), and the tfjs packages would
 * be most of an install. `loadOfflineHuman` and `withOfflineFetch` serve other Human
 * configurations and model loaders the same way (the peer benchmark, bench/peers.ts).
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { FacepriorError } from "../errors.js";
import { teacherConfig, teacherFromHuman, type HumanInstance, type Teacher, type TeacherOptions } from "./human-teacher.js";

export type { Teacher, TeacherFace, TeacherOptions } from "./human-teacher.js";

const require = createRequire(import.meta.url);

/** A file of dist/vendor, which scripts/vendor-teacher.mjs writes. */
const vendorPath = (name: string) => fileURLToPath(new URL(`../../vendor/${name}`, import.meta.url));

/** The folder of tfjs-backend-wasm's binaries, for the teacher here and Human's browser build (the demo). */
export const tfjsWasmDir = () => vendorPath("tfjs-backend-wasm/");

/** Human's node-wasm build (bundled with its tfjs), and the models folder of Human's package. */
function humanModule(): { Human: new (config: object) => HumanInstance<unknown>; modelDir: string } {
  const { Human } = require(vendorPath("human-node-wasm.cjs")) as { Human: new (config: object) => HumanInstance<unknown> };
  const nodeBuild = require.resolve("@vladmandic/human"); // .../dist/human.node.js
  return { Human, modelDir: join(dirname(nodeBuild), "..", "models") };
}

/**
 * The teacher's reference UV map, [468][u, v], u growing towards the subject's left (image
 * right). Constructing Human only sets up its configuration; no model is loaded.
 */
export function teacherUVMap(): readonly (readonly [number, number])[] {
  const { Human } = humanModule();
  return new Human({ backend: "wasm" }).faceUVMap;
}

/** A fetch that serves only files under `allowedDir` and refuses everything else. */
function offlineFetch(allowedDir: string): typeof fetch {
  const allowed = pathToFileURL(allowedDir + "/").href;
  return (async (input: string | URL | Request) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith(allowed)) {
      throw new FacepriorError("BAD_CONFIG", `refused to fetch ${url}: models load offline, from ${allowedDir} only.`);
    }
    const body = await readFile(fileURLToPath(url));
    const type = url.endsWith(".json") ? "application/json" : "application/octet-stream";
    return new Response(body, { status: 200, headers: { "content-type": type } });
  }) as typeof fetch;
}

/** Runs `load` with the global fetch (where model loaders read) serving only files under `allowedDir`. */
export async function withOfflineFetch<T>(allowedDir: string, load: () => Promise<T>): Promise<T> {
  const previousFetch = globalThis.fetch;
  globalThis.fetch = offlineFetch(allowedDir);
  try {
    return await load();
  } finally {
    globalThis.fetch = previousFetch;
  }
}

/**
 * Human's node-wasm build loaded with `config` on tfjs-backend-wasm, its models read from the
 * package's own `models/` folder with every other fetch refused. `Face` names the fields of
 * each face result the caller reads (they depend on the models `config` enables).
 */
export async function loadOfflineHuman<Face>(config: object): Promise<HumanInstance<Face>> {
  const { Human, modelDir } = humanModule();
  const human = new Human({
    ...config,
    backend: "wasm",
    wasmPath: tfjsWasmDir(),
    modelBasePath: pathToFileURL(modelDir + "/").href,
  }) as HumanInstance<Face>;
  await withOfflineFetch(modelDir, () => human.load());
  return human;
}

export async function loadTeacher(options: TeacherOptions = {}): Promise<Teacher> {
  return teacherFromHuman(await loadOfflineHuman(teacherConfig(options)));
}
