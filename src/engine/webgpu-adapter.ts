/**
 * WebGPU in Node: the optional `webgpu` package (Dawn, over Vulkan on Linux) and the adapter it
 * finds. On NVIDIA that is the GPU (METHOD.md §5); without a GPU, Mesa's llvmpipe from
 * bookworm-backports gives a software adapter, slow but exact enough to test the WebGPU path.
 *
 * Kept apart from engine.ts so that reading it loads no jax-js: `faceprior doctor` and the
 * tests ask what exists without starting an engine.
 */
import { FacepriorError } from "../errors.js";
import { importOptional, installCommand } from "../optional-package.js";
import type { AdapterInfo } from "./devices.js";

export type { AdapterInfo } from "./devices.js";

type Dawn = { create: (flags: string[]) => GPU; globals: Record<string, unknown> };

/** What WebGPU offers here: the adapter faceprior would use, or why there is none. */
export type WebGpuStatus = { available: true; gpu: GPU; adapter: AdapterInfo } | { available: false; reason: string };

const NO_ADAPTER_FIX =
  "On NVIDIA, install libvulkan1 and set VK_DRIVER_FILES to the NVIDIA ICD (/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json); without a GPU, `apt-get install -t bookworm-backports mesa-vulkan-drivers` gives a software adapter (llvmpipe) for tests";

let dawn: Promise<Dawn | string> | undefined;

/** The `webgpu` package with its WebGPU globals installed, or why it cannot be had. */
function loadDawn(): Promise<Dawn | string> {
  dawn ??= importOptional<Dawn>("webgpu").then(
    (loaded) => {
      if (!loaded) return `the optional package 'webgpu' is not installed (${installCommand(["webgpu"])})`;
      Object.assign(globalThis, loaded.globals);
      return loaded;
    },
    (error: Error) => `the package 'webgpu' is installed but does not load (${error.message.split("\n")[0]}); reinstall it`,
  );
  return dawn;
}

/** Looks for an adapter; starts no device, so the process still exits on its own. */
export async function findWebGpu(): Promise<WebGpuStatus> {
  const loaded = await loadDawn();
  if (typeof loaded === "string") return { available: false, reason: loaded };
  const gpu = loaded.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) return { available: false, reason: `no WebGPU adapter was found. ${NO_ADAPTER_FIX}` };
  const { vendor, architecture, description, isFallbackAdapter } = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return {
    available: true,
    gpu,
    adapter: { vendor, architecture, description, software: Boolean(isFallbackAdapter) || architecture === "software" },
  };
}

/** The adapter's `navigator.gpu` for jax-js, or NO_DEVICE saying how to get one. */
export async function requireWebGpu(): Promise<{ gpu: GPU; adapter: AdapterInfo }> {
  const status = await findWebGpu();
  if (!status.available) {
    throw new FacepriorError("NO_DEVICE", `device webgpu: ${status.reason}. Or use the CPU (wasm).`, { option: "device" });
  }
  return status;
}

/**
 * Every adapter Dawn can see, as "backend: name". Dawn lists them in the error it raises for an
 * adapter name it does not know (the `webgpu` package's documented way to enumerate them).
 */
export async function listWebGpuAdapters(): Promise<string[]> {
  const loaded = await loadDawn();
  if (typeof loaded === "string") return [];
  try {
    await loaded.create(["adapter=faceprior-lists-adapters"]).requestAdapter();
    return [];
  } catch (error) {
    const lines = [...(error as Error).message.matchAll(/backend: '([^']+)', name: '([^']+)'/g)];
    return lines.map(([, backend, name]) => `${backend}: ${name}`);
  }
}
