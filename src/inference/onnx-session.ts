/**
 * onnxruntime-node, when it is installed: the CPU fast path for inference. It is an optional
 * dependency, loaded with a dynamic `import()`, so faceprior builds and runs without it (jax-js
 * then does the work).
 *
 * Only the few parts of its API used here are typed, so that the build does not need the package.
 */
import { FacepriorError } from "../errors.js";

type OrtTensor = { readonly data: unknown; readonly dims: readonly number[] };
type OrtSessionOptions = {
  intraOpNumThreads: number;
  interOpNumThreads: number;
  executionMode: "sequential";
  graphOptimizationLevel: "all";
};
type OrtSession = {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
};
/** The parts of onnxruntime-node that faceprior uses. */
export type OnnxRuntime = {
  InferenceSession: { create(model: Uint8Array | string, options: OrtSessionOptions): Promise<OrtSession> };
  Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => OrtTensor;
  env: { versions: { node?: string } };
};

const ORT_PACKAGE = "onnxruntime-node";
export const ORT_INSTALL_HINT = "ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node";
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
  try {
    // A specifier in a variable: TypeScript then neither resolves nor needs the package.
    return (await import(ORT_PACKAGE)) as OnnxRuntime;
  } catch (cause) {
    const error = cause as NodeJS.ErrnoException;
    if (error.code === "ERR_MODULE_NOT_FOUND" && error.message.includes(`'${ORT_PACKAGE}'`)) return null;
    throw new FacepriorError(
      "NO_DEVICE",
      `${ORT_PACKAGE}: installed but it does not load (${error.message.split("\n")[0]}). Reinstall it with \`${ORT_INSTALL_HINT}\`, or use jax-js (--engine jax).`,
      { cause },
    );
  }
}

export type OnnxSessionOptions = {
  /** CPU threads for one run (onnxruntime's intra-op pool, the calling thread included). */
  threads: number;
};

/**
 * One model loaded in onnxruntime with a single float32 image input `[N, 3, S, S]`. Call
 * `dispose()` when done: the session holds native memory that the garbage collector does not see.
 */
export class OnnxSession {
  private constructor(
    private readonly ort: OnnxRuntime,
    private readonly session: OrtSession,
  ) {}

  /** From ONNX bytes or a file path. Throws NO_DEVICE when onnxruntime-node is not installed. */
  static async create(model: Uint8Array | string, { threads }: OnnxSessionOptions): Promise<OnnxSession> {
    const ort = await loadOnnxRuntime();
    if (!ort) {
      throw new FacepriorError("NO_DEVICE", `${ORT_PACKAGE} is not installed. Install it with \`${ORT_INSTALL_HINT}\`, or use jax-js (--engine jax).`);
    }
    const session = await ort.InferenceSession.create(model, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
    });
    if (session.inputNames.length !== 1) {
      await session.release();
      throw new FacepriorError("BAD_ARGUMENT", `onnx model: it has inputs ${JSON.stringify(session.inputNames)}, expected one image input. Export it with \`faceprior export\`.`);
    }
    return new OnnxSession(ort, session);
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** `n` images [n, 3, S, S] (flat, square) -> every output as flat float32, by name. */
  async run(images: Float32Array, n: number): Promise<Record<string, Float32Array>> {
    const side = Math.round(Math.sqrt(images.length / (3 * n)));
    if (!(n > 0) || 3 * n * side * side !== images.length) {
      throw new FacepriorError("BAD_ARGUMENT", `OnnxSession.run: ${images.length} values are not ${n} square RGB images [${n}, 3, S, S]. Pass n with the pixels of n images.`);
    }
    const feeds = { [this.session.inputNames[0]!]: new this.ort.Tensor("float32", images, [n, 3, side, side]) };
    const results = await this.session.run(feeds);
    return Object.fromEntries(Object.entries(results).map(([name, tensor]) => [name, tensor.data as Float32Array]));
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

export type InferenceEngine = "jax" | "onnx";

/** auto: onnxruntime when installed, unless the device is a GPU (jax-js on WebGPU). */
export async function chooseEngine(requested: InferenceEngine | "auto", device: string): Promise<InferenceEngine> {
  if (requested !== "auto") return requested;
  return device === "wasm" && (await loadOnnxRuntime()) ? "onnx" : "jax";
}
