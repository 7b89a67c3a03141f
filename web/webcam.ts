/**
 * The demo's webcam mode: the camera's stream in a <video>, and its frames analysed one after
 * another, each taken as soon as the last one is shown, with the frame rate of the last few.
 */
import { FacepriorError } from "../src/errors.js";
import type { ImageAnalysis } from "../src/inference/face-analyzer.js";
import { readImage, type FaceAnalyzer } from "./faceprior-web.js";

/** Frames the frame rate is averaged over: steady to read, quick to follow a change. */
const FRAMES_AVERAGED = 10;

/** Plays the default camera in `video`; the returned stream's tracks are the camera, stopped by the caller. */
export async function openCamera(video: HTMLVideoElement): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new FacepriorError(
      "NO_DEVICE",
      "webcam: this page may not use a camera (browsers allow it only over https or on localhost). Open the demo at http://127.0.0.1 or over https.",
    );
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  } catch (error) {
    const { name, message } = error as DOMException;
    throw new FacepriorError(
      "NO_DEVICE",
      `webcam: the browser gave no camera (${name}: ${message.replace(/\.$/, "")}). Allow this page to use the camera, and check that one is connected.`,
    );
  }
  video.srcObject = stream;
  await video.play();
  return stream;
}

/** A meter to call once per frame; it returns frames per second over the last FRAMES_AVERAGED frames (0 for the first). */
function frameRateMeter(): () => number {
  const times: number[] = [];
  return () => {
    times.push(performance.now());
    if (times.length > FRAMES_AVERAGED + 1) times.shift();
    return times.length < 2 ? 0 : (1000 * (times.length - 1)) / (times[times.length - 1]! - times[0]!);
  };
}

type ShowFrame = (frame: ImageBitmap, analysis: ImageAnalysis, framesPerSecond: number) => void;

/** Analyses `video`'s frames until `signal` aborts, handing each frame and its analysis to `show`. */
export async function analyseFrames(video: HTMLVideoElement, analyzer: FaceAnalyzer, show: ShowFrame, signal: AbortSignal): Promise<void> {
  const meter = frameRateMeter();
  while (!signal.aborted) {
    // The frame is taken once and shown with its own analysis, so boxes never lag the picture.
    const frame = await readImage(video, "webcam");
    try {
      const analysis = await analyzer.analyze(frame, "webcam");
      if (!signal.aborted) show(frame, analysis, meter());
    } finally {
      frame.close();
    }
    // A task boundary: the page paints the frame and handles a click on Stop before the next.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}
