/**
 * A browser-style `Worker` over node:worker_threads, just enough for the jax-js wasm thread pool.
 *
 * jax-js starts its pool only when a global `Worker` exists; it builds the worker script as a Blob
 * object URL and talks to it through `onmessage` / `postMessage`. Node 20 has neither a global
 * `Worker` nor blob-URL workers, and object URLs resolve only on the thread that made them, so
 * the main thread reads the script and sends it as the first message. The thread runs it with
 * browser globals (`self`, `postMessage`, `onmessage`) mapped onto `parentPort`, holding back
 * messages that arrive before the script has run.
 */
import { resolveObjectURL } from "node:buffer";
import { Worker as ThreadWorker } from "node:worker_threads";

const SOURCE_KEY = "__facepriorWorkerSource";

const BOOTSTRAP = `
const { parentPort } = require("node:worker_threads");
globalThis.self = globalThis;
globalThis.postMessage = (data) => parentPort.postMessage(data);
let held = [];
parentPort.on("message", (data) => {
  if (data && typeof data === "object" && "${SOURCE_KEY}" in data) {
    (0, eval)(data["${SOURCE_KEY}"]);
    for (const early of held) self.onmessage({ data: early });
    held = null;
  } else if (held) held.push(data);
  else self.onmessage({ data });
});
`;

type MessageHandler = ((event: { data: unknown }) => void) | null;
type ErrorHandler = ((event: { message: string }) => void) | null;

export class NodeWebWorker {
  onmessage: MessageHandler = null;
  onerror: ErrorHandler = null;
  readonly #thread: ThreadWorker;
  #pending = 0;

  constructor(url: string | URL) {
    const script = resolveObjectURL(String(url));
    if (!script) throw new Error(`NodeWebWorker: ${String(url)} is not an object URL made on this thread`);
    this.#thread = new ThreadWorker(BOOTSTRAP, { eval: true });
    this.#thread.on("message", (data) => {
      this.#settle();
      this.onmessage?.({ data });
    });
    this.#thread.on("error", (err) => this.onerror?.({ message: err.message }));
    this.#thread.unref();
    this.#expectReply(); // keeps the process alive until the script has been sent
    void script.text().then((source) => {
      this.#thread.postMessage({ [SOURCE_KEY]: source });
      this.#settle();
    });
  }

  /** Each message gets one reply; the thread keeps the process alive only while replies are due. */
  postMessage(data: unknown): void {
    this.#expectReply();
    this.#thread.postMessage(data);
  }

  terminate(): void {
    void this.#thread.terminate();
  }

  #expectReply(): void {
    if (this.#pending++ === 0) this.#thread.ref();
  }

  #settle(): void {
    if (this.#pending > 0 && --this.#pending === 0) this.#thread.unref();
  }
}
