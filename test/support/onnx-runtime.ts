/** Tests of the onnxruntime paths skip, saying why, where the optional onnxruntime-node is absent. */
import { loadOnnxRuntime } from "../../src/engine/onnx-session.js";

/** For `test(name, { skip: await skipUnlessOnnxRuntime() }, ...)`: false, or why it skips. */
export async function skipUnlessOnnxRuntime(): Promise<string | false> {
  return (await loadOnnxRuntime()) ? false : "onnxruntime-node is not installed (a devDependency that `npm ci` installs)";
}
