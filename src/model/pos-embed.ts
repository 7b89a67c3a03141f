/**
 * Position embeddings: MAE's fixed 2-D sine-cosine table (our learned embedding's init) and
 * timm-style resampling of a checkpoint's grid to another image size. Both work on the host:
 * they run once per model, not per step.
 */

/** [1 + G*G, D] flattened, the class-token row all zeros, as MAE's get_2d_sincos_pos_embed. */
export function sincosPosEmbed(dim: number, grid: number): Float32Array {
  if (dim % 4 !== 0) throw new Error(`sincosPosEmbed: dim ${dim} must be divisible by 4`);
  const out = new Float32Array((1 + grid * grid) * dim);
  const quarter = dim / 4;
  const omega = Float64Array.from({ length: quarter }, (_, i) => 1 / 10000 ** (i / quarter));
  for (let row = 0; row < grid; row++) {
    for (let col = 0; col < grid; col++) {
      const base = (1 + row * grid + col) * dim;
      // MAE's meshgrid puts the column (w) coordinate in the first half of the channels.
      for (let i = 0; i < quarter; i++) {
        out[base + i] = Math.sin(col * omega[i]!);
        out[base + quarter + i] = Math.cos(col * omega[i]!);
        out[base + 2 * quarter + i] = Math.sin(row * omega[i]!);
        out[base + 3 * quarter + i] = Math.cos(row * omega[i]!);
      }
    }
  }
  return out;
}

/** PyTorch's bicubic kernel (a = -0.75). */
function cubicWeights(t: number): [number, number, number, number] {
  const a = -0.75;
  const near = (x: number) => ((a + 2) * x - (a + 3)) * x * x + 1;
  const far = (x: number) => ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

/** 1-D bicubic resize along one axis, align_corners=false, edges clamped (as torch). */
function resizeAxis(src: Float64Array, outer: number, from: number, inner: number, to: number): Float64Array {
  const out = new Float64Array(outer * to * inner);
  const scale = from / to;
  for (let j = 0; j < to; j++) {
    const x = (j + 0.5) * scale - 0.5;
    const x0 = Math.floor(x);
    const w = cubicWeights(x - x0);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < 4; k++) {
        const s = Math.min(from - 1, Math.max(0, x0 - 1 + k));
        const srcBase = (o * from + s) * inner;
        const dstBase = (o * to + j) * inner;
        for (let i = 0; i < inner; i++) out[dstBase + i] += w[k]! * src[srcBase + i]!;
      }
    }
  }
  return out;
}

/**
 * Resamples `pos_embed` [1, 1 + G*G, D] to a `newGrid` x `newGrid` grid with bicubic
 * interpolation; the class-token row is set aside and kept as it is.
 */
export function resamplePosEmbed(posEmbed: Float32Array, dim: number, newGrid: number): Float32Array {
  const tokens = posEmbed.length / dim;
  const grid = Math.round(Math.sqrt(tokens - 1));
  if (grid * grid !== tokens - 1) throw new Error(`resamplePosEmbed: ${tokens} tokens is not 1 + a square grid`);
  if (grid === newGrid) return posEmbed.slice();
  const patchRows = Float64Array.from(posEmbed.subarray(dim));
  const alongRows = resizeAxis(patchRows, 1, grid, grid * dim, newGrid);
  const resized = resizeAxis(alongRows, newGrid, grid, dim, newGrid);
  const out = new Float32Array((1 + newGrid * newGrid) * dim);
  out.set(posEmbed.subarray(0, dim));
  out.set(Float32Array.from(resized), dim);
  return out;
}
