/**
 * The face-prior teacher in the browser: Human's browser build with the configuration of
 * src/priors/human-teacher.ts, on tfjs's wasm backend (no GPU needed, and the backend the Node
 * teacher uses, so both find the same mesh). Models and wasm binaries come from the vendor folder
 * FaceAnalyzer.load is given (`faceprior demo` serves it as vendor/).
 */
import { Human } from "@vladmandic/human";
import { FACE_SEARCH_DEFAULTS } from "../src/priors/face-priors.js";
import { teacherConfig, teacherFromHuman, type HumanInstance, type Teacher } from "../src/priors/human-teacher.js";

/** Loads BlazeFace, FaceMesh and Iris from `human-models/` and tfjs's wasm from `tfjs-backend-wasm/` under `vendorUrl`. */
export async function loadBrowserTeacher(vendorUrl: string): Promise<Teacher> {
  const human = new Human({
    ...teacherConfig({ maxFaces: FACE_SEARCH_DEFAULTS.maxFaces }),
    backend: "wasm",
    wasmPath: new URL("tfjs-backend-wasm/", vendorUrl).href,
    modelBasePath: new URL("human-models/", vendorUrl).href,
  });
  await human.load();
  return teacherFromHuman(human as unknown as HumanInstance);
}
