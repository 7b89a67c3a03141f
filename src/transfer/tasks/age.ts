/**
 * Age as label distribution learning (DLDL; METHOD §3): K = 101 bins, ages 0..100.
 *
 * Target: a discretised Gaussian around the true age y, normalised over the bins,
 *
 *   t_a = exp(−(a − y)² / 2σ²) / Σ_a' exp(−(a' − y)² / 2σ²),   a = 0..100,  σ = 2 years,
 *
 * computed on device from the ages [B]. Ages above 100 (UTKFace goes to 116) are clipped to 100
 * for the target only: the metrics compare the prediction with the true age, so such a face
 * costs at least age − 100 years of error. Below 0 is clipped to 0 (the data has none).
 *
 * Loss: KL(t ‖ softmax(x)) = Σ_a t_a (log t_a − log q_a), mean over the batch. It equals the
 * cross-entropy −Σ t_a log q_a minus the target's entropy, which does not depend on the logits:
 * the same gradients, and 0 at a perfect fit, which makes the logged value readable. log t is
 * taken in closed form (the exponent minus its logsumexp), so bins where t underflows to 0 add 0.
 *
 * Prediction: the expectation Σ_a q_a · a, in years. Headline: MAE in years (lower is better),
 * with CS@5 and the error per decade of true age; the trivial baseline predicts the mean
 * training age.
 */
import { nn, numpy as np, type Array } from "../../engine/jax.js";
import { MAX_PREDICTED_AGE, NUM_AGE_BINS } from "../../model/head-activations.js";
import { binAges, expectedAge } from "../../model/vit.js";
import { meanAgeBaseline } from "../baselines.js";
import { initTaskHead } from "../heads.js";
import { cumulativeScore, maeByDecade, meanAbsoluteError } from "../metrics.js";
import { ageErrorSpec } from "../transfer-plots.js";
import { defineTask, fixedOutputs, singleLabels, taskError, type LabelRows, type TaskLoss } from "./definition.js";

export const DEFAULT_AGE_SIGMA = 2;

export type AgeLossOptions = { sigma: number };

/** log t for ages [B] (years, clipped to 0..100): [B, 101] in `dtype`. */
export function logAgeTarget(ages: Array, sigma: number, dtype: Array["dtype"] = np.float32): Array {
  const clipped = np.clip(ages.astype(dtype), 0, MAX_PREDICTED_AGE).reshape([-1, 1]);
  const exponent = np.square(binAges(dtype).sub(clipped)).mul(-1 / (2 * sigma * sigma));
  return exponent.ref.sub(nn.logsumexp(exponent, -1, { keepdims: true }));
}

/** The DLDL target distribution t for ages [B]: [B, 101], rows summing to 1. */
export function ageTarget(ages: Array, sigma: number, dtype: Array["dtype"] = np.float32): Array {
  return np.exp(logAgeTarget(ages, sigma, dtype));
}

/** mean_b KL(t_b ‖ softmax(logits_b)): logits [B, 101], ages [B]. */
export function ageKl(logits: Array, ages: Array, sigma: number): Array {
  const logT = logAgeTarget(ages, sigma, logits.dtype);
  return np
    .exp(logT.ref)
    .mul(logT.sub(nn.logSoftmax(logits, -1)))
    .sum(-1)
    .mean();
}

function ageLoss({ sigma }: AgeLossOptions): TaskLoss {
  if (!(sigma > 0 && Number.isFinite(sigma))) {
    throw taskError("age loss", `sigma is ${sigma}`, `Pass a positive width in years (${DEFAULT_AGE_SIGMA} is the default)`);
  }
  return (logits, ages) => {
    const k = logits.shape[logits.shape.length - 1];
    if (k !== NUM_AGE_BINS) {
      throw taskError("age loss", `the logits have ${k} outputs`, `The age head has ${NUM_AGE_BINS}, one per age 0-${MAX_PREDICTED_AGE}`);
    }
    return ageKl(logits, ages, sigma);
  };
}

export const AGE_TASK = defineTask<AgeLossOptions>({
  task: "age",
  title: "Age",
  outputs: `one logit per age 0-${MAX_PREDICTED_AGE}, softmax → age distribution, expectation → years`,
  numOutputs: (labelColumns: readonly string[]) => fixedOutputs("age", "age", NUM_AGE_BINS, labelColumns),
  initHead: initTaskHead,
  lossOptions: (_trainLabels: LabelRows, overrides: Partial<AgeLossOptions> = {}): AgeLossOptions => ({
    sigma: overrides.sigma ?? DEFAULT_AGE_SIGMA,
  }),
  makeLoss: ageLoss,
  targets(labels: LabelRows): Array {
    const ages = singleLabels("age", labels, "an age in years, 0 or more", (v) => Number.isFinite(v) && v >= 0);
    return np.array(Float32Array.from(ages));
  },
  predict: expectedAge,
  activation: "expected-age",
  outputLabels: () => ["age"],
  headline: { name: "MAE (years)", higherIsBetter: false, digits: 2 },
  score: (predictions, ages) => ({
    value: meanAbsoluteError(predictions, ages),
    secondary: { cs5: cumulativeScore(predictions, ages), perDecade: maeByDecade(predictions, ages) },
  }),
  trivialBaseline: (train, test) => ({ name: "training mean age, MAE (years)", value: meanAgeBaseline(train, test).mae }),
  plot: ({ predictions, labels }) => ({ file: "age-error.png", spec: ageErrorSpec(predictions, labels, "age: error by true age") }),
});
