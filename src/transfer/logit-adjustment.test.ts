import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ADJUSTMENT_STRENGTHS,
  adjustedBias,
  bootstrapResamples,
  chooseAdjustment,
  hostLogits,
  logGroupPrior,
  logitShift,
} from "./logit-adjustment.js";

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-5, `${what}: ${a} vs ${b}`);

test("the prior is add-one smoothed group frequencies, in logs", () => {
  const prior = logGroupPrior([0, 0, 1], 3); // counts 2, 1, 0 of 3 faces: (n_g + 1) / (3 + 3)
  [3 / 6, 2 / 6, 1 / 6].forEach((p, g) => close(prior[g]!, Math.log(p), `group ${g}`));
});

test("each logit moves by −τ·log π of its group", () => {
  const shift = logitShift([1, 0, 1], [Math.log(0.5), Math.log(0.25)], 2);
  [-2 * Math.log(0.25), -2 * Math.log(0.5), -2 * Math.log(0.25)].forEach((v, j) => close(shift[j]!, v, `logit ${j}`));
});

test("host logits are features · weightᵀ + bias with timm's [K, D] weight", () => {
  const features = Float32Array.from([1, 2, 3, 4]); // two faces, D = 2
  const weight = Float32Array.from([1, 0, 0, 1, 1, 1]); // K = 3
  const got = hostLogits(features, weight, Float32Array.from([0, 10, 100]));
  assert.deepEqual([...got], [1, 12, 103, 3, 14, 107]);
});

/**
 * Training faces: 100 of class 0 and 1 of each other class, so log π_0 − log π_c = log(101 / 2) ≈ 3.92.
 * One validation face per class whose logits are 1 for its class plus log π (what the prior puts in).
 * Adjusted, logit j is evidence_j + (1 − τ)·log π_j: a rare face wins iff 1 > (1 − τ)·3.92 (τ >= 0.75),
 * a class-0 face iff 1 > (τ − 1)·3.92 (τ <= 1.25). So τ = 0 calls every face class 0 (macro F1: class
 * 0's 2·1/(2 + 6) over 7 classes = 1/28), 0.75 is the first strength to get all 7 right (1), and
 * 1.5 calls the class-0 face class 1 (the first of the tied rare classes): F1 0, 2/3 and five 1s, 17/21.
 */
test("τ is the smallest strength with the best macro F1 on the validation faces", async () => {
  const k = 7;
  const train = Float32Array.from([...new Array<number>(100).fill(0), 1, 2, 3, 4, 5, 6]);
  const logPrior = logGroupPrior([...train], k);
  const logits = new Float32Array(k * k);
  for (let face = 0; face < k; face++) for (let j = 0; j < k; j++) logits[face * k + j] = (face === j ? 1 : 0) + logPrior[j]!;
  const labels = Float32Array.from({ length: k }, (_, c) => c);
  const chosen = await chooseAdjustment("expression", logits, labels, train);
  assert.equal(chosen.tau, 0.75);
  assert.equal(chosen.metric, "macro F1");
  assert.equal(chosen.valFaces, k);
  assert.deepEqual(
    chosen.byStrength.map((s) => s.tau),
    [...ADJUSTMENT_STRENGTHS],
  );
  close(chosen.byStrength[0]!.value, 1 / 28, "τ = 0");
  close(chosen.byStrength.at(-1)!.value, 17 / 21, "τ = 1.5");
  const bias = adjustedBias("expression", new Float32Array(k), chosen);
  close(bias[0]! - bias[1]!, -0.75 * (logPrior[0]! - logPrior[1]!), "the bias carries the chosen shift");
});

/**
 * The training prior of the test above (class 0 common, log π_0 − log π_c ≈ 3.92). Validation: 40
 * class-0 faces and 10 faces of each rare class with clear evidence (right at every τ up to 1),
 * then `unsure` class-1 faces and `mislabelled` class-0 faces whose logits both favour class 1 by
 * 3.5 nats: class 0 wins them at τ = 0 (3.5 < 3.92), class 1 from τ = 0.25 (3.5 > 0.75·3.92).
 */
async function unsureFaces(unsure: number, mislabelled: number, rule: "best" | "one-standard-error") {
  const k = 7;
  const train = Float32Array.from([...new Array<number>(100).fill(0), 1, 2, 3, 4, 5, 6]);
  const logPrior = logGroupPrior([...train], k);
  const groups: [count: number, label: number, favoured: number, evidence: number][] = [
    [40, 0, 0, 0],
    ...[1, 2, 3, 4, 5, 6].map((c): [number, number, number, number] => [10, c, c, 6]),
    [unsure, 1, 1, 3.5],
    [mislabelled, 0, 1, 3.5],
  ];
  const logits: number[] = [];
  const labels: number[] = [];
  for (const [count, label, favoured, evidence] of groups)
    for (let face = 0; face < count; face++) {
      labels.push(label);
      for (let j = 0; j < k; j++) logits.push((j === favoured ? evidence : 0) + logPrior[j]!);
    }
  return chooseAdjustment("expression", Float32Array.from(logits), Float32Array.from(labels), train, rule);
}

