/** The compute backends faceprior runs on. Kept apart from engine.ts so that reading it loads no jax-js. */
export const ENGINE_DEVICES = ["wasm", "webgpu"] as const;
export type EngineDevice = (typeof ENGINE_DEVICES)[number];

/** A WebGPU adapter, as `faceprior doctor` and the engine report it. Here, not in webgpu-adapter.ts, so that these types name no WebGPU globals. */
export type AdapterInfo = {
  vendor: string;
  architecture: string;
  description: string;
  /** A CPU emulating a GPU (llvmpipe, SwiftShader): right answers, CPU speed. */
  software: boolean;
};
