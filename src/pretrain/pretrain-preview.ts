/**
 * What the pretraining heads see and predict on a few held-out faces, drawn for people: per face
 * a row of input | masked input | reconstruction | predicted parsing | landmarks (predicted in
 * red, the prior in green). Heads a variant lacks leave their tile grey. Runs eagerly: it is a
 * handful of faces once per epoch.
 */
import { numpy as np, tree, type Array } from "../engine/jax.js";
import { linear } from "../model/vit.js";
import { CLASS_COLOURS, drawDots, tileSheet } from "../priors/overlay.js";
import { pixelTargets } from "./loss-mim.js";
import { NUM_LANDMARKS } from "./loss-patch.js";
import { NUM_PARSING_CLASSES } from "./loss-pixel.js";
import { encoderParams, forwardDecoder, forwardEncoder, predictPixels, type MaeConfig, type MaeParams } from "./mae.js";
import { gatherTokens, randomMasking } from "./masking.js";
import type { PretrainBatch } from "./pretrain-loss.js";

/** Host arrays for N faces at side S with patch p; L = (S/p)^2 patches, P = 3·p·p. */
export type PreviewData = {
  size: number;
  patchSize: number;
  /** [N, 3, S, S] inputs as the encoder saw them, normalised to [-1, 1]. */
  images: Float32Array;
  /** [N, L]: 1 masked, 0 visible. */
  mask: Float32Array;
  /** [N, L, P] predicted pixels, de-normalised with each target patch's mean and std. */
  pixels: Float32Array;
  /** [N, L, p·p] predicted parsing classes, when the variant has a pixel head. */
  parsing?: Uint8Array;
  /** [N, 68, 2] predicted landmarks in pixels, when it has a patch head. */
  landmarks?: Float32Array;
  /** [N, 68, 2] the prior's landmarks, for comparison. */
  priorLandmarks: Float32Array;
};

/** Predicted pixels in image units: norm-pix predictions are mapped back with the target patch's stats. */
function denormalisedPixels(params: MaeParams, decoded: Array, images: Array, mae: MaeConfig): Array {
  const pred = predictPixels(tree.ref(params.decoder_pred), decoded);
  if (!mae.normPixLoss) {
    images.dispose();
    return pred;
  }
  const raw = pixelTargets(images, mae.encoder.patchSize, false);
  const count = raw.shape[2]!;
  const mean = raw.ref.mean(-1, { keepdims: true });
  const variance = np
    .square(raw.sub(mean.ref))
    .sum(-1, { keepdims: true })
    .div(count - 1);
  return pred.mul(np.sqrt(variance.add(1e-6))).add(mean);
}

/** Landmark m's predicted position: the argmax patch of its query, plus the offset head there. */
function predictedLandmarks(head: NonNullable<MaeParams["patch_head"]>, decoded: Array, patchSize: number, grid: number): Array {
  const [b, , dd] = decoded.shape as [number, number, number];
  const keys = linear(head.key_proj, decoded.ref);
  const logits = np.matmul(keys, head.landmark_queries.transpose()); // [B, L, M]
  const patch = np.argmax(logits, 1).astype(np.int32); // [B, M]
  const atPatch = gatherTokens(decoded, patch.ref).reshape([b, NUM_LANDMARKS, 1, dd]);
  const offsets = atPatch
    .mul(head.offset.weight.reshape([1, NUM_LANDMARKS, 2, dd]))
    .sum(-1)
    .add(head.offset.bias.reshape([1, NUM_LANDMARKS, 2]));
  const inPatch = np.reciprocal(np.exp(offsets.neg()).add(1)); // sigmoid, [B, M, 2]
  const index = patch.astype(np.float32);
  const row = np.floor(index.ref.div(grid));
  const col = index.sub(row.ref.mul(grid));
  return np.stack([col, row], -1).add(inPatch).mul(patchSize);
}

