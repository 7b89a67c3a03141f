/** The ViT parity fixture in ../shared: a tiny timm ViT and the tokens PyTorch computes for two faces. */
import { readSafetensors } from "../../src/checkpoint/safetensors.js";
import { readVitCheckpoint, type HostVitCheckpoint } from "../../src/checkpoint/vit-checkpoint.js";
import { sharedPath, skipUnlessShared } from "./shared-data.js";

export const PARITY = "fixtures/vit-parity";
export const needsParity = { skip: skipUnlessShared(PARITY) };
export const parityModelPath = () => sharedPath(PARITY, "model.safetensors");
export const parityImagePath = (i: number) => sharedPath(PARITY, `input${i}.png`);

export type ParityFixture = {
  checkpoint: HostVitCheckpoint;
  /** [2, 3, 112, 112], normalised with the checkpoint's mean and std (0.5). */
  inputNchw: Float32Array;
  /** [2, 50, 96], PyTorch's output of the final LayerNorm. */
  tokens: Float32Array;
};

export async function readParityFixture(): Promise<ParityFixture> {
  const expected = await readSafetensors(sharedPath(PARITY, "expected.safetensors"));
  return {
    checkpoint: await readVitCheckpoint(parityModelPath()),
    inputNchw: expected.tensors.input_nchw!.data as Float32Array,
    tokens: expected.tensors.tokens!.data as Float32Array,
  };
}
