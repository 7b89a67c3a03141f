/**
 * The one owner of the jax-js engine: backend choice, thread count and the Node shims.
 * Everything else imports arrays and transforms through ./jax.ts but never starts or
 * configures the engine itself.
 */
import { FacepriorError } from "../errors.js";
import type { EngineDevice } from "./devices.js";
import { defaultDevice, init } from "./jax.js";
import { shimmedThreads } from "./node-shims.js";

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

export type EngineInfo = { device: EngineDevice; threads: number };

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
  if (device === "webgpu") await installWebGpu();
  const ready = await init(device);
  if (!ready.includes(device)) {
    throw new FacepriorError("NO_DEVICE", `--device ${device}: the backend did not start. Use --device wasm.`);
  }
  defaultDevice(device);
  started = { device, threads };
  return started;
}

/** Node has no `navigator.gpu`; the `webgpu` package (Dawn) provides one. */
async function installWebGpu(): Promise<void> {
  let dawn: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    dawn = (await import("webgpu")) as unknown as typeof dawn;
  } catch (cause) {
    throw new FacepriorError(
      "NO_DEVICE",
      "--device webgpu: the optional package 'webgpu' is not installed. Run `npm install webgpu` or use --device wasm.",
      { cause },
    );
  }
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new FacepriorError(
      "NO_DEVICE",
      "--device webgpu: no WebGPU adapter was found (on NVIDIA, install libvulkan1 and set VK_DRIVER_FILES to the NVIDIA ICD). Use --device wasm.",
    );
  }
  (globalThis.navigator as { gpu?: GPU }).gpu = gpu;
}
