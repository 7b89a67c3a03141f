/**
 * Photos -> one row of encoder features per face, for `faceprior embed --crop faces`: each face
 * found and aligned by the face-prior teacher as `analyze` finds it (FaceAnalyzer.embed), with the
 * source file, box and detection score of each row.
 */
import type { FaceAnalyzer, FaceEmbedding } from "./face-analyzer.js";

/** Where one row came from: the image, and the face's box in its upright pixels. */
export type FaceRowSource = { source: string; box: FaceEmbedding["box"]; score: number };

export type FaceEmbeddings = {
  /** [F, D], one row per face, in the order of `faces`. */
  rows: Float32Array;
  faces: FaceRowSource[];
  /** Images in which no face was found. */
  noFace: string[];
};

/** Every face of every file, in file order and, within an image, largest first; `onImage` after each file. */
export async function embedFacesOf(analyzer: FaceAnalyzer, files: readonly string[], onImage?: () => void): Promise<FaceEmbeddings> {
  const dim = analyzer.model.cfg.embedDim;
  const embeddings: Float32Array[] = [];
  const faces: FaceRowSource[] = [];
  const noFace: string[] = [];
  for await (const image of analyzer.embedAll(files)) {
    if (image.faces.length === 0) noFace.push(image.source);
    for (const { embedding, box, score } of image.faces) {
      embeddings.push(embedding);
      faces.push({ source: image.source, box, score });
    }
    onImage?.();
  }
  const rows = new Float32Array(embeddings.length * dim);
  embeddings.forEach((row, i) => rows.set(row, i * dim));
  return { rows, faces, noFace };
}