/** Runs the model on `batch` (consumed) with a fixed mask from `key`; `params` is borrowed. */
export async function previewPretraining(
  params: MaeParams,
  batch: PretrainBatch,
  mae: MaeConfig,
  key: Array,
  priorLandmarks: Float32Array,
): Promise<PreviewData> {
  const enc = mae.encoder;
  const { patchSize, imgSize: size } = enc;
  const grid = size / patchSize;
  const n = batch.images.shape[0]!;
  const view = randomMasking(key, n, grid * grid, mae.maskRatio);
  const latent = forwardEncoder(tree.ref(encoderParams(params)), batch.images.ref, view.idsKeep, enc);
  const { decoder_embed, mask_token, decoder_pos_embed, decoder_blocks, decoder_norm } = params;
  const decoded = forwardDecoder(
    tree.ref({ decoder_embed, mask_token, decoder_pos_embed, decoder_blocks, decoder_norm }),
    latent,
    view.idsRestore,
    mae,
  );
  const pixels = denormalisedPixels(params, decoded.ref, batch.images.ref, mae);
  const parsing = params.pixel_head
    ? np.argmax(linear(tree.ref(params.pixel_head), decoded.ref).reshape([n, grid * grid, patchSize * patchSize, NUM_PARSING_CLASSES]), -1)
    : null;
  const landmarks = params.patch_head ? predictedLandmarks(tree.ref(params.patch_head), decoded.ref, patchSize, grid) : null;
  decoded.dispose();
  const images = (await batch.images.data()) as Float32Array;
  tree.dispose({ ...batch, images: undefined });
  return {
    size,
    patchSize,
    images,
    mask: (await view.mask.data()) as Float32Array,
    pixels: (await pixels.data()) as Float32Array,
    parsing: parsing ? Uint8Array.from((await parsing.data()) as Int32Array) : undefined,
    landmarks: landmarks ? ((await landmarks.data()) as Float32Array) : undefined,
    priorLandmarks,
  };
}

const toByte = (v: number) => Math.max(0, Math.min(255, Math.round((v * 0.5 + 0.5) * 255)));
const GREY = 128;

/** Face i's tiles, each [S, S, 3]: see the file comment. */
function faceTiles(d: PreviewData, i: number): Uint8Array[] {
  const { size: s, patchSize: p } = d;
  const grid = s / p;
  const plane = s * s;
  const tile = () => new Uint8Array(plane * 3);
  const [input, masked, recon] = [tile(), tile(), tile()];
  const parsing = tile().fill(GREY);
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      const patch = Math.floor(y / p) * grid + Math.floor(x / p);
      const hidden = d.mask[i * grid * grid + patch] === 1;
      const within = (y % p) * p + (x % p);
      for (let c = 0; c < 3; c++) {
        const value = toByte(d.images[i * 3 * plane + c * plane + y * s + x]!);
        const predicted = toByte(d.pixels[(i * grid * grid + patch) * 3 * p * p + c * p * p + within]!);
        const at = 3 * (y * s + x) + c;
        input[at] = value;
        masked[at] = hidden ? GREY : value;
        recon[at] = hidden ? predicted : value;
      }
      if (d.parsing) parsing.set(CLASS_COLOURS[d.parsing[(i * grid * grid + patch) * p * p + within]!]!, 3 * (y * s + x));
    }
  }
  const points = Uint8Array.from(input);
  drawDots(points, s, d.priorLandmarks.subarray(i * 136, (i + 1) * 136), [0, 255, 0]);
  if (d.landmarks) drawDots(points, s, d.landmarks.subarray(i * 136, (i + 1) * 136), [255, 0, 0]);
  return [input, masked, recon, parsing, points];
}

/** The preview sheet as PNG bytes: one row per face, five tiles a row. */
export async function previewSheet(d: PreviewData): Promise<Buffer> {
  const faces = d.mask.length / (d.size / d.patchSize) ** 2;
  const tiles: Uint8Array[] = [];
  for (let i = 0; i < faces; i++) tiles.push(...faceTiles(d, i));
  return tileSheet(tiles, d.size, 5);
}
