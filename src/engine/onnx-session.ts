/**
 * Inference on onnxruntime-node (src/engine/onnxruntime.ts loads it): one exported face model
 * with a single image input, and the choice between it and jax-js.
 */
import { FacepriorError } from "../errors.js";
import { loadOnnxRuntime, ORT_INSTALL_HINT, requireOnnxRuntime, type OnnxRuntime, type OrtSession } from "./onnxruntime.js";

export { loadOnnxRuntime, ORT_INSTALL_HINT } from "./onnxruntime.js";

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
    const ort = await requireOnnxRuntime();
    const session = await ort.InferenceSession.create(model, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
    });
    if (session.inputNames.length !== 1) {
      await session.release();
      throw new FacepriorError(
        "BAD_ARGUMENT",
        `onnx model: it has inputs ${JSON.stringify(session.inputNames)}, expected one image input. Export it with \`faceprior export\`.`,
      );
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
      throw new FacepriorError(
        "BAD_ARGUMENT",
        `OnnxSession.run: ${images.length} values are not ${n} square RGB images [${n}, 3, S, S]. Pass n with the pixels of n images.`,
      );
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

/** An engine, and when auto settled for jax-js on the CPU, why and how to get onnxruntime-node. */
export type EngineChoice = { engine: InferenceEngine; fallback: string | null };

/**
 * As chooseEngine, but where auto would take onnxruntime-node and cannot (not installed, or
 * installed and broken), it runs on jax-js and says so in `fallback`: a dependency install
 * leaves onnxruntime-node out, and a user should know which engine runs.
 */
export async function resolveEngine(requested: InferenceEngine | "auto", device: string): Promise<EngineChoice> {
  if (requested !== "auto" || device !== "wasm") return { engine: await chooseEngine(requested, device), fallback: null };
  const why = await loadOnnxRuntime().then(
    (ort) => (ort ? null : `onnxruntime-node, the faster CPU engine, is not installed. Install it with \`${ORT_INSTALL_HINT}\`.`),
    (error: Error) => error.message,
  );
  return why ? { engine: "jax", fallback: `the model runs on jax-js: ${why}` } : { engine: "onnx", fallback: null };
}
