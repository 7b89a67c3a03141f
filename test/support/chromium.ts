/**
 * Driving Debian's Chromium from tests (playwright-core, headless): where it is, the flags that
 * keep it off this machine's closed network, why a browser test skips, and waiting on the demo
 * page's status line.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { DEFAULT_MODEL_PATH } from "../../src/inference/face-analyzer.js";

export const CHROMIUM = "/usr/bin/chromium";
/** The flags that keep Chromium off this machine's closed network; root needs --no-sandbox. */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** Loading the teacher and the model, or one analysis, on a busy 2-core machine. */
export const PAGE_TIMEOUT_MS = 120_000;

/** false, or why a test of the page in Chromium with the bundled model skips. */
export const browserSkip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is missing: the browser test needs Debian's Chromium (apt-get install -y chromium; .ci/run installs it)`
  : !existsSync(DEFAULT_MODEL_PATH)
    ? `${DEFAULT_MODEL_PATH} is absent: the browser test runs the bundled default model`
    : false;

/** Headless Chromium; with `fakeCamera` (a .y4m or .mjpeg file) its camera is that video, allowed without asking. */
export function launchChromium({ fakeCamera }: { fakeCamera?: string } = {}): Promise<Browser> {
  const camera = fakeCamera
    ? ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", `--use-file-for-fake-video-capture=${fakeCamera}`]
    : [];
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...camera] });
}

/** Waits until the demo page's status line is in one of `states`; its state and text then. */
export async function waitForStatus(page: Page, states: readonly string[]): Promise<{ state: string; text: string }> {
  await page.waitForSelector(states.map((s) => `[data-testid="status"][data-state="${s}"]`).join(", "), { timeout: PAGE_TIMEOUT_MS });
  const status = page.getByTestId("status");
  return { state: (await status.getAttribute("data-state"))!, text: (await status.textContent())! };
}

/**
 * How closely the browser must reproduce Node. Both run the same teacher (Human on tfjs wasm) on
 * the same pixels (Chromium and sharp decode examples/astronaut.jpg identically) and the same
 * ONNX graph; what differs is the alignment warp: canvas drawImage against warpAffine, both
 * bilinear, whose crops of this photo differ by at most 1 grey level (mean 0.005, measured once).
 * With the bundled model that moved no probability by more than 0.0007 and the age by 0.02
 * years, the detection score and box not at all. The tolerances leave over 10x that, and still
 * fail a real fault: a crop shifted by one pixel moved AU and attribute probabilities by up to
 * 0.16 and the age by 3.3 years.
 */
export const BROWSER_NODE_TOLERANCE = { probability: 0.01, age: 0.5, score: 1e-3, boxPixels: 0.5 };
