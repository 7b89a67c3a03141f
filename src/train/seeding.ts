/**
 * Everything random in the outer loop, as pure functions of the run's seed, so that a resumed
 * run replays an uninterrupted one exactly: the example order of each epoch and the RNG key of
 * each step. Nothing here keeps state; the loop saves only (seed, epoch, position, step).
 */
import { numpy as np, type Array } from "../engine/jax.js";

/** murmur3's 32-bit finaliser: a bijection on uint32 that spreads every input bit. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function hash32(...words: number[]): number {
  return words.reduce((h, w) => fmix32((h ^ w) >>> 0), 0x9e3779b9);
}

const ORDER_DOMAIN = 0x6f726472; // "ordr": keeps data order and step keys on separate streams
const KEY_DOMAIN = 0x73746570; // "step"
const EXAMPLE_DOMAIN = 0x6578616d; // "exam"

/** A seeded permutation of 0..n-1 for one epoch (Fisher-Yates over a counter-based hash). */
export function epochOrder(seed: number, epoch: number, n: number): Uint32Array {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor((hash32(ORDER_DOMAIN, seed, epoch, i) * (i + 1)) / 2 ** 32);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * The raw threefry key words of optimizer step `step` (0-based, the update about to run).
 * `random.key(seed)` gives [0, seed]; these give [hash(seed), step], a different key for every
 * (seed, step), apart from the model-init key.
 */
export function stepKeyData(seed: number, step: number): [number, number] {
  return [hash32(KEY_DOMAIN, seed), step >>> 0];
}

export function stepKey(seed: number, step: number): Array {
  return np.array(Uint32Array.from(stepKeyData(seed, step)), { dtype: np.uint32 });
}

/**
 * The seed of the host-side randomness (augmentation) of example `position` in micro-batch
 * `microBatch` of step `step`: a uint32 that depends on all four, and on nothing else.
 */
export function exampleSeed(seed: number, at: { step: number; microBatch: number }, position: number): number {
  return hash32(EXAMPLE_DOMAIN, seed, at.step, at.microBatch, position);
}
