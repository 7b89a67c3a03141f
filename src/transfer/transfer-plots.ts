/**
 * The pictures of one transfer run, as Vega-Lite specs: the expression confusion matrix, per-AU
 * F1, age error by age, and per-attribute accuracy.
 */
import type { ChartSpec } from "../plot/render-chart.js";

export function confusionSpec(classes: readonly string[], matrix: number[][], title: string): ChartSpec {
  const values = matrix.flatMap((row, t) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    return row.map((n, p) => ({ truth: classes[t], predicted: classes[p], count: n, share: n / total }));
  });
  return {
    title,
    data: { values },
    width: 280,
    height: 280,
    encoding: {
      x: { field: "predicted", type: "nominal", sort: [...classes] },
      y: { field: "truth", type: "nominal", sort: [...classes] },
    },
    layer: [
      { mark: "rect", encoding: { color: { field: "share", type: "quantitative", title: "share of row" } } },
      { mark: { type: "text", fontSize: 10 }, encoding: { text: { field: "count", type: "quantitative" } } },
    ],
  } as ChartSpec;
}

/** One bar per label (AU F1, attribute accuracy), `value` a fraction; NaN bars are left out. */
export function perLabelSpec(labels: readonly string[], values: number[], measure: string, title: string): ChartSpec {
  const data = labels.map((label, i) => ({ label, value: values[i] })).filter((d) => Number.isFinite(d.value));
  return {
    title,
    data: { values: data },
    width: Math.max(240, 14 * data.length),
    height: 220,
    mark: "bar",
    encoding: {
      x: { field: "label", type: "nominal", sort: null, title: null },
      y: { field: "value", type: "quantitative", scale: { domain: [0, 1] }, title: measure },
    },
  } as ChartSpec;
}

/** Mean absolute error per 10-year bin of the true age. */
export function ageErrorSpec(predicted: Float32Array, ages: Float32Array, title: string): ChartSpec {
  const values = Array.from(ages, (age, i) => ({
    bin: `${10 * Math.floor(age / 10)}-${10 * Math.floor(age / 10) + 9}`,
    start: 10 * Math.floor(age / 10),
    error: Math.abs(predicted[i]! - age),
  }));
  return {
    title,
    data: { values },
    width: 360,
    height: 220,
    mark: "bar",
    encoding: {
      x: { field: "bin", type: "ordinal", sort: { field: "start" }, title: "true age" },
      y: { aggregate: "mean", field: "error", type: "quantitative", title: "mean absolute error (years)" },
    },
  } as ChartSpec;
}
