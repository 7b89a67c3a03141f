/**
 * MAE's light decoder, as pure functions over a parameter tree with MAE's names:
 *
 *   decoder_embed      Linear [Dd, D]       encoder width D -> decoder width Dd
 *   mask_token         [1, 1, Dd]           stands in for every masked patch
 *   decoder_pos_embed  [1, 1 + L, Dd]       fixed 2-D sin-cos table (class row zero), see below
 *   decoder_blocks     Block[]              the encoder's block, at width Dd
 *   decoder_norm       LayerNorm [Dd]
 *   decoder_pred       Linear [P, Dd]       pixel prediction, P = 3·p·p (used by loss-mim.ts)
 *
 * `decoder_pos_embed` is not trained, as in MAE (`requires_grad=False`): it lives in the tree so
 * that checkpoints carry it, and `forwardDecoder` reads it through `lax.stopGradient`, so its
 * gradient is exactly zero; AdamW then leaves it where it is (zero gradient, and timm's no-decay
 * set holds `*pos_embed`).
 *
 * Shapes: B batch, L patches, Lk visible patches, D encoder width, Dd decoder width.
 */
import { lax, numpy as np, random, type Array } from "../engine/jax.js";
import { block, initBlock, initLayerNorm, initLinear, layerNorm, linear, type Block, type LayerNorm, type Linear } from "../model/vit.js";
import { sincosPosEmbed } from "../model/pos-embed.js";
import type { VitConfig } from "../model/vit-presets.js";
import { unshuffleTokens } from "./masking.js";
import type { MaeConfig } from "./mae-config.js";

export type DecoderParams = {
  decoder_embed: Linear;
  mask_token: Array;
  decoder_pos_embed: Array;
  decoder_blocks: Block[];
  decoder_norm: LayerNorm;
  decoder_pred: Linear;
};

/** The ViT config a decoder block runs under: the encoder's, at the decoder's width and heads. */
export function decoderBlockConfig(cfg: MaeConfig): VitConfig {
  return { ...cfg.encoder, embedDim: cfg.decoderWidth, depth: cfg.decoderDepth, numHeads: cfg.decoderHeads };
}

/** MAE's init: xavier-uniform linears, unit layer norms, mask token ~ N(0, 0.02²). */
export function initDecoder(key: Array, cfg: MaeConfig): DecoderParams {
  const { encoder, decoderWidth: dd, decoderDepth } = cfg;
  if (dd % cfg.decoderHeads !== 0) throw new Error(`initDecoder: decoder width ${dd} is not divisible by ${cfg.decoderHeads} heads`);
  const grid = encoder.imgSize / encoder.patchSize;
  const keys = np.unstack(random.split(key, decoderDepth + 3));
  return {
    decoder_embed: initLinear(keys[0]!, dd, encoder.embedDim),
    mask_token: random.normal(keys[1]!, [1, 1, dd]).mul(0.02),
    decoder_pos_embed: np.array(sincosPosEmbed(dd, grid)).reshape([1, 1 + grid * grid, dd]),
    decoder_blocks: keys.slice(3).map((k) => initBlock(k, dd, encoder.mlpRatio)),
    decoder_norm: initLayerNorm(dd),
    decoder_pred: initLinear(keys[2]!, 3 * encoder.patchSize * encoder.patchSize, dd),
  };
}

/**
 * MAE's forward_decoder up to the norm: latent [B, 1 + Lk, D] (class token first, as the encoder
 * gives it) and idsRestore [B, L] -> decoder tokens [B, L, Dd] in patch order, class token
 * dropped. Mask tokens fill the masked places before the blocks run.
 */
export function forwardDecoder(params: Omit<DecoderParams, "decoder_pred">, latent: Array, idsRestore: Array, cfg: MaeConfig): Array {
  const x = linear(params.decoder_embed, latent);
  const cls = x.ref.slice([], [0, 1], []);
  const patches = unshuffleTokens(x.slice([], [1], []), params.mask_token, idsRestore);
  const withPos = np.concatenate([cls, patches], 1).add(lax.stopGradient(params.decoder_pos_embed));
  const blockCfg = decoderBlockConfig(cfg);
  const h = params.decoder_blocks.reduce((t, p) => block(p, t, blockCfg), withPos);
  return layerNorm(params.decoder_norm, h, cfg.encoder.lnEps).slice([], [1], []);
}

/** decoder tokens [B, L, Dd] -> pixel predictions [B, L, P] in patchify's (c, i, j) order. */
export function predictPixels(decoderPred: Linear, tokens: Array): Array {
  return linear(decoderPred, tokens);
}
