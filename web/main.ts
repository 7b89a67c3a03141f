/**
 * The demo page, built on the browser entry (faceprior-web.ts): it loads a FaceAnalyzer, then
 * analyses each photo dropped on the page or chosen with the file input, one at a time, or in
 * webcam mode the camera's frames in a loop, with the frame rate shown. The status line carries
 * `data-state` (loading, ready, working, done, webcam, error) and, with results shown,
 * `data-face-count`; the frame-rate line carries `data-fps` and `data-frames`.
 */
import { FacepriorError } from "../src/errors.js";
import { FaceAnalyzer, readImage, type ImageAnalysis } from "./faceprior-web.js";
import { drawPhoto, renderFaces } from "./render-analysis.js";
import { analyseFrames, openCamera } from "./webcam.js";

type State = "loading" | "ready" | "working" | "done" | "webcam" | "error";

function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`demo page: no element #${id} in index.html`);
  return node as T;
}

const status = byId<HTMLParagraphElement>("status");
const input = byId<HTMLInputElement>("photo-input");
const dropZone = byId<HTMLLabelElement>("drop-zone");
const webcamButton = byId<HTMLButtonElement>("webcam-button");
const video = byId<HTMLVideoElement>("webcam");
const frameRate = byId<HTMLParagraphElement>("frame-rate");
const photoCanvas = byId<HTMLCanvasElement>("photo");
const facesSection = byId<HTMLElement>("faces");

function showStatus(state: State, message: string, faceCount?: number): void {
  status.dataset.state = state;
  if (faceCount === undefined) delete status.dataset.faceCount;
  else status.dataset.faceCount = String(faceCount);
  status.textContent = message;
}

/** A FacepriorError's message is for people as it stands; anything else is a bug, said so. */
function showError(error: unknown, prefix = ""): void {
  if (!(error instanceof FacepriorError)) console.error(error);
  const message =
    error instanceof FacepriorError
      ? error.message
      : `Internal error: ${error instanceof Error ? error.message : String(error)}. This is a bug in the faceprior demo; the browser console has details.`;
  showStatus("error", prefix + message);
}

const faceCount = (n: number) => (n === 0 ? "no face found" : `${n} face${n > 1 ? "s" : ""}`);

function summary({ source, width, height, faces }: ImageAnalysis, seconds: number): string {
  if (faces.length === 0)
    return `${source} (${width}×${height}): no face found. Try a photo where a face is larger and seen from the front.`;
  return `${source} (${width}×${height}): ${faceCount(faces.length)}, in ${seconds.toFixed(1)} s.`;
}

/** The picture with each face's box and landmarks, and a card per face. */
function showAnalysis(picture: ImageBitmap, analysis: ImageAnalysis): void {
  drawPhoto(photoCanvas, picture, analysis);
  renderFaces(facesSection, analysis);
}

async function showPhoto(file: File, analyzer: FaceAnalyzer): Promise<void> {
  showStatus("working", `Analysing ${file.name}…`);
  facesSection.replaceChildren();
  photoCanvas.hidden = true;
  const started = performance.now();
  try {
    const photo = await readImage(file);
    try {
      const analysis = await analyzer.analyze(photo, file.name);
      showAnalysis(photo, analysis);
      showStatus("done", summary(analysis, (performance.now() - started) / 1000), analysis.faces.length);
    } finally {
      photo.close();
    }
  } catch (error) {
    showError(error);
  }
}

/** The camera in `video`, its frames analysed and shown until `signal` aborts; the camera is then released. */
async function runWebcam(analyzer: FaceAnalyzer, signal: AbortSignal): Promise<void> {
  const stream = await openCamera(video);
  let frames = 0;
  try {
    await analyseFrames(
      video,
      analyzer,
      (frame, analysis, fps) => {
        showAnalysis(frame, analysis);
        frameRate.dataset.fps = String(fps);
        frameRate.dataset.frames = String(++frames);
        frameRate.textContent = `${fps.toFixed(1)} frames/s, ${frames} analysed`;
        frameRate.hidden = false;
        showStatus("webcam", `Webcam (${analysis.width}×${analysis.height}): ${faceCount(analysis.faces.length)}.`, analysis.faces.length);
      },
      signal,
    );
  } finally {
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  }
}

/** Webcam mode while it is on: aborting `controller` ends it, then `done` settles. */
let webcam: { controller: AbortController; done: Promise<void> } | undefined;

function startWebcam(analyzer: FaceAnalyzer): void {
  const controller = new AbortController();
  showStatus("working", "Starting the webcam…");
  webcamButton.textContent = "Stop the webcam";
  const done = runWebcam(analyzer, controller.signal)
    .then(
      () => showStatus("ready", "Webcam stopped. Drop a photo, or start the webcam again."),
      (error: unknown) => showError(error),
    )
    .finally(() => {
      webcamButton.textContent = "Start the webcam";
      frameRate.hidden = true;
      webcam = undefined;
    });
  webcam = { controller, done };
}

async function stopWebcam(): Promise<void> {
  webcam?.controller.abort();
  await webcam?.done;
}

async function start(): Promise<void> {
  const analyzer = await FaceAnalyzer.load();
  let queue = Promise.resolve();
  const analyse = (file: File | undefined) => {
    if (file) queue = queue.then(stopWebcam).then(() => showPhoto(file, analyzer));
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
  webcamButton.addEventListener("click", () => (webcam ? void stopWebcam() : startWebcam(analyzer)));
  input.disabled = webcamButton.disabled = false;
  const heads = analyzer.manifest.outputs.heads.map((h) => h.name).join(", ");
  showStatus("ready", `Ready (model heads: ${heads}). Drop a photo or choose one, or start the webcam.`);
}

start().catch((error: unknown) => showError(error, "The demo could not start: "));
