/**
 * The demo page: loads the teacher and the exported model, then analyses each photo dropped on the
 * page or chosen with the file input, one at a time. The status line carries `data-state`
 * (loading, ready, working, done, error) and, when done, `data-face-count`.
 */
import { FacepriorError } from "../src/errors.js";
import type { ImageAnalysis } from "../src/inference/face-analyzer.js";
import type { Teacher } from "../src/priors/human-teacher.js";
import { analyzePhoto } from "./analyze-photo.js";
import { loadBrowserFaceModel, type BrowserFaceModel } from "./browser-model.js";
import { loadBrowserTeacher } from "./browser-teacher.js";
import { decodePhoto } from "./canvas-pixels.js";
import { drawPhoto, renderFaces } from "./render-analysis.js";

/** Written by `faceprior demo` (src/demo/demo-site.ts). */
const MANIFEST_PATH = "model/face-model.json";

type State = "loading" | "ready" | "working" | "done" | "error";

function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`demo page: no element #${id} in index.html`);
  return node as T;
}

const status = byId<HTMLParagraphElement>("status");
const input = byId<HTMLInputElement>("photo-input");
const dropZone = byId<HTMLLabelElement>("drop-zone");
const photoCanvas = byId<HTMLCanvasElement>("photo");
const facesSection = byId<HTMLElement>("faces");

function showStatus(state: State, message: string, faceCount?: number): void {
  status.dataset.state = state;
  if (faceCount === undefined) delete status.dataset.faceCount;
  else status.dataset.faceCount = String(faceCount);
  status.textContent = message;
}

/** A FacepriorError's message is for people as it stands; anything else is a bug, said so. */
function describeError(error: unknown): string {
  if (error instanceof FacepriorError) return error.message;
  return `Internal error: ${error instanceof Error ? error.message : String(error)}. This is a bug in the faceprior demo; the browser console has details.`;
}

function summary({ source, width, height, faces }: ImageAnalysis, seconds: number): string {
  if (faces.length === 0) return `${source} (${width}×${height}): no face found. Try a photo where a face is larger and seen from the front.`;
  return `${source} (${width}×${height}): ${faces.length} face${faces.length > 1 ? "s" : ""}, in ${seconds.toFixed(1)} s.`;
}

async function showPhoto(file: File, teacher: Teacher, model: BrowserFaceModel): Promise<void> {
  showStatus("working", `Analysing ${file.name}…`);
  facesSection.replaceChildren();
  photoCanvas.hidden = true;
  const started = performance.now();
  try {
    const photo = await decodePhoto(file);
    const analysis = await analyzePhoto(photo, file.name, teacher, model);
    drawPhoto(photoCanvas, photo, analysis.faces);
    renderFaces(facesSection, analysis);
    photo.close();
    showStatus("done", summary(analysis, (performance.now() - started) / 1000), analysis.faces.length);
  } catch (error) {
    if (!(error instanceof FacepriorError)) console.error(error);
    showStatus("error", describeError(error));
  }
}

async function start(): Promise<void> {
  const [teacher, model] = await Promise.all([loadBrowserTeacher(document.baseURI), loadBrowserFaceModel(new URL(MANIFEST_PATH, document.baseURI).href)]);
  let queue = Promise.resolve();
  const analyse = (file: File | undefined) => {
    if (file) queue = queue.then(() => showPhoto(file, teacher, model));
  };
  input.addEventListener("change", () => analyse(input.files?.[0]));
  // The whole page takes drops, so a photo dropped beside the zone is analysed rather than opened.
  window.addEventListener("dragover", (event) => {
    event.preventDefault();
    dropZone.classList.add("dragging");
  });
  window.addEventListener("dragleave", () => dropZone.classList.remove("dragging"));
  window.addEventListener("drop", (event) => {
    event.preventDefault();
    dropZone.classList.remove("dragging");
    analyse(event.dataTransfer?.files[0]);
  });
  input.disabled = false;
  const heads = model.manifest.outputs.heads.map((h) => h.name).join(", ");
  showStatus("ready", `Ready (model heads: ${heads}). Drop a photo or choose one.`);
}

start().catch((error: unknown) => {
  console.error(error);
  showStatus("error", `The demo could not start: ${describeError(error)}`);
});
