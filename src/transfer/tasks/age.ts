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
 * Age balance β (0 by default) weights each face's KL by its decade's weight (decades as the
 * metrics report them, `AGE_DECADES`: 0-9, ..., 60-69, 70+), w_d = (n / (8·n_d))^β from the
 * training set's decade counts n_d, scaled to a mean weight of 1 over the training set
 * (balanced-weights.ts, as expression's class balance): loss = mean_b w_d(b) · KL_b. UTKFace's
 * extra faces are 61% aged 20-39, while the test split is balanced by decade; unweighted, they
 * pull every prediction younger. The decade of each age is found on device by comparing it with
 * the decade starts 10, 20, ..., 70, which is `decadeOf` exactly.
 *
 * After training, a multi-task run may balance the head by decade (`balance`, logit-adjustment.ts).
 *
 * Prediction: the median of q, in years (vit.ts medianAge: the MAE-optimal point of the
 * distribution; its expectation, the "expected-age" of older models, is pulled towards the middle
 * ages by a wide distribution: 0.3 years more MAE on model v3.1's UTKFace faces). Headline: MAE in years (lower is better),
 * with CS@5 and the error per decade of true age; the trivial baseline predicts the mean
 * training age.
 */
import { nn, numpy as np, type Array } from "../../engine/jax.js";
import { MAX_PREDICTED_AGE, NUM_AGE_BINS } from "../../model/head-activations.js";
import { binAges, medianAge } from "../../model/vit.js";
import { meanAgeBaseline } from "../baselines.js";
import { initTaskHead } from "../heads.js";
import { AGE_DECADES, cumulativeScore, decadeOf, maeByDecade, meanAbsoluteError, type DecadeError } from "../metrics.js";
import { ageErrorSpec } from "../transfer-plots.js";
import { balancedClassWeights } from "./balanced-weights.js";
import { defineTask, fixedOutputs, singleLabels, taskError, type LabelRows, type TaskLoss } from "./definition.js";

export const DEFAULT_AGE_SIGMA = 2;

export type AgeLossOptions = {
  sigma: number;
  /** Decade balance β: 0 the plain mean, 1 inverse decade frequency. */
  ageBalance: number;
  /** Per-decade loss weights (`AGE_DECADES` order) from the training ages and `ageBalance`; null when β = 0. */
  decadeWeights: number[] | null;
};

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

/** KL(t_b ‖ softmax(logits_b)) per face: logits [B, 101], ages [B] -> [B]. */
export function ageKlPerFace(logits: Array, ages: Array, sigma: number): Array {
  const logT = logAgeTarget(ages, sigma, logits.dtype);
  return np
    .exp(logT.ref)
    .mul(logT.sub(nn.logSoftmax(logits, -1)))
    .sum(-1);
}

/** mean_b KL(t_b ‖ softmax(logits_b)): logits [B, 101], ages [B]. */
export function ageKl(logits: Array, ages: Array, sigma: number): Array {
  return ageKlPerFace(logits, ages, sigma).mean();
}

/** The decade starts 10, 20, ..., 70: an age's `AGE_DECADES` index is how many it has reached. */
const DECADE_STARTS = AGE_DECADES.slice(1).map((_, d) => 10 * (d + 1));

/** Each age's index in `AGE_DECADES`, on device: ages [B] -> int32 [B], `decadeOf` of each. */
export function ageDecades(ages: Array): Array {
  const starts = np.array(DECADE_STARTS, { dtype: ages.dtype });
  const reached = np.greaterEqual(ages.reshape([-1, 1]), starts);
  return reached.astype(np.int32).sum(-1);
}

/** Per-decade weights (balanced-weights.ts) from the training ages; null for β = 0. */
export function decadeWeightsOf(ages: readonly number[], ageBalance: number): number[] | null {
  return balancedClassWeights(ages.map(decadeOf), AGE_DECADES.length, ageBalance);
}

/** mean_b w[decade of age_b] · KL_b: logits [B, 101], ages [B], one weight per decade. */
export function decadeWeightedAgeKl(logits: Array, ages: Array, sigma: number, decadeWeights: readonly number[]): Array {
  const perFace = ageKlPerFace(logits, ages.ref, sigma);
  const weights = nn
    .oneHot(ageDecades(ages), AGE_DECADES.length)
    .astype(perFace.dtype)
    .mul(np.array(decadeWeights, { dtype: perFace.dtype }))
    .sum(-1);
  return perFace.mul(weights).mean();
}

function ageLoss({ sigma, decadeWeights }: AgeLossOptions): TaskLoss {
  if (!(sigma > 0 && Number.isFinite(sigma))) {
    throw taskError("age loss", `sigma is ${sigma}`, `Pass a positive width in years (${DEFAULT_AGE_SIGMA} is the default)`);
  }
  if (decadeWeights && (decadeWeights.length !== AGE_DECADES.length || decadeWeights.some((w) => !(w >= 0 && Number.isFinite(w))))) {
    throw taskError(
      "age loss",
      `decadeWeights are ${JSON.stringify(decadeWeights)}`,
      `Pass ${AGE_DECADES.length} finite weights >= 0 (${AGE_DECADES.join(", ")}), or null`,
    );
  }
  return (logits, ages) => {
    const k = logits.shape[logits.shape.length - 1];
    if (k !== NUM_AGE_BINS) {
      throw taskError("age loss", `the logits have ${k} outputs`, `The age head has ${NUM_AGE_BINS}, one per age 0-${MAX_PREDICTED_AGE}`);
    }
    return decadeWeights ? decadeWeightedAgeKl(logits, ages, sigma, decadeWeights) : ageKl(logits, ages, sigma);
  };
}

export const AGE_TASK = defineTask<AgeLossOptions>({
  task: "age",
  title: "Age",
  outputs: `one logit per age 0-${MAX_PREDICTED_AGE}, softmax → age distribution, median → years`,
  numOutputs: (labelColumns: readonly string[]) => fixedOutputs("age", "age", NUM_AGE_BINS, labelColumns),
  initHead: initTaskHead,
  lossOptions(trainLabels: LabelRows, overrides: Partial<AgeLossOptions> = {}): AgeLossOptions {
    const ageBalance = overrides.ageBalance ?? 0;
    if (!(ageBalance >= 0 && ageBalance <= 1)) {
      throw taskError("age loss", `ageBalance is ${ageBalance}`, "Pass β with 0 <= β <= 1 (0: plain mean, 1: inverse decade frequency)");
    }
    const ages = trainLabels.map((row) => row[0]!);
    const decadeWeights = overrides.decadeWeights ?? decadeWeightsOf(ages, ageBalance);
    return { sigma: overrides.sigma ?? DEFAULT_AGE_SIGMA, ageBalance, decadeWeights };
  },
  makeLoss: ageLoss,
  targets(labels: LabelRows): Array {
    const ages = singleLabels("age", labels, "an age in years, 0 or more", (v) => Number.isFinite(v) && v >= 0);
    return np.array(Float32Array.from(ages));
  },
  predict: medianAge,
  activation: "median-age",
  outputLabels: () => ["age"],
  recipeLossOverrides: (recipe) => ({ ageBalance: recipe.ageBalance }),
  headline: { name: "MAE (years)", higherIsBetter: false, digits: 2 },
  score: (predictions, ages) => ({
    value: meanAbsoluteError(predictions, ages),
    secondary: { cs5: cumulativeScore(predictions, ages), perDecade: maeByDecade(predictions, ages) },
  }),
  balance: {
    logitGroups: globalThis.Array.from({ length: NUM_AGE_BINS }, (_, age) => decadeOf(age)),
    numGroups: AGE_DECADES.length,
    groupOf: decadeOf,
    metric: {
      name: "mean over decades of the per-decade MAE (years)",
      higherIsBetter: false,
      of: (metrics) => {
        const decades = metrics.perDecade as DecadeError[];
        return decades.reduce((sum, d) => sum + d.mae, 0) / decades.length;
      },
    },
  },
  trivialBaseline: (train, test) => ({ name: "training mean age, MAE (years)", value: meanAgeBaseline(train, test).mae }),
  plot: ({ predictions, labels }) => ({ file: "age-error.png", spec: ageErrorSpec(predictions, labels, "age: error by true age") }),
});
