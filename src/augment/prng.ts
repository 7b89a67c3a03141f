/**
 * A small counter-based PRNG for augmentation and bootstrap resamples: draw k of stream `name`
 * under seed s is a hash of (s, name, k), so the same seed always gives the same draws, and each
 * transform reads its own stream (changing the flip probability does not move the affine's
 * draws). Never Math.random.
 */
import { invalidArgument } from "../errors.js";

/** Uniform draws in [0, 1); each call advances the stream by one. */
export type Rng = () => number;

const GOLDEN = 0x9e3779b9; // 2^32 / φ, the usual Weyl increment

/** An xorshift-multiply avalanche on uint32 (the "lowbias32" constants of C. Wellons). */
function avalanche(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

function combine(h: number, word: number): number {
  return avalanche(((h ^ word) + GOLDEN) >>> 0);
}

/** A 32-bit hash of a stream name, so streams can be named in code ("flip", "affine"). */
function nameHash(name: string): number {
  let h = 0x243f6a88;
  for (let i = 0; i < name.length; i++) h = combine(h, name.charCodeAt(i));
  return h;
}

/** Stream `name` of `seed`; `seed` is any non-negative safe integer. */
export function seededRng(seed: number, name: string): Rng {
  if (!Number.isSafeInteger(seed) || seed < 0) throw invalidArgument("seed", "a non-negative safe integer", seed);
  const low = seed >>> 0;
  const high = Math.floor(seed / 2 ** 32) >>> 0;
  const key = combine(combine(nameHash(name), low), high);
  let counter = 0;
  return () => combine(key, counter++) / 2 ** 32;
}

/** A uniform draw in [lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}
