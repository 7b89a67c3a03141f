/**
 * Attributes (METHOD §3): K = 40 CelebA attributes (LFWA uses the same 40), multi-label BCE with
 * logits, by default without positive weights (the usual CelebA recipe); predictions are sigmoid
 * probabilities, an attribute counting as present at p >= 0.5 (metrics.ts). Headline: mean
 * accuracy over the 40; the trivial baseline predicts each attribute's training majority.
 */
import { CELEBA_ATTRIBUTES } from "../../data/tasks.js";
import { attributeMajorityBaseline } from "../baselines.js";
import { initTaskHead } from "../heads.js";
import { attributeAccuracy, type PerLabel } from "../metrics.js";
import { perLabelSpec } from "../transfer-plots.js";
import { binaryLabelMatrix, defineTask, taskError, type LabelRows } from "./definition.js";
import { checkPositiveWeights, multiLabelLoss, sigmoidPredict } from "./multi-label.js";

export type AttributeLossOptions = {
  /** One weight per attribute (as the AU task's), or null for plain BCE. */
  posWeight: readonly number[] | null;
};

export const ATTRIBUTES_TASK = defineTask<AttributeLossOptions>({
  task: "attributes",
  title: "Attributes",
  outputs: `one logit per CelebA attribute (${CELEBA_ATTRIBUTES.length}), sigmoid → probability it holds`,
  numOutputs(labelColumns: readonly string[]): number {
    const same = labelColumns.length === CELEBA_ATTRIBUTES.length && labelColumns.every((c, i) => c === CELEBA_ATTRIBUTES[i]);
    if (!same) {
      throw taskError(
        "attributes head",
        `the dataset's ${labelColumns.length} label columns are not CelebA's 40 attributes in order`,
        "Load it with the attributes loader, which orders the columns",
      );
    }
    return CELEBA_ATTRIBUTES.length;
  },
  initHead: initTaskHead,
  lossOptions(trainLabels: LabelRows, overrides: Partial<AttributeLossOptions> = {}): AttributeLossOptions {
    const posWeight = overrides.posWeight ?? null;
    if (posWeight !== null) checkPositiveWeights("attributes", posWeight, trainLabels[0]?.length);
    return { posWeight };
  },
  makeLoss: ({ posWeight }: AttributeLossOptions) => multiLabelLoss("attributes", posWeight),
  targets: (labels: LabelRows) => binaryLabelMatrix("attributes", labels),
  predict: sigmoidPredict,
  activation: "sigmoid",
  outputLabels: (labelColumns) => [...labelColumns],
  headline: { name: "mean accuracy", higherIsBetter: true, digits: 3 },
  score(predictions, labels, k) {
    const accuracy = attributeAccuracy(predictions, labels, k);
    return { value: accuracy.mean, secondary: { accuracy } };
  },
  /** Each attribute a coin flip. */
  chance: 0.5,
  trivialBaseline: (train, test, width) => ({
    name: "per-attribute majority, mean accuracy",
    value: attributeMajorityBaseline(train, test, width).accuracy.mean,
  }),
  plot: ({ columns, metrics }) => ({
    file: "attribute-accuracy.png",
    spec: perLabelSpec(columns, (metrics.accuracy as PerLabel).perLabel, "accuracy", "per-attribute accuracy"),
  }),
});
