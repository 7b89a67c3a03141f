/**
 * Globals that @jax-js/jax expects from a browser and Node 20 lacks (METHOD.md §5): the ES2025
 * iterator helpers `map` and `filter` (its einsum parser calls them on a regex's matchAll; the
 * only ones it calls), `navigator` (userAgent, and the thread count the wasm pool reads), a
 * `Worker`, without which the wasm backend runs single-threaded, and a `Float16Array` name, which
 * jax-js tests with `instanceof` whenever it builds an array from a typed array.
 *
 * jax-js builds its wasm backend, thread pool included, when its module is first evaluated, so
 * these must be in place before that. `./jax.ts` guarantees it for every importer; the CLI calls
 * `installNodeShims` with `--threads` before it loads anything else.
 */
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
  installIteratorHelpers();
  const nav = { userAgent: `Node.js/${process.versions.node}`, hardwareConcurrency: threads };
  Object.defineProperty(globalThis, "navigator", { value: nav, configurable: true, writable: true });
  // One thread means no pool: jax-js then runs kernels on the main thread, without messaging cost.
  if (threads > 1 && typeof (globalThis as { Worker?: unknown }).Worker === "undefined") {
    Object.defineProperty(globalThis, "Worker", { value: NodeWebWorker, configurable: true, writable: true });
  }
  if (typeof (globalThis as { Float16Array?: unknown }).Float16Array === "undefined") {
    Object.defineProperty(globalThis, "Float16Array", { value: Float16ArrayUnavailable, configurable: true, writable: true });
  }
  installedThreads = threads;
  return threads;
}

/** Nothing is an instance of it; building one means float16 on device, which Node 20 cannot hold. */
class Float16ArrayUnavailable {
  constructor() {
    throw new Error("Float16Array: float16 arrays on device need Node 22 or later; faceprior keeps float16 on disk only");
  }
}

/** The iterators of arrays, maps, generators and matchAll inherit from it. */
const ITERATOR_PROTOTYPE: object = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));

/** Lazy, like the standard's; each hands its callback the value and its index. */
const ITERATOR_HELPERS = {
  *map<T, U>(this: Iterable<T>, mapper: (value: T, index: number) => U): Generator<U> {
    let index = 0;
    for (const value of this) yield mapper(value, index++);
  },
  *filter<T>(this: Iterable<T>, predicate: (value: T, index: number) => unknown): Generator<T> {
    let index = 0;
    for (const value of this) if (predicate(value, index++)) yield value;
  },
};

/** Node 22 has them: only missing ones are added. */
function installIteratorHelpers(): void {
  for (const [name, helper] of Object.entries(ITERATOR_HELPERS)) {
    if (!(name in ITERATOR_PROTOTYPE))
      Object.defineProperty(ITERATOR_PROTOTYPE, name, { value: helper, writable: true, configurable: true });
  }
}

export function shimmedThreads(): number | null {
  return installedThreads;
}
