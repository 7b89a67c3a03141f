/**
 * Globals that @jax-js/jax expects from a browser and Node 20 lacks (METHOD.md §5): the ES2025
 * iterator helpers, `navigator` (userAgent, and the thread count the wasm pool reads) and a
 * `Worker`, without which the wasm backend runs single-threaded.
 *
 * jax-js builds its wasm backend, thread pool included, when its module is first evaluated, so
 * these must be in place before that. `./jax.ts` guarantees it for every importer; the CLI calls
 * `installNodeShims` with `--threads` before it loads anything else.
 */
import "core-js/actual/iterator/index.js";
import { availableParallelism } from "node:os";
import { NodeWebWorker } from "./worker-polyfill.js";

let installedThreads: number | null = null;

/** All cores, at most 8: beyond that the wasm pool's messaging costs more than it gains. */
export function defaultThreads(): number {
  return Math.min(8, availableParallelism());
}

/** Installs the shims once; returns the thread count that the wasm pool will use. */
export function installNodeShims(threads: number = defaultThreads()): number {
  if (installedThreads !== null) return installedThreads;
  const nav = { userAgent: `Node.js/${process.versions.node}`, hardwareConcurrency: threads };
  Object.defineProperty(globalThis, "navigator", { value: nav, configurable: true, writable: true });
  // One thread means no pool: jax-js then runs kernels on the main thread, without messaging cost.
  if (threads > 1 && typeof (globalThis as { Worker?: unknown }).Worker === "undefined") {
    Object.defineProperty(globalThis, "Worker", { value: NodeWebWorker, configurable: true, writable: true });
  }
  installedThreads = threads;
  return threads;
}

export function shimmedThreads(): number | null {
  return installedThreads;
}
