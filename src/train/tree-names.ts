/**
 * timm names of a parameter tree's leaves, in `tree.flatten` order: `flattenNamed` and jax-js
 * both walk JS arrays by index and plain objects by key order, and stop at anything else.
 */
import type { Array, JsTree } from "../engine/jax.js";
import { flattenNamed } from "../checkpoint/param-names.js";

export type Tree = JsTree<Array>;

export function isArrayLeaf(x: unknown): x is Array {
  return !globalThis.Array.isArray(x) && !(typeof x === "object" && x !== null && x.constructor === Object);
}

/** `{ "blocks.0.attn.qkv.weight": leaf, ... }`, borrowing the leaves. */
export function namedLeaves(t: Tree): Record<string, Array> {
  return flattenNamed<Array>(t, isArrayLeaf);
}

export function leafNames(t: Tree): string[] {
  return Object.keys(namedLeaves(t));
}
