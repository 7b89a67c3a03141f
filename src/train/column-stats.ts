/**
 * Per-column statistics of a table stored flat, row-major [N, K]: what standardising a column
 * (probe features, component descriptors) starts from. Rows are summed in the order given, so a
 * subset of rows gives the same floats wherever it is computed.
 */

export type ColumnMoments = { mean: Float64Array; variance: Float64Array };

/** Mean and population variance (divided by N) of each of the `width` columns, over `rows` (all by default). */
export function columnMoments(data: ArrayLike<number>, width: number, rows?: readonly number[]): ColumnMoments {
  const order = rows ?? Array.from({ length: data.length / width }, (_, row) => row);
  const n = order.length;
  const mean = new Float64Array(width);
  const variance = new Float64Array(width);
  for (const row of order) for (let c = 0; c < width; c++) mean[c]! += data[row * width + c]! / n;
  for (const row of order) for (let c = 0; c < width; c++) variance[c]! += (data[row * width + c]! - mean[c]!) ** 2 / n;
  return { mean, variance };
}
