/**
 * L_comp, component-level facial structure, from the encoder's VISIBLE patch tokens:
 *
 *   coverage  c[b, l, k]  the fraction of patch l in component k's parsing classes (from
 *                         patch_hist; the mouth is upper lip + lower lip + inner mouth), taken
 *                         over visible patches only, so masked patches count zero
 *   embedding e[b, k]     Σ_l c·token / (Σ_l c + 1e-6), a coverage-weighted mean      [B, C, D]
 *   z[b, k]               L2-normalised component_proj(e), an MLP                      [B, C, E]
 *
 * comp_nce: two views of each image (different masks; the second view photometrically
 * jittered). Over the N = B·C components, view 1's z against view 2's (cross-view, as CLIP and
 * MoCo v3; same-view pairs are not contrasted), temperature τ: the
 * positive of (b, k) is (b, k) in the other view, every other component of every image in the
 * batch a negative; symmetric (both directions, averaged). Components with less than
 * MIN_COVERAGE visible in either view are left out as anchors and as negatives (weights, not
 * branches: nothing is read from the device).
 * comp_desc: the 8 landmark descriptors (components.ts), regressed by `descriptor_head`, a linear
 * map from view 1's embeddings concatenated [B, C·D] (absent components as zeros); MSE against
 * the descriptors as pretrainBatch gives them (standardised per descriptor).
 *
 * L_comp = comp_nce + comp_desc. Shapes: B batch, L patches, Lk visible patches, D encoder width,
 * C = 6 components, E = componentDim, K parsing classes.
 */
import { nn, numpy as np, random, tree, type Array } from "../engine/jax.js";
import { contiguous, initLinear, linear, type Linear } from "../model/vit.js";
import { COMPONENT_DESCRIPTORS, TASK_COMPONENTS } from "../priors/components.js";
import { PARSING_CLASSES, type ParsingClass } from "../priors/face-sample.js";
import type { MaeConfig } from "./mae-config.js";

export type ComponentHeads = {
  /** MLP D -> D -> E (timm's Mlp names), GELU between. */
  component_proj: { fc1: Linear; fc2: Linear };
  /** Linear [8, C·D]. */
  descriptor_head: Linear;
};

/** The parsing classes that make up each task component, in TASK_COMPONENTS order. */
export const COMPONENT_CLASSES: Record<(typeof TASK_COMPONENTS)[number], ParsingClass[]> = {
  left_brow: ["left_brow"],
  right_brow: ["right_brow"],
  left_eye: ["left_eye"],
  right_eye: ["right_eye"],
  nose: ["nose"],
  mouth: ["upper_lip", "lower_lip", "inner_mouth"],
};
export const NUM_COMPONENTS = TASK_COMPONENTS.length;

/** Visible coverage, in patches, below which a component is left out of the loss. */
export const MIN_COVERAGE = 0.01;

export function initComponentHeads(key: Array, cfg: MaeConfig): ComponentHeads {
  const d = cfg.encoder.embedDim;
  const [k1, k2, k3] = np.unstack(random.split(key, 3)) as Array[];
  return {
    component_proj: { fc1: initLinear(k1!, d, d), fc2: initLinear(k2!, cfg.componentDim, d) },
    descriptor_head: initLinear(k3!, COMPONENT_DESCRIPTORS.length, NUM_COMPONENTS * d),
  };
}

/** patch_hist [B, L, K] -> coverage [B, L, C]: the class fractions summed per component. */
export function componentCoverage(patchHist: Array): Array {
  const k = PARSING_CLASSES.length;
  const select = new Float32Array(k * NUM_COMPONENTS);
  TASK_COMPONENTS.forEach((name, c) => {
    for (const cls of COMPONENT_CLASSES[name]) select[PARSING_CLASSES.indexOf(cls) * NUM_COMPONENTS + c] = 1;
  });
  return np.matmul(patchHist, np.array(select).reshape([k, NUM_COMPONENTS]));
}

/**
 * tokens [B, Lk, D] and coverage [B, Lk, C] of the same visible patches -> embeddings [B, C, D]
 * and present [B, C] (1 where the visible coverage reaches MIN_COVERAGE). A component with no
 * visible coverage at all gets the embedding 0, never NaN.
 */
export function componentEmbeddings(tokens: Array, coverage: Array): { embeddings: Array; present: Array } {
  const total = coverage.ref.sum(1); // [B, C]
  const weights = coverage.div(total.ref.add(1e-6).reshape([total.shape[0]!, 1, NUM_COMPONENTS]));
  const embeddings = np.matmul(contiguous(weights.transpose([0, 2, 1])), tokens);
  const present = np.greaterEqual(total, MIN_COVERAGE).astype(np.float32);
  return { embeddings, present };
}

