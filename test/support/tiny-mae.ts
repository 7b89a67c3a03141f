/**
 * The tiny pretraining model of the unit tests: width 32, depth 2, on 32x32 images, with a
 * one-block decoder. `patchSize` 8 gives 16 patches; 4 gives 64, enough for landmark targets.
 */
import { VitConfigSchema } from "../../src/model/vit-presets.js";
import type { MaeConfig } from "../../src/pretrain/mae-config.js";

export function tinyMaeConfig(patchSize = 8): MaeConfig {
  return {
    encoder: VitConfigSchema.parse({ imgSize: 32, patchSize, embedDim: 32, depth: 2, numHeads: 2 }),
    decoderWidth: 32,
    decoderDepth: 1,
    decoderHeads: 2,
    maskRatio: 0.75,
    normPixLoss: true,
    componentDim: 16,
  };
}
