/**
 * WebGPU tests run wherever an adapter exists: a GPU, or Mesa's software llvmpipe, which
 * `.ci/run` installs. On a machine without one they skip and say why, unless
 * FACEPRIOR_REQUIRE_WEBGPU=1 (set by `.ci/run`): then they run and fail, so that CI cannot pass
 * without having run the WebGPU path.
 */
import { findWebGpu } from "../../src/engine/webgpu-adapter.js";

export const webGpuRequired = () => process.env.FACEPRIOR_REQUIRE_WEBGPU === "1";

/** For `test(name, { skip: await skipUnlessWebGpu() }, ...)`: false, or why it skips. */
export async function skipUnlessWebGpu(): Promise<string | false> {
  const status = await findWebGpu();
  if (status.available || webGpuRequired()) return false;
  return `no WebGPU adapter here (${status.reason}); FACEPRIOR_REQUIRE_WEBGPU=1 turns this skip into a failure`;
}
