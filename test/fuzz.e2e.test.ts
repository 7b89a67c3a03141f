/**
 * Fuzzing, bounded and seeded: a small valid face model and a small valid PNG, each mutated in
 * seeded ways (bits flipped, header numbers changed or inflated, NaN written into the weights,
 * truncated, extended) and read as faceprior reads them. Every case must end, in time, in a
 * clear error or a correct result (test/fixtures/fuzz/fuzz-run.ts); never a hang, a crash or NaN.
 * Each target runs in a child process under a watchdog, so a hang or a native crash is reported
 * with the case that caused it instead of stopping the suite.
 */
import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import type { FuzzMessage } from "./fixtures/fuzz/fuzz-run.js";
import { scratchDir } from "./support/scratch-dir.js";

const RUNNER = fileURLToPath(new URL("./fixtures/fuzz/fuzz-run.js", import.meta.url));
const SEED = 13;
const CASES = { checkpoint: 3000, png: 2000 };
/** A case that takes this long is a hang: the slowest takes well under a second. */
const CASE_LIMIT_MS = 10_000;

type Outcome = { cases: number; errors: number; results: number; seconds: number; failures: string[] };

/** Runs `cases` cases of `target` in a child process; a silent child is killed and the case named. */
function fuzz(target: keyof typeof CASES, dir: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = fork(RUNNER, [target, String(SEED), String(CASES[target]), dir], { stdio: ["ignore", "ignore", "pipe", "ipc"] });
    const failures: string[] = [];
    let current = "before the first case";
    let stderr = "";
    let done: Omit<Outcome, "failures"> | undefined;
    let watchdog: NodeJS.Timeout;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        failures.push(`${current}: no answer within ${CASE_LIMIT_MS / 1000} s (a hang)`);
        child.kill("SIGKILL");
      }, CASE_LIMIT_MS);
    };
    arm();
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    child.on("message", (message: FuzzMessage) => {
      arm();
      if ("start" in message) current = `case ${message.start} (${message.mutation})`;
      else if ("failure" in message) failures.push(`case ${message.index} (${message.mutation}): ${message.failure}`);
      else done = message.done;
    });
    child.on("close", (code, signal) => {
      clearTimeout(watchdog);
      if (!done && failures.length === 0)
        failures.push(`${current}: the process ended (${signal ?? `exit ${code}`}): ${stderr.slice(-2000)}`);
      resolve({ cases: 0, errors: 0, results: 0, seconds: 0, ...done, failures });
    });
  });
}

for (const target of Object.keys(CASES) as (keyof typeof CASES)[]) {
  test(`fuzz: ${CASES[target]} mutated ${target === "png" ? "PNGs" : "face model checkpoints"} each end in a clear error or a correct result, never a hang, a crash or NaN`, {
    timeout: 120_000,
  }, async (t) => {
    const outcome = await fuzz(target, await scratchDir(`faceprior-fuzz-${target}-`));
    t.diagnostic(
      `${target}: ${outcome.cases} cases in ${outcome.seconds.toFixed(1)} s: ${outcome.errors} clear errors, ${outcome.results} correct results (seed ${SEED})`,
    );
    assert.deepEqual(outcome.failures.slice(0, 5), []);
    assert.equal(outcome.cases, CASES[target]);
  });
}
