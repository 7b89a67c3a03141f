/**
 * The browser entry (`faceprior/web`) and the demo page built on it, in headless Chromium whose
 * fake camera plays examples/astronaut.jpg (a Y4M video made at test time): the entry on every
 * input kind a page holds, against Node's FaceAnalyzer on the same photo; the demo's webcam mode;
 * the page on a 390 px wide phone screen.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { FaceAnalyzer, type ImageAnalysis } from "../src/inference/face-analyzer.js";
import { BROWSER_NODE_TOLERANCE, browserSkip as skip, launchChromium, PAGE_TIMEOUT_MS, waitForStatus } from "../test/support/chromium.js";
import { startDemoCli, type RunningDemo } from "../test/support/demo-cli.js";
import { writeY4mOfPhoto } from "../test/support/fake-camera.js";
import { REPO_ROOT } from "../test/support/shared-data.js";

const PHOTO = join(REPO_ROOT, "examples", "astronaut.jpg");
/** Where the 390 px screenshot goes (docs/demo-390px.png is a copy of one); overwritten by each run. */
const PHONE_SCREENSHOT = join(tmpdir(), "faceprior-demo-390px.png");
const PHONE = { width: 390, height: 844 };
/**
 * How far the face on the camera's frames of the photo may be from Node's on the photo itself.
 * The frames carry the photo through YUV 4:2:0, which shifts colours: that moved probabilities by
 * up to 0.1 and the age by 1.3 years, but the box and detection score not at all (measured once).
 * A frame that was mirrored, cropped or scaled on the way would move the box by far more.
 */
const CAMERA_BOX_PIXELS = 1;

