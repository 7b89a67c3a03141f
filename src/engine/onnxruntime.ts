/**
 * onnxruntime-node, when it is installed: the CPU fast path for inference and for training
 * (lowered steps, src/engine/onnx-lowering/). It is an optional peer dependency, loaded with a
 * dynamic `import()` (src/optional-package.ts), so faceprior builds and runs without it (jax-js
 * then does the work).
 *
 * Only the few parts of its API used here are typed, so that the build does not need the package.
 */
import { FacepriorError } from "../errors.js";
import { importOptional, installCommand } from "../optional-package.js";

export type OrtTensor = { readonly data: unknown; readonly dims: readonly number[]; readonly type: string };
export type OrtTensorType = "float32" | "int32" | "uint32" | "bool";
/** What a tensor of each type holds: bool is one byte a value. */
export type OrtTensorData = Float32Array | Int32Array | Uint32Array | Uint8Array;
type OrtSessionOptions = {
  /** In order of preference; onnxruntime's default is ["cpu"]. */
  executionProviders?: readonly string[];
  intraOpNumThreads: number;
  interOpNumThreads: number;
  executionMode: "sequential";
  graphOptimizationLevel: "all";
};
export type OrtSession = {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** `fetches` may name preallocated tensors, which onnxruntime then writes into. */
  run(feeds: Record<string, OrtTensor>, fetches?: Record<string, OrtTensor | null>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
};
/** The parts of onnxruntime-node that faceprior uses. */
export type OnnxRuntime = {
  InferenceSession: { create(model: Uint8Array | string, options: OrtSessionOptions): Promise<OrtSession> };
  Tensor: new (type: OrtTensorType, data: OrtTensorData, dims: readonly number[]) => OrtTensor;
  env: { versions: { node?: string } };
  /** The execution providers of this build; `bundled: false` ones need a separate download. */
  listSupportedBackends(): { name: string; bundled: boolean }[];
};

const ORT_PACKAGE = "onnxruntime-node";
export const ORT_INSTALL_HINT = installCommand([ORT_PACKAGE]);
let loading: Promise<OnnxRuntime | null> | undefined;

/**
 * onnxruntime-node, or null when it is not installed. A package that is present but fails to
 * load (a missing native library) is an error, not a silent fallback.
 */
export function loadOnnxRuntime(): Promise<OnnxRuntime | null> {
  loading ??= importOnnxRuntime();
  return loading;
}

async function importOnnxRuntime(): Promise<OnnxRuntime | null> {
  // Left on, its telemetry writes .ses and mat-debug-<pid>.log into the temp folder in every process.
  process.env.ORT_DISABLE_TELEMETRY ??= "1";
  try {
    return await importOptional<OnnxRuntime>(ORT_PACKAGE);
  } catch (cause) {
    throw new FacepriorError(
      "NO_DEVICE",
      `${ORT_PACKAGE}: installed but it does not load (${(cause as Error).message.split("\n")[0]}). Reinstall it with \`${ORT_INSTALL_HINT}\`, or use the jax engine (jax-js).`,
      { cause },
    );
  }
}

/** onnxruntime-node, or NO_DEVICE saying how to install it. */
export async function requireOnnxRuntime(): Promise<OnnxRuntime> {
  const ort = await loadOnnxRuntime();
  if (!ort)
    throw new FacepriorError(
      "NO_DEVICE",
      `${ORT_PACKAGE} is not installed. Install it with \`${ORT_INSTALL_HINT}\`, or use the jax engine (jax-js).`,
    );
  return ort;
}