/** embeddings [B, C, D] -> z [B, C, E] = MLP, then L2 normalisation. */
export function projectComponents(proj: ComponentHeads["component_proj"], embeddings: Array): Array {
  const z = linear(proj.fc2, nn.gelu(linear(proj.fc1, embeddings), { approximate: false }));
  return z.ref.mul(np.reciprocal(np.sqrt(np.square(z).sum(-1, { keepdims: true }).add(1e-12))));
}

/** One direction of InfoNCE: rows of logits [N, N] are anchors, the diagonal their positives. */
function nceRows(logits: Array, valid: Array): Array {
  const n = valid.shape[0]!;
  const validColumns = np.greater(valid.ref.reshape([1, n]), 0);
  const masked = np.where(validColumns, logits.ref, -1e9);
  const positive = logits.mul(np.eye(n)).sum(-1);
  const perRow = nn.logsumexp(masked, -1).sub(positive);
  return perRow.mul(valid.ref).sum().div(np.maximum(valid.sum(), 1));
}

/**
 * Symmetric InfoNCE: z1, z2 [N, E] (row i of each is the same component of the same image, in
 * the two views), valid [N] 1/0 -> (nce(z1 -> z2) + nce(z2 -> z1)) / 2, logits ⟨z1_i, z2_j⟩ / τ.
 * Invalid rows are no anchors and invalid columns no negatives.
 */
export function infoNce(z1: Array, z2: Array, valid: Array, temperature: number): Array {
  const logits = np.matmul(z1, contiguous(z2.transpose())).mul(1 / temperature);
  const forward = nceRows(logits.ref, valid.ref);
  const backward = nceRows(contiguous(logits.transpose()), valid);
  return forward.add(backward).mul(0.5);
}

/** descriptors [B, 8] from view 1's embeddings [B, C, D] (absent ones zeroed); MSE. */
export function descriptorLoss(head: Linear, embeddings: Array, present: Array, descriptors: Array): Array {
  const [b, c, d] = embeddings.shape as [number, number, number];
  const kept = embeddings.mul(present.reshape([b, c, 1])).reshape([b, c * d]);
  return np.square(linear(head, kept).sub(descriptors)).mean();
}

/**
 * Photometric jitter for the second view, from the key: per image, contrast ×U(1-s, 1+s) about
 * the image's mean, then brightness +U(-s, s) in [0, 1] pixel units (2·U on the encoder's
 * mean/std 0.5 scale), clipped to the valid range [-1, 1]. images [B, 3, S, S]; s = 0 is no jitter.
 */
export function jitterImages(key: Array, images: Array, strength: number): Array {
  if (strength === 0) {
    key.dispose();
    return images;
  }
  const b = images.shape[0]!;
  const [kc, kb] = np.unstack(random.split(key, 2)) as Array[];
  const contrast = random.uniform(kc!, [b, 1, 1, 1], { minval: 1 - strength, maxval: 1 + strength });
  const brightness = random.uniform(kb!, [b, 1, 1, 1], { minval: -strength, maxval: strength }).mul(2);
  const mean = images.ref.mean([1, 2, 3], { keepdims: true });
  const jittered = images.sub(mean.ref).mul(contrast).add(mean).add(brightness);
  return np.clip(jittered, -1, 1);
}

export type ComponentView = {
  /** [B, Lk, D]: the encoder's visible patch tokens (class token dropped). */
  tokens: Array;
  /** [B, Lk, C]: the coverage of those same patches. */
  coverage: Array;
};
export type ComponentParts = { comp_nce: Array; comp_desc: Array };

/** Both parts of L_comp from the two views (see the file comment). */
export function componentLoss(
  heads: ComponentHeads,
  view1: ComponentView,
  view2: ComponentView,
  descriptors: Array,
  temperature: number,
): ComponentParts {
  const one = componentEmbeddings(view1.tokens, view1.coverage);
  const two = componentEmbeddings(view2.tokens, view2.coverage);
  const [b, c] = one.present.shape as [number, number];
  const n = b * c;
  const z1 = projectComponents(tree.ref(heads.component_proj), one.embeddings.ref);
  const z2 = projectComponents(heads.component_proj, two.embeddings);
  const e = z1.shape[2]!;
  const valid = one.present.ref.mul(two.present).reshape([n]);
  const comp_nce = infoNce(z1.reshape([n, e]), z2.reshape([n, e]), valid, temperature);
  const comp_desc = descriptorLoss(heads.descriptor_head, one.embeddings, one.present, descriptors);
  return { comp_nce, comp_desc };
}
