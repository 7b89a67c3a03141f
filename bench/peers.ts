/**
 * faceprior next to the JavaScript face-analysis packages on the same test faces (issue #12):
 * the bundled model through FaceAnalyzer, @vladmandic/human and @vladmandic/face-api, all
 * offline in Node with their models from their own packages. Expression on FER2013's PrivateTest
 * faces, age (and gender) on UTKFace's test split, gender on CelebA-HQ's test split (the
 * project's split code, the faces the bundled model's heads were held out on), and expression on
 * CK+'s held-out subjects, a dataset no expression head here was trained on
 * (bench/peers/test-sets.ts). Prints markdown tables and writes every number to
 * bench/results/peers.json. How each system is loaded and how its expression labels map onto the
 * 7 classes: bench/peers/systems.ts, bench/peers/labels.ts.
 *
 *   npm run build && node dist/bench/peers.js [--limit 200] [--data ../shared/data]
 *       [--sets fer2013,utkface,celebahq_attr,ckplus_au] [--systems faceprior,human,face-api]
 *       [--model <face model>] [--out bench/results/peers.json]
 *
 * `--model` scores another face model in faceprior's place (a candidate for the bundled one).
 */
import "./errors-without-stack.js";
import { parseArgs } from "node:util";
import { createProgress } from "../src/cli/progress.js";
import { invalidArgument } from "../src/errors.js";
import { writeJsonAtomic } from "../src/io/atomic-write.js";
import { setReport, type SetResult, type SystemRun } from "./peers/report.js";
import { scoreAnswers } from "./peers/scores.js";
import { SYSTEMS, type FaceAnswer, type SystemSpec } from "./peers/systems.js";
import { loadTestSet, TEST_SETS, type TestSet } from "./peers/test-sets.js";

const { values: args } = parseArgs({
  options: {
    limit: { type: "string" },
    data: { type: "string", default: "../shared/data" },
    sets: { type: "string", default: TEST_SETS.map((s) => s.folder).join(",") },
    systems: { type: "string", default: SYSTEMS.map((s) => s.name).join(",") },
    out: { type: "string", default: "bench/results/peers.json" },
    model: { type: "string" },
  },
});

function chosenLimit(): number | undefined {
  if (args.limit === undefined) return undefined;
  const limit = Number(args.limit);
  if (!Number.isInteger(limit) || limit < 1) throw invalidArgument("limit", "a positive whole number of faces per test set", args.limit);
  return limit;
}

/** The items of `all` that option `option`'s comma-separated value names, in its order. */
function chosenByName<T>(option: "systems" | "sets", all: readonly T[], nameOf: (item: T) => string): T[] {
  return args[option]!.split(",").map((name) => {
    const item = all.find((candidate) => nameOf(candidate) === name.trim());
    if (!item) throw invalidArgument(option, `a comma-separated list of ${all.map(nameOf).join(", ")}`, name);
    return item;
  });
}

async function answersOf(system: SystemSpec, set: TestSet) {
  const loadStart = performance.now();
  const loaded = await system.load(set.pad, args.model);
  const start = performance.now();
  const progress = createProgress({ total: set.faces.length, label: `${set.folder} ${system.name}`, unit: "images" });
  const answers: (FaceAnswer | undefined)[] = [];
  for (const face of set.faces) {
    answers.push(await loaded.answer(face.file));
    progress.advance(1);
  }
  progress.finish();
  const seconds = (performance.now() - start) / 1000;
  await loaded.dispose();
  return { answers, loadSeconds: (start - loadStart) / 1000, seconds };
}

/** Every system on one test set, scored on all its faces and on the faces every system found. */
async function compareOn(set: TestSet, systems: readonly SystemSpec[]): Promise<SetResult> {
  const outcomes: ({ system: string } & Awaited<ReturnType<typeof answersOf>>)[] = [];
  for (const system of systems) outcomes.push({ system: system.name, ...(await answersOf(system, set)) });
  const common = set.faces.flatMap((_, i) => (outcomes.every((o) => o.answers[i] !== undefined) ? [i] : []));
  const runs: SystemRun[] = outcomes.map(({ system, answers, loadSeconds, seconds }) => ({
    system,
    loadSeconds,
    seconds,
    imagesPerSecond: set.faces.length / seconds,
    scores: scoreAnswers(set, set.faces, answers),
    commonScores:
      common.length === 0
        ? undefined
        : scoreAnswers(
            set,
            common.map((i) => set.faces[i]!),
            common.map((i) => answers[i]),
          ),
  }));
  const { faces, ...about } = set;
  return { ...about, faces: faces.length, commonFaces: common.length, runs };
}

const limit = chosenLimit();
const systems = chosenByName("systems", SYSTEMS, (s) => s.name);
const specs = chosenByName("sets", TEST_SETS, (s) => s.folder);
const results: SetResult[] = [];
for (const spec of specs) {
  const set = await loadTestSet(args.data!, spec, limit);
  if (!set) {
    console.error(
      `peers: skipping ${spec.folder}: no ${spec.folder}/manifest.csv under ${args.data} (the shared data is not here; pass --data).`,
    );
    continue;
  }
  results.push(await compareOn(set, systems));
  console.log(`${setReport(results.at(-1)!)}\n`);
}
if (results.length === 0) {
  console.error(`peers: nothing to compare, none of ${specs.map((s) => s.folder).join(", ")} is under ${args.data}.`);
} else {
  const about = systems.map((s) => ({ name: s.name, loaded: s.describe(args.model), expressionMapping: s.expressionMapping }));
  await writeJsonAtomic(args.out!, {
    date: new Date().toISOString(),
    limit: limit ?? null,
    data: args.data,
    systems: about,
    sets: results,
  });
  for (const s of about) console.log(`- ${s.name}: ${s.loaded}; expression labels ${s.expressionMapping}`);
  console.log(`\nwritten to ${args.out}`);
}
