/**
 * GPU memory that jax-js holds on WebGPU: the bytes of the buffers created on its device and not
 * yet destroyed (its pool of freed buffers included), and the most held at any time. A process's
 * RSS does not see GPU memory, so this is WebGPU's counterpart of the peak RSS the benches report.
 */
export type GpuMemory = { heldBytes: number; peakBytes: number };

let memory: GpuMemory | null = null;

/** Counts the buffers `device` creates from now on; engine.ts calls it once it has the device. */
export function trackGpuMemory(device: GPUDevice): void {
  const counts: GpuMemory = { heldBytes: 0, peakBytes: 0 };
  const create = device.createBuffer.bind(device);
  device.createBuffer = (descriptor) => {
    const buffer = create(descriptor);
    counts.heldBytes += buffer.size;
    counts.peakBytes = Math.max(counts.peakBytes, counts.heldBytes);
    const destroy = buffer.destroy.bind(buffer);
    let held = true; // destroy() may be called twice; the bytes go once
    buffer.destroy = () => {
      if (held) counts.heldBytes -= buffer.size;
      held = false;
      destroy();
    };
    return buffer;
  };
  memory = counts;
}

/** The counts so far, or null when the engine does not run on WebGPU. */
export function gpuMemory(): GpuMemory | null {
  return memory && { ...memory };
}
