/** The compute backends faceprior runs on. Kept apart from engine.ts so that reading it loads no jax-js. */
export const ENGINE_DEVICES = ["wasm", "webgpu"] as const;
export type EngineDevice = (typeof ENGINE_DEVICES)[number];
