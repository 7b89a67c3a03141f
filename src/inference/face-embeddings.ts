/**
 * Photos -> one row of encoder features per face, for `faceprior embed --crop faces`: each face
 * found and aligned by the face-prior teacher as `analyze` finds it (FaceAnalyzer.embed), with
 * each image's faces (box and detection score) in row order.
 */
import type { FaceAnalyzer, FaceEmbedding } from "./face-analyzer.js";

/** One image's faces, in row order: each one's box in the image's upright pixels and its detection score. */
export type ImageFaces = { source: string; faces: Pick<FaceEmbedding, "box" | "score">[] };

export type FaceEmbeddings = {
  /** [F, D], one row per face, in the order of the images' faces. */
  rows: Float32Array;
  /** Every image, in file order, with its faces (none when none was found). */
  images: ImageFaces[];
};

/** Every face of every file, in file order and, within an image, largest first; `onImage` after each file. */
export async function embedFacesOf(analyzer: FaceAnalyzer, files: readonly string[], onImage?: () => void): Promise<FaceEmbeddings> {
  const dim = analyzer.model.cfg.embedDim;
  const embeddings: Float32Array[] = [];
  const images: ImageFaces[] = [];
  for await (const image of analyzer.embedAll(files)) {
    images.push({ source: image.source, faces: image.faces.map(({ box, score }) => ({ box, score })) });
    for (const { embedding } of image.faces) embeddings.push(embedding);
    onImage?.();
  }
  const rows = new Float32Array(embeddings.length * dim);
  embeddings.forEach((row, i) => rows.set(row, i * dim));
  return { rows, images };
}
