/**
 * The one owner of the jax-js engine: backend choice, thread count and the Node shims.
 * Everything else imports arrays and transforms through ./jax.ts but never starts or
 * configures the engine itself.
 */
import { FacepriorError } from "../errors.js";
import type { AdapterInfo, EngineDevice } from "./devices.js";
import { defaultDevice, getWebGPUDevice, init } from "./jax.js";
import { shimmedThreads } from "./node-shims.js";
import { requireWebGpu } from "./webgpu-adapter.js";
import { trackGpuMemory } from "./webgpu-memory.js";

export { ENGINE_DEVICES, type EngineDevice } from "./devices.js";

export type EngineOptions = {
  /** "wasm" (CPU, the default) or "webgpu" (through the `webgpu` package in Node). */
  device?: EngineDevice;
  /**
   * wasm worker threads; 1 runs kernels on the main thread. The pool is sized when jax-js loads,
   * so a program that wants another count calls `installNodeShims(n)` before importing it.
   */
  threads?: number;
};

/** `adapter`: the WebGPU adapter jax-js runs on (webgpu only). */
export type EngineInfo = { device: EngineDevice; threads: number; adapter?: AdapterInfo };

let started: EngineInfo | null = null;

/** Starts the engine once per process; later calls must ask for the same settings. */
export async function startEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  const device = options.device ?? "wasm";
  const threads = shimmedThreads()!;
  if (options.threads !== undefined && options.threads !== threads) {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `engine: the wasm pool was sized for ${threads} threads when jax-js loaded, asked for ${options.threads}. Call installNodeShims(${options.threads}) before importing faceprior's model code.`,
    );
  }
  if (started) {
    if (started.device !== device) {
      throw new FacepriorError(
        "BAD_ARGUMENT",
        `engine: already started on ${started.device}, asked for ${device}. Start it once per process.`,
      );
    }
    return started;
  }
  // Node has no `navigator.gpu`; the `webgpu` package (Dawn) provides one.
  const webgpu = device === "webgpu" ? await requireWebGpu() : null;
  if (webgpu) (globalThis.navigator as { gpu?: GPU }).gpu = webgpu.gpu;
  const ready = await init(device);
  if (!ready.includes(device)) {
    throw new FacepriorError("NO_DEVICE", `device ${device}: the backend did not start. Use the CPU (wasm).`, { option: "device" });
  }
  defaultDevice(device);
  if (webgpu) trackGpuMemory(getWebGPUDevice());
  started = { device, threads, ...(webgpu ? { adapter: webgpu.adapter } : {}) };
  return started;
}
