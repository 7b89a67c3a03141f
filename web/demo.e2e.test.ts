/**
 * The browser demo end to end: `faceprior demo` serves the page with the bundled model, Debian's
 * Chromium (headless, driven by playwright-core) drops examples/astronaut.jpg on it, and what the
 * page shows is checked, then compared with `faceprior analyze --json` (FaceAnalyzer.analyze in
 * Node) on the same photo and model.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Page } from "playwright-core";
import sharp from "sharp";
import { EXPRESSION_CLASSES } from "../src/data/tasks.js";
import type { AnalyzedFace, ImageAnalysis } from "../src/inference/face-analyzer.js";
import type { FaceModelManifest } from "../src/face-model/face-model.js";
import { predictsAge } from "../src/model/head-activations.js";
import {
  BROWSER_NODE_TOLERANCE as TOLERANCE,
  browserSkip as skip,
  launchChromium,
  PAGE_TIMEOUT_MS,
  waitForStatus,
} from "../test/support/chromium.js";
import { startDemoCli } from "../test/support/demo-cli.js";
import { runCli } from "../test/support/run-cli.js";
import { REPO_ROOT } from "../test/support/shared-data.js";

const PHOTO = join(REPO_ROOT, "examples", "astronaut.jpg");

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "faceprior-web-demo-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What one face card shows: each head's kind, headline and labels with their probabilities. */
type ShownHead = {
  name: string;
  kind: string;
  headline: string;
  label?: string;
  value?: number;
  labels: { label: string; probability: number; text: string }[];
};
type ShownFace = { score: number; box: { x: number; y: number; width: number; height: number }; heads: ShownHead[] };

function readShownFaces(page: Page): Promise<ShownFace[]> {
  return page.$$eval('[data-testid="face"]', (cards) =>
    cards.map((card) => ({
      score: Number((card as HTMLElement).dataset.score),
      box: JSON.parse((card as HTMLElement).dataset.box!),
      heads: Array.from(card.querySelectorAll<HTMLElement>('[data-testid="head"]'), (head) => {
        const headline = head.querySelector<HTMLElement>(".headline");
        return {
          name: head.dataset.head!,
          kind: head.dataset.kind!,
          headline: headline?.textContent ?? "",
          label: headline?.dataset.label,
          value: headline?.dataset.value === undefined ? undefined : Number(headline.dataset.value),
          labels: Array.from(head.querySelectorAll<HTMLElement>('[data-testid="label"]'), (row) => ({
            label: row.dataset.label!,
            probability: Number(row.dataset.probability),
            text: row.textContent ?? "",
          })),
        };
      }),
    })),
  );
}

/** Chooses `file` with the page's file input and waits for the analysis to end; the status then. */
async function analyse(page: Page, file: string): Promise<{ state: string; text: string }> {
  await page.getByTestId("photo-input").setInputFiles(file);
  return waitForStatus(page, ["done", "error"]);
}

type BrowserRun = {
  status: string;
  faces: ShownFace[];
  unreadable: { state: string; text: string };
  faceless: { state: string; text: string };
};

/**
 * Opens the page and analyses `photo` (screenshot to `screenshot`), then a file that is no image
 * and an image without a face, on the same page.
 */
async function browserAnalysis(url: string, photo: string, screenshot: string): Promise<BrowserRun> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(url);
    const ready = await waitForStatus(page, ["ready", "error"]);
    assert.equal(ready.state, "ready", `the page did not start: ${ready.text} ${errors.join("; ")}`);
    const { text } = await analyse(page, photo);
    await page.screenshot({ path: screenshot, fullPage: true });
    const faces = await readShownFaces(page);
    await writeFile(join(dir, "notes.txt"), "not a photo");
    await sharp({ create: { width: 64, height: 64, channels: 3, background: "grey" } })
      .png()
      .toFile(join(dir, "grey.png"));
    const unreadable = await analyse(page, join(dir, "notes.txt"));
    const faceless = await analyse(page, join(dir, "grey.png"));
    assert.deepEqual(errors, [], "uncaught errors on the page");
    return { status: text, faces, unreadable, faceless };
  } finally {
    await browser.close();
  }
}

/** The largest difference between two probability tables over the same labels. */
function maxProbabilityDiff(shown: ShownHead, node: Record<string, number>): number {
  return Math.max(...shown.labels.map(({ label, probability }) => Math.abs(probability - node[label]!)));
}