let dir = "";
let demo: RunningDemo | undefined;
let browser: Browser | undefined;
let node: ImageAnalysis;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), "faceprior-web-entry-"));
  const camera = join(dir, "astronaut.y4m");
  await writeY4mOfPhoto(PHOTO, camera);
  const analyzer = await FaceAnalyzer.load();
  node = await analyzer.analyze(PHOTO).finally(() => analyzer.dispose());
  [demo, browser] = await Promise.all([startDemoCli([], dir), launchChromium({ fakeCamera: camera })]);
});
after(async () => {
  await browser?.close();
  await demo?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A page of the user's own: blank, at the demo's origin, with the import map of web/index.html. */
async function blankPage(): Promise<Page> {
  const importMap = /<script type="importmap">[\s\S]*?<\/script>/.exec(await readFile(join(REPO_ROOT, "web", "index.html"), "utf8"))![0];
  const page = await browser!.newPage();
  const url = new URL("my-page.html", demo!.url).href;
  await page.route(url, (route) =>
    route.fulfill({ contentType: "text/html", body: `<!doctype html><html><head>${importMap}</head><body></body></html>` }),
  );
  await page.goto(url);
  return page;
}

type Summary = Pick<ImageAnalysis, "source" | "width" | "height"> & {
  faces: Omit<ImageAnalysis["faces"][number], "landmarks" | "aligned">[];
};
type EntryRun = { analyses: Record<string, Summary>; errors: Record<string, string>; bitmapStillOpen: boolean };

/**
 * In the page: imports the entry, loads an analyzer and analyses the photo (`photoBase64`) as each
 * input kind, the camera's <video>, and inputs it must refuse.
 */
async function entryRun(jpegBase64: string): Promise<EntryRun> {
  const entry = (await import(new URL("web/faceprior-web.js", document.baseURI).href)) as typeof import("./faceprior-web.js");
  const analyzer = await entry.FaceAnalyzer.load();
  const file = new File([Uint8Array.from(atob(jpegBase64), (c) => c.charCodeAt(0))], "astronaut.jpg", { type: "image/jpeg" });
  const img = new Image();
  img.src = URL.createObjectURL(file);
  await img.decode();
  const bitmap = await createImageBitmap(img);
  const canvas = Object.assign(document.createElement("canvas"), { width: bitmap.width, height: bitmap.height });
  canvas.getContext("2d")!.drawImage(bitmap, 0, 0);
  const offscreen = new OffscreenCanvas(bitmap.width, bitmap.height);
  offscreen.getContext("2d")!.drawImage(bitmap, 0, 0);
  const imageData = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
  const video = Object.assign(document.createElement("video"), {
    muted: true,
    srcObject: await navigator.mediaDevices.getUserMedia({ video: true }),
  });
  await video.play();
  const analyses: Record<string, Summary> = {};
  for (const [kind, input] of Object.entries({ img, canvas, offscreen, bitmap, imageData, file, video })) {
    const { source, width, height, faces } = await analyzer.analyze(input);
    analyses[kind] = { source, width, height, faces: faces.map(({ score, box, predictions }) => ({ score, box, predictions })) };
  }
  const errorOf = (input: unknown) =>
    analyzer.analyze(input as File).then(
      () => "no error",
      (e: { code: string; message: string }) => `${e.code}: ${e.message}`,
    );
  const errors = {
    unloadedImage: await errorOf(new Image()),
    videoWithoutFrame: await errorOf(document.createElement("video")),
    emptyCanvas: await errorOf(Object.assign(document.createElement("canvas"), { width: 0 })),
    url: await errorOf("astronaut.jpg"),
    textFile: await errorOf(new File(["not a photo"], "notes.txt")),
  };
  (video.srcObject as MediaStream).getTracks().forEach((track) => track.stop());
  await analyzer.dispose();
  return { analyses, errors, bitmapStillOpen: bitmap.width > 0 };
}

/** The largest differences between a browser analysis's one face and Node's: score, box, probability, age. */
function differences(browserFace: Summary["faces"][number], nodeFace: ImageAnalysis["faces"][number]) {
  const box = Math.max(...(["x", "y", "width", "height"] as const).map((k) => Math.abs(browserFace.box[k] - nodeFace.box[k])));
  let probability = 0;
  let age = 0;
  for (const [head, expected] of Object.entries(nodeFace.predictions)) {
    const shown = browserFace.predictions[head]!;
    if (expected.kind === "value" && shown.kind === "value") age = Math.abs(shown.value - expected.value);
    else if (expected.kind !== "value" && shown.kind !== "value") {
      for (const [label, p] of Object.entries(expected.probabilities))
        probability = Math.max(probability, Math.abs(shown.probabilities[label]! - p));
    }
  }
  return { score: Math.abs(browserFace.score - nodeFace.score), box, probability, age };
}

test("faceprior/web analyses an <img>, canvas, OffscreenCanvas, ImageBitmap, ImageData, File and camera <video> of the photo as Node does, and refuses what it cannot read", {
  skip,
  timeout: 4 * PAGE_TIMEOUT_MS,
}, async (t) => {
  const page = await blankPage();
  const run = await page.evaluate(entryRun, (await readFile(PHOTO)).toString("base64"));
  await page.close();

  const { img, video, ...sameDecode } = run.analyses;
  const sources = Object.fromEntries(Object.entries(run.analyses).map(([kind, a]) => [kind, a.source]));
  assert.deepEqual(sources, {
    img: "<HTMLImageElement>",
    canvas: "<HTMLCanvasElement>",
    offscreen: "<OffscreenCanvas>",
    bitmap: "<ImageBitmap>",
    imageData: "<ImageData>",
    file: "astronaut.jpg",
    video: "<HTMLVideoElement>",
  });
  assert.ok(
    img!.width === 512 && img!.height === 512 && img!.faces.length === 1,
    `the <img>: ${img!.width}x${img!.height}, ${img!.faces.length} faces`,
  );
  // The same decoded pixels, however they arrive, give the same numbers.
  for (const [kind, analysis] of Object.entries(sameDecode))
    assert.deepEqual({ ...analysis, source: "" }, { ...img!, source: "" }, `${kind} = <img>`);
  const fromImage = differences(img!.faces[0]!, node.faces[0]!);
  t.diagnostic(`<img> vs Node: ${JSON.stringify(fromImage)}`);
  assert.ok(
    fromImage.score <= BROWSER_NODE_TOLERANCE.score && fromImage.box <= BROWSER_NODE_TOLERANCE.boxPixels,
    JSON.stringify(fromImage),
  );
  assert.ok(
    fromImage.probability <= BROWSER_NODE_TOLERANCE.probability && fromImage.age <= BROWSER_NODE_TOLERANCE.age,
    JSON.stringify(fromImage),
  );

  assert.ok(
    video!.width === 512 && video!.height === 512 && video!.faces.length === 1,
    `the camera frame: ${video!.width}x${video!.height}, ${video!.faces.length} faces`,
  );
  const fromCamera = differences(video!.faces[0]!, node.faces[0]!);
  t.diagnostic(`camera <video> (the photo through YUV 4:2:0) vs Node: ${JSON.stringify(fromCamera)}`);
  assert.ok(fromCamera.box <= CAMERA_BOX_PIXELS && fromCamera.score <= BROWSER_NODE_TOLERANCE.score, JSON.stringify(fromCamera));
  assert.ok(run.bitmapStillOpen, "the caller's ImageBitmap is not closed by analyze");

  const { textFile, ...errors } = run.errors;
  assert.deepEqual(errors, {
    unloadedImage: "BAD_IMAGE: <HTMLImageElement>: the image has no src. Await img.decode() before analysing it.",
    videoWithoutFrame:
      'BAD_IMAGE: <HTMLVideoElement>: the video has no frame yet. Wait for its "loadeddata" event (or await video.play()) before analysing it.',
    emptyCanvas: "BAD_IMAGE: <HTMLCanvasElement>: the canvas is 0x150. Give it a size and draw into it first.",
    url: 'BAD_ARGUMENT: input: "astronaut.jpg" (a string) is not an image FaceAnalyzer reads. Pass an <img>, a <video>, a <canvas>, an OffscreenCanvas, an ImageBitmap, an ImageData or a Blob/File; for a URL, load it into an <img> and await img.decode().',
  });
  assert.match(textFile!, /^BAD_IMAGE: notes\.txt: cannot be read as an image \(.+\)\. Use a photo: JPEG, PNG, WebP or GIF\.$/);
});

/** The demo page at `viewport`, once it is ready; uncaught errors on it are collected in `errors`. */
async function readyDemoPage(viewport: { width: number; height: number }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage({ viewport });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(demo!.url);
  const ready = await waitForStatus(page, ["ready", "error"]);
  assert.equal(ready.state, "ready", `the page did not start: ${ready.text} ${errors.join("; ")}`);
  return { page, errors };
}

test("the demo's webcam mode analyses camera frames in a loop with the frame rate shown, and Stop releases the camera", {
  skip,
  timeout: 4 * PAGE_TIMEOUT_MS,
}, async (t) => {
  const { page, errors } = await readyDemoPage({ width: 1200, height: 900 });
  const button = page.getByTestId("webcam-button");
  await button.click();
  await page.waitForFunction(
    () => Number(document.querySelector<HTMLElement>('[data-testid="frame-rate"]')?.dataset.frames) >= 3,
    undefined,
    { timeout: PAGE_TIMEOUT_MS },
  );
  const running = {
    status: await waitForStatus(page, ["webcam"]),
    faceCount: await page.getByTestId("status").getAttribute("data-face-count"),
    frameRate: (await page.getByTestId("frame-rate").textContent())!,
    fps: Number(await page.getByTestId("frame-rate").getAttribute("data-fps")),
    box: JSON.parse((await page.getByTestId("face").first().getAttribute("data-box"))!) as ImageAnalysis["faces"][number]["box"],
    button: await button.textContent(),
  };
  await button.click();
  const stopped = await waitForStatus(page, ["ready", "error"]);
  const released = await page.evaluate(() => (document.getElementById("webcam") as HTMLVideoElement).srcObject === null);
  const frameRateShown = await page.getByTestId("frame-rate").isVisible();
  await page.close();

  t.diagnostic(`webcam mode: ${running.status.text} ${running.frameRate}`);
  assert.equal(running.status.text, "Webcam (512×512): 1 face.");
  assert.equal(running.faceCount, "1");
  assert.match(running.frameRate, /^\d+\.\d frames\/s, \d+ analysed$/);
  assert.ok(running.fps > 0, `frames per second: ${running.fps}`);
  const boxDiff = Math.max(...(["x", "y", "width", "height"] as const).map((k) => Math.abs(running.box[k] - node.faces[0]!.box[k])));
  assert.ok(boxDiff <= CAMERA_BOX_PIXELS, `the camera frame's face box is ${boxDiff.toFixed(2)} px from Node's on the photo`);
  assert.equal(running.button, "Stop the webcam");
  assert.deepEqual(stopped, { state: "ready", text: "Webcam stopped. Drop a photo, or start the webcam again." });
  assert.ok(released && !frameRateShown, "Stop releases the camera and hides the frame rate");
  assert.deepEqual(errors, [], "uncaught errors on the page");
});

test("the demo page fits a 390 px wide phone: with a photo analysed, nothing sticks out sideways", {
  skip,
  timeout: 4 * PAGE_TIMEOUT_MS,
}, async (t) => {
  const { page, errors } = await readyDemoPage(PHONE);
  await page.getByTestId("photo-input").setInputFiles(PHOTO);
  const done = await waitForStatus(page, ["done", "error"]);
  const layout = await page.evaluate(
    (width) => ({
      scrollWidth: document.documentElement.scrollWidth,
      outside: Array.from(document.querySelectorAll("body *"), (el) => [el, el.getBoundingClientRect()] as const)
        .filter(([, r]) => r.width > 0 && (r.left < 0 || r.right > width + 0.5))
        .map(
          ([el, r]) =>
            `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.className ? `.${el.className}` : ""} (${r.left.toFixed(0)} to ${r.right.toFixed(0)} px)`,
        ),
    }),
    PHONE.width,
  );
  await page.screenshot({ path: PHONE_SCREENSHOT, fullPage: true });
  await page.close();

  t.diagnostic(`screenshot at ${PHONE.width} px: ${PHONE_SCREENSHOT}`);
  assert.equal(done.state, "done", done.text);
  assert.equal(layout.scrollWidth, PHONE.width, "no sideways scrolling");
  assert.deepEqual(layout.outside, [], "elements reaching past the screen's edge");
  assert.deepEqual(errors, [], "uncaught errors on the page");
});
