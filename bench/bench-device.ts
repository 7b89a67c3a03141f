/**
 * What the benchmarks share about where they run: the flags that pick the device (jax-js on wasm
 * or WebGPU; PyTorch on cpu, cuda or none) and the results file, the PyTorch reference on its
 * device, and the memory report: peak RSS, plus on WebGPU the GPU memory jax-js held (RSS does
 * not see it).
 */
import { ENGINE_DEVICES, type EngineDevice } from "../src/engine/devices.js";
import { gpuMemory } from "../src/engine/webgpu-memory.js";
import { runPytorchReference } from "./pytorch-reference.js";

export const DEVICE_OPTIONS = {
  device: { type: "string", default: "wasm" },
  "torch-device": { type: "string", default: "cpu" },
  out: { type: "string" },
} as const;

/** `--device` checked against the engine's devices. */
export function benchDevice(value: string): EngineDevice {
  if (!(ENGINE_DEVICES as readonly string[]).includes(value))
    throw new Error(`--device: "${value}" is not one of ${ENGINE_DEVICES.join(", ")}`);
  return value as EngineDevice;
}

export type MemoryReport = { peak_rss_mb: number; peak_gpu_mb?: number };

export function memoryReport(): MemoryReport {
  const gpu = gpuMemory();
  return { peak_rss_mb: process.resourceUsage().maxRSS / 1024, ...(gpu ? { peak_gpu_mb: gpu.peakBytes / 2 ** 20 } : {}) };
}

/** The PyTorch reference `script` on `--torch-device`, or null when that is none or PyTorch cannot run. */
export function torchReference<T>(args: { python: string; "torch-device": string }, script: string, scriptArgs: string[]): T | null {
  if (args["torch-device"] === "none") return null;
  return runPytorchReference<T>(args.python, script, [...scriptArgs, "--device", args["torch-device"]]);
}
