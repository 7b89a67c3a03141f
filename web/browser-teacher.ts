/**
 * The face-prior teacher in the browser: Human's browser build with the configuration of
 * src/priors/human-teacher.ts, on tfjs's wasm backend (no GPU needed, and the backend the Node
 * teacher uses, so both find the same mesh). Models and wasm binaries come from the demo server.
 */
import { Human } from "@vladmandic/human";
import { FACE_SEARCH_DEFAULTS } from "../src/priors/face-priors.js";
import { teacherConfig, teacherFromHuman, type HumanInstance, type Teacher } from "../src/priors/human-teacher.js";

/** Loads BlazeFace, FaceMesh and Iris from `vendor/` beside the page. */
export async function loadBrowserTeacher(pageUrl: string): Promise<Teacher> {
  const human = new Human({
    ...teacherConfig({ maxFaces: FACE_SEARCH_DEFAULTS.maxFaces }),
    backend: "wasm",
    wasmPath: new URL("vendor/tfjs-backend-wasm/", pageUrl).href,
    modelBasePath: new URL("vendor/human-models/", pageUrl).href,
  });
  await human.load();
  return teacherFromHuman(human as unknown as HumanInstance);
}
