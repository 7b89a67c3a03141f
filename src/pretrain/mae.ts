/**
 * The pretraining model, like MAE's models_mae.py: a timm-layout ViT encoder that sees only the
 * visible patches, MAE's decoder over visible tokens plus mask tokens, and the face-prior heads.
 *
 * The params tree is flat at the top: the encoder's timm keys (`patch_embed`, `cls_token`,
 * `pos_embed`, `blocks`, `norm`) exactly as a VitParams, so `encoderParams` picks out a tree
 * that saves and loads as a plain ViT; then the decoder's keys (decoder.ts) and the heads that
 * are switched on: `pixel_head` (loss-pixel.ts), `patch_head` (loss-patch.ts), `component_proj`
 * and `descriptor_head` (loss-component.ts).
 *
 * Shapes: B batch, S image side, L patches, Lk visible patches, D encoder width.
 */
import { numpy as np, random, type Array } from "../engine/jax.js";
import { classToken, embedPatches, encodeTokens, initVit, type VitParams } from "../model/vit.js";
import type { VitConfig } from "../model/vit-presets.js";
import { initDecoder, type DecoderParams } from "./decoder.js";
import { initComponentHeads, type ComponentHeads } from "./loss-component.js";
import { initPatchHead, type PatchHead } from "./loss-patch.js";
import { initPixelHead, type PixelHead } from "./loss-pixel.js";
import type { MaeConfig, MaeHeads } from "./mae-config.js";
import { gatherTokens } from "./masking.js";

export { forwardDecoder, predictPixels } from "./decoder.js";
export type { MaeConfig, MaeHeads } from "./mae-config.js";

export type MaeParams = VitParams &
  DecoderParams & {
    pixel_head?: PixelHead;
    patch_head?: PatchHead;
  } & Partial<ComponentHeads>;

/**
 * Fresh parameters. The key is split the same way whatever heads are on, so one seed gives the
 * same encoder and decoder in every variant (equal starting points for a comparison).
 */
export function initMae(key: Array, cfg: MaeConfig, heads: MaeHeads): MaeParams {
  const [encKey, decKey, pixKey, patchKey, compKey] = np.unstack(random.split(key, 5)) as Array[];
  const params: MaeParams = { ...initVit(encKey!, cfg.encoder), ...initDecoder(decKey!, cfg) };
  if (heads.pixel) params.pixel_head = initPixelHead(pixKey!, cfg);
  else pixKey!.dispose();
  if (heads.patch) params.patch_head = initPatchHead(patchKey!, cfg);
  else patchKey!.dispose();
  if (heads.component) Object.assign(params, initComponentHeads(compKey!, cfg));
  else compKey!.dispose();
  return params;
}

/** The encoder's subtree, a plain timm VitParams; borrows the arrays (no new references). */
export function encoderParams(params: VitParams): VitParams {
  const { patch_embed, cls_token, pos_embed, blocks, norm } = params;
  return { patch_embed, cls_token, pos_embed, blocks, norm };
}

/**
 * MAE's forward_encoder: images [B, 3, S, S] and the visible patches idsKeep [B, Lk] ->
 * tokens [B, 1 + Lk, D] after the final norm, class token first. Position embeddings are added
 * before the masked patches are dropped, so every visible token knows where it sits.
 */
export function forwardEncoder(params: VitParams, images: Array, idsKeep: Array, cfg: VitConfig): Array {
  const batch = images.shape[0]!;
  const patches = embedPatches({ patch_embed: params.patch_embed, pos_embed: params.pos_embed.ref }, images, cfg);
  const visible = gatherTokens(patches, idsKeep);
  const cls = classToken(params, batch, cfg.embedDim);
  return encodeTokens(params, np.concatenate([cls, visible], 1), cfg);
}
