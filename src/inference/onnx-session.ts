/**
 * Inference on onnxruntime-node (src/engine/onnxruntime.ts loads it): one exported face model
 * with a single image input, and the choice between it and jax-js.
 */
import { FacepriorError } from "../errors.js";
import { loadOnnxRuntime, requireOnnxRuntime, type OnnxRuntime, type OrtSession } from "../engine/onnxruntime.js";

export { loadOnnxRuntime, ORT_INSTALL_HINT } from "../engine/onnxruntime.js";

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