test("rule one-standard-error keeps τ = 0 when the best strength wins by less than the noise", async () => {
  // 3 faces gained, 3 lost: τ = 0.25 is best by 0.0035 of macro F1 on 106 faces.
  const best = await unsureFaces(3, 3, "best");
  assert.equal(best.tau, 0.25);
  assert.equal(best.byStrength[0]!.shortfallError, undefined, "rule best computes no errors");
  const careful = await unsureFaces(3, 3, "one-standard-error");
  assert.equal(careful.rule, "one-standard-error");
  assert.deepEqual(
    careful.byStrength.map((s) => s.value),
    best.byStrength.map((s) => s.value),
    "the same validation scores",
  );
  const [tau0, tau25] = careful.byStrength;
  assert.equal(tau25!.shortfallError, 0, "the best strength falls short of itself by exactly 0 in every resample");
  assert.ok(tau25!.value - tau0!.value < tau0!.shortfallError!, `shortfall ${tau25!.value - tau0!.value} vs ${tau0!.shortfallError}`);
  assert.equal(careful.tau, 0);
});

test("rule one-standard-error keeps a gain larger than its standard error", async () => {
  // 30 faces gained, 2 lost: τ = 0.25 is best by 0.12, many standard errors.
  const careful = await unsureFaces(30, 2, "one-standard-error");
  const [tau0, tau25] = careful.byStrength;
  assert.ok(tau25!.value - tau0!.value > 3 * tau0!.shortfallError!, `shortfall ${tau25!.value - tau0!.value} vs ${tau0!.shortfallError}`);
  assert.equal(careful.tau, 0.25);
});

test("bootstrap resamples are seeded draws of row indices with replacement", () => {
  const [first, second] = [bootstrapResamples(50, 20, 7), bootstrapResamples(50, 20, 7)];
  assert.deepEqual(first, second, "the same seed draws the same rows");
  assert.notDeepEqual(bootstrapResamples(50, 20, 8), first, "another seed draws others");
  assert.ok(first.every((rows) => rows.length === 50 && rows.every((row) => row < 50)));
  // With replacement: a resample of 50 rows holds about 1 − 1/e ≈ 63% of them, never all in 20 tries.
  const distinct = first.map((rows) => new Set(rows).size);
  assert.ok(Math.max(...distinct) < 50 && Math.min(...distinct) > 20, `distinct rows ${distinct}`);
});

test("an age bin moves with its decade's prior, and τ lowers the per-decade error when the prior pulls to the middle", async () => {
  // Training ages all 25: decade 2 holds the prior. Validation: ages 5 and 75, whose logits favour their
  // own bin by 3 nats but carry the prior too, so the expectation is drawn towards 25.
  const train = new Float32Array(200).fill(25);
  const logPrior = logGroupPrior(
    Array.from(train, (a) => Math.floor(a / 10)),
    8,
  );
  const valAges = Float32Array.from([5, 75]);
  const logits = new Float32Array(2 * 101);
  valAges.forEach((age, face) => {
    for (let bin = 0; bin <= 100; bin++) logits[face * 101 + bin] = (bin === age ? 3 : 0) + logPrior[Math.min(7, Math.floor(bin / 10))]!;
  });
  const chosen = await chooseAdjustment("age", logits, valAges, train);
  assert.equal(chosen.higherIsBetter, false);
  assert.ok(chosen.tau > 0, `τ ${chosen.tau}`);
  assert.ok(chosen.byStrength.find((s) => s.tau === chosen.tau)!.value < chosen.byStrength[0]!.value);
  const bias = adjustedBias("age", new Float32Array(101), chosen);
  close(bias[15]!, -chosen.tau * logPrior[1]!, "bin 15 is in 10-19");
  close(bias[100]!, -chosen.tau * logPrior[7]!, "bin 100 is in 70+");
});

test("a head that is not a softmax over groups is refused by name", async () => {
  await assert.rejects(
    chooseAdjustment("attributes", new Float32Array(40), new Float32Array(40), new Float32Array(40)),
    /logit adjustment: the attributes head is not a softmax over groups\. Adjust only expression and age heads\./,
  );
});
