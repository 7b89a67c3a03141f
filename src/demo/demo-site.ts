/**
 * What `faceprior demo` serves, folder by folder: the page (web/), its compiled code (dist/web,
 * and the browser-safe modules of dist/src it imports), the vendor files (Human's browser build
 * and models, tfjs's wasm binaries from dist/vendor, onnxruntime-web) and the face model,
 * exported to ONNX with its manifest in a temporary folder that goes when the process exits.
 * Nothing outside these folders is reachable.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { FacepriorError } from "../errors.js";
import { exportFaceModel } from "../inference/export-face-model.js";
import { readFaceModel, type FaceModel } from "../face-model/face-model.js";
import { makeTempDir } from "../io/exit-cleanup.js";
import { installCommand, isNotInstalled } from "../optional-package.js";
import { tfjsWasmDir } from "../priors/teacher.js";
import type { StaticRoute } from "./static-server.js";

const require = createRequire(import.meta.url);
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The exported model's file; its manifest, face-model.json beside it, is served as /model/face-model.json, which web/main.ts reads. */
const ONNX_FILE = "face-model.onnx";

export type DemoSite = {
  routes: StaticRoute[];
  model: FaceModel;
};

/** The folder holding a package's main file (each vendor package keeps its browser files there). */
function packageDist(name: string): string {
  try {
    return dirname(require.resolve(name));
  } catch (error) {
    // onnxruntime-web is an optional peer dependency: a dependency install of faceprior leaves it out.
    if (isNotInstalled(error, name))
      throw new FacepriorError(
        "MISSING_PACKAGE",
        `demo: the page needs ${name}, which is not installed. Install it with \`${installCommand([name])}\`.`,
      );
    throw error;
  }
}

/** The page's own folders; a build or a checkout without them cannot serve the page. */
function pageFolders(): { source: string; compiled: string; modules: string } {
  const folders = { source: join(REPO_ROOT, "web"), compiled: join(REPO_ROOT, "dist", "web"), modules: join(REPO_ROOT, "dist", "src") };
  for (const file of [join(folders.source, "index.html"), join(folders.compiled, "main.js")]) {
    if (!existsSync(file))
      throw new FacepriorError("BAD_CONFIG", `${file}: missing, so the demo page cannot be served. Run "npm run build" in ${REPO_ROOT}.`);
  }
  return folders;
}

/** The URL prefixes and the one folder each serves. */
function demoRoutes(modelDir: string): StaticRoute[] {
  const page = pageFolders();
  const human = packageDist("@vladmandic/human");
  return [
    { prefix: "/", dir: page.source },
    { prefix: "/web/", dir: page.compiled },
    { prefix: "/src/", dir: page.modules },
    { prefix: "/vendor/human/", dir: human },
    { prefix: "/vendor/human-models/", dir: join(human, "..", "models") },
    { prefix: "/vendor/tfjs-backend-wasm/", dir: tfjsWasmDir() },
    { prefix: "/vendor/onnxruntime-web/", dir: packageDist("onnxruntime-web") },
    { prefix: "/model/", dir: modelDir },
  ];
}

/** Reads the face model, exports it for onnxruntime-web and lays out the routes. */
export async function prepareDemoSite(modelPath: string): Promise<DemoSite> {
  const model = await readFaceModel(modelPath);
  const modelDir = await makeTempDir("faceprior-demo-");
  try {
    await exportFaceModel(model, join(modelDir.path, ONNX_FILE));
    return { routes: demoRoutes(modelDir.path), model };
  } catch (error) {
    modelDir.remove();
    throw error;
  }
}
