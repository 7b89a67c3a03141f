/**
 * The face-prior teacher: @vladmandic/human (BlazeFace, FaceMesh, Iris: 478 points) on
 * tfjs-backend-wasm, fully offline. Weights come from the package's own `models/` folder; any
 * attempt to fetch something else fails with an error instead of reaching the network.
 *
 * The node-wasm build is loaded by file path: the package's `exports` list only the tfjs-node
 * build, which cannot be installed without internet (METHOD.md §1).
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { FacepriorError } from "../errors.js";

export type TeacherFace = {
  /** Overall face confidence, 0-1. */
  score: number;
  /** [x, y, width, height] in input pixels. */
  box: [number, number, number, number];
  /** [478, 2] mesh points in input pixel coordinates. */
  mesh: Float32Array;
};

export type Teacher = {
  detect(rgb: Uint8Array, width: number, height: number): Promise<TeacherFace[]>;
  dispose(): void;
};

export type TeacherOptions = { maxFaces?: number; minConfidence?: number };

type HumanFaceResult = { score: number; box: [number, number, number, number]; mesh: [number, number, number][] };
type HumanInstance = {
  load(): Promise<void>;
  detect(input: unknown): Promise<{ face: HumanFaceResult[] }>;
  tf: { tensor3d(values: Uint8Array, shape: [number, number, number], dtype: "int32"): { dispose(): void } };
  faceUVMap: [number, number][];
};

const require = createRequire(import.meta.url);

/** Human's node-wasm build, beside the tfjs-node build that the package's main entry names. */
function humanModule(): { Human: new (config: object) => HumanInstance; modelDir: string } {
  const nodeBuild = require.resolve("@vladmandic/human"); // .../dist/human.node.js
  const { Human } = require(join(dirname(nodeBuild), "human.node-wasm.js")) as { Human: new (config: object) => HumanInstance };
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
      throw new FacepriorError("BAD_CONFIG", `teacher: refused to fetch ${url}; the face-prior teacher runs offline from ${allowedDir}.`);
    }
    const body = await readFile(fileURLToPath(url));
    const type = url.endsWith(".json") ? "application/json" : "application/octet-stream";
    return new Response(body, { status: 200, headers: { "content-type": type } });
  }) as typeof fetch;
}

export async function loadTeacher({ maxFaces = 5, minConfidence = 0.2 }: TeacherOptions = {}): Promise<Teacher> {
  const { Human, modelDir } = humanModule();
  const wasmDir = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm")), "/");
  const human = new Human({
    backend: "wasm",
    wasmPath: wasmDir,
    modelBasePath: pathToFileURL(modelDir + "/").href,
    debug: false,
    async: false,
    cacheSensitivity: 0,
    face: {
      enabled: true,
      detector: { rotation: true, maxDetected: maxFaces, minConfidence, return: false },
      mesh: { enabled: true },
      iris: { enabled: true },
      emotion: { enabled: false },
      description: { enabled: false },
      antispoof: { enabled: false },
      liveness: { enabled: false },
      attention: { enabled: false },
    },
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    segmentation: { enabled: false },
    gesture: { enabled: false },
  });
  // Human reads its model files through the global fetch; serve them from the package only.
  const previousFetch = globalThis.fetch;
  globalThis.fetch = offlineFetch(modelDir);
  try {
    await human.load();
  } finally {
    globalThis.fetch = previousFetch;
  }
  return {
    async detect(rgb, width, height) {
      const tensor = human.tf.tensor3d(rgb, [height, width, 3], "int32");
      try {
        const { face } = await human.detect(tensor);
        return face
          .filter((f) => f.mesh.length >= 478)
          .map((f) => ({ score: f.score, box: f.box, mesh: Float32Array.from(f.mesh.slice(0, 478).flatMap(([x, y]) => [x, y])) }));
      } finally {
        tensor.dispose();
      }
    },
    dispose() {},
  };
}
