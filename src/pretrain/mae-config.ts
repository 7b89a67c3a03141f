/**
 * The pretraining model's static config, apart from the model (mae.ts) so that its parts
 * (decoder.ts, loss-*.ts) read it without importing the model that imports them.
 */
import type { VitConfig } from "../model/vit-presets.js";

/** Static model config; `config.ts` holds the defaults and builds it from a run config. */
export type MaeConfig = {
  encoder: VitConfig;
  /** MAE: 128-256 wide, 2-4 deep, for a light decoder. */
  decoderWidth: number;
  decoderDepth: number;
  decoderHeads: number;
  /** Fraction of patches hidden from the encoder. */
  maskRatio: number;
  /** MAE's norm_pix_loss: reconstruct each patch standardised by its own mean and variance. */
  normPixLoss: boolean;
  /** Output width of `component_proj`, the space where InfoNCE compares components. */
  componentDim: number;
};

/** Which auxiliary heads the tree holds. */
export type MaeHeads = { pixel: boolean; patch: boolean; component: boolean };