/** One section per manifest head, each label with its probability; the age in years, an adult's; a known expression. */
function assertShowsEveryHead(face: ShownFace, manifest: FaceModelManifest): void {
  assert.deepEqual(
    face.heads.map((h) => h.name),
    manifest.outputs.heads.map((h) => h.name),
    "one section per head, in the manifest's order",
  );
  for (const spec of manifest.outputs.heads) {
    const head = face.heads.find((h) => h.name === spec.name)!;
    if (predictsAge(spec.activation)) continue;
    assert.deepEqual(head.labels.map((l) => l.label).sort(), [...spec.labels].sort(), `${spec.name}: every label shown`);
    for (const row of head.labels)
      assert.match(
        row.text,
        new RegExp(`^${row.label}.*${row.probability.toFixed(2)}$`),
        `${spec.name}: ${row.label} shows its probability`,
      );
  }
  const age = face.heads.find((h) => h.name === "age");
  assert.ok(age?.kind === "value" && age.headline === `${age.value!.toFixed(1)} years`, `age shown in years: ${age?.headline}`);
  assert.ok(age.value! >= 18 && age.value! <= 80, `an adult's age, got ${age.value}`);
  const expression = face.heads.find((h) => h.name === "expression");
  assert.ok(
    expression?.kind === "class" && (EXPRESSION_CLASSES as readonly string[]).includes(expression.label!),
    `expression is one of ${EXPRESSION_CLASSES.join(", ")}: ${expression?.label}`,
  );
}

/** The one face `faceprior analyze` (FaceAnalyzer.analyze) finds in `photo`. */
async function nodeFace(photo: string): Promise<AnalyzedFace> {
  const json = join(dir, "analysis.json");
  const run = await runCli(["analyze", "--json", json, photo], dir);
  assert.equal(run.code, 0, run.stderr);
  const [analysis] = (JSON.parse(await readFile(json, "utf8")) as { images: ImageAnalysis[] }).images as [ImageAnalysis];
  assert.equal(analysis.faces.length, 1, "Node finds one face too");
  return analysis.faces[0]!;
}

/** Asserts the shown face matches Node's within TOLERANCE; each difference, as text. */
function agreementWithNode(face: ShownFace, node: AnalyzedFace): string[] {
  const boxDiff = Math.max(...(["x", "y", "width", "height"] as const).map((k) => Math.abs(face.box[k] - node.box[k])));
  const agreement = [`detection score ${Math.abs(face.score - node.score).toExponential(1)}`, `box ${boxDiff.toFixed(2)} px`];
  assert.ok(Math.abs(face.score - node.score) <= TOLERANCE.score && boxDiff <= TOLERANCE.boxPixels, agreement.join(", "));
  for (const head of face.heads) {
    const expected = node.predictions[head.name]!;
    if (expected.kind === "value") {
      const diff = Math.abs(head.value! - expected.value);
      agreement.push(`${head.name} ${diff.toFixed(2)} (browser ${head.value!.toFixed(1)}, Node ${expected.value.toFixed(1)})`);
      assert.ok(diff <= TOLERANCE.age, `${head.name}: browser ${head.value}, Node ${expected.value}`);
      continue;
    }
    const diff = maxProbabilityDiff(head, expected.probabilities);
    agreement.push(
      `${head.name} max |Δp| ${diff.toFixed(4)}${expected.kind === "class" ? ` (browser ${head.label}, Node ${expected.label})` : ""}`,
    );
    assert.ok(diff <= TOLERANCE.probability, `${head.name}: probabilities differ by up to ${diff}`);
    if (expected.kind === "class") assert.equal(head.label, expected.label, `${head.name}: the same top class`);
  }
  return agreement;
}

test("the demo page shows one face with every head's predictions for the astronaut photo, agreeing with Node's FaceAnalyzer, and says when a file is no image or has no face", {
  skip,
  timeout: 5 * PAGE_TIMEOUT_MS,
}, async (t) => {
  const started = Date.now();
  const demo = await startDemoCli([], dir);
  let shown: BrowserRun;
  let manifest: FaceModelManifest;
  const screenshot = join(tmpdir(), "faceprior-demo-screenshot.png"); // outside `dir`, to outlive the test
  try {
    manifest = (await (await fetch(new URL("model/face-model.json", demo.url))).json()) as FaceModelManifest;
    shown = await browserAnalysis(demo.url, PHOTO, screenshot);
  } finally {
    await demo.stop();
  }
  t.diagnostic(
    `demo start, page load and three analyses in Chromium: ${((Date.now() - started) / 1000).toFixed(1)} s; screenshot ${screenshot}`,
  );

  assert.ok(shown.status.startsWith("astronaut.jpg (512×512): 1 face,"), shown.status);
  assert.equal(shown.faces.length, 1, "exactly one face");
  assertShowsEveryHead(shown.faces[0]!, manifest);
  assert.equal(shown.unreadable.state, "error");
  assert.match(shown.unreadable.text, /^notes\.txt: cannot be read as an image \(.+\)\. Use a photo: JPEG, PNG, WebP or GIF\.$/);
  assert.deepEqual(shown.faceless, {
    state: "done",
    text: "grey.png (64×64): no face found. Try a photo where a face is larger and seen from the front.",
  });

  // The strong check: the same numbers as Node's FaceAnalyzer.analyze on the same photo and model.
  t.diagnostic(`browser vs Node: ${agreementWithNode(shown.faces[0]!, await nodeFace(PHOTO)).join("; ")}`);
});
