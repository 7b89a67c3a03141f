/**
 * Image files -> ViT features, for `faceprior embed --crop center`: the encoder runner
 * (encoder-runner.ts) over the files, each resized and centre-cropped, a batch decoded ahead
 * while the model runs.
 */
import type { HostVitCheckpoint } from "../checkpoint/vit-checkpoint.js";
import { decodeImageBatch, type DecodeImageOptions } from "../data/image.js";
import type { JsonlLog } from "../io/jsonl-log.js";
import { outputName, outputRowShape, UNIT_RGB, type EncoderOutput, type EncoderRunner } from "../face-model/encoder-runner.js";

/** The class token, the mean of the patch tokens, or all tokens. */
export type TokenKind = "cls" | "mean" | "all";

/** What the encoder runner gives per image for `kind`. */
export function tokenOutput(kind: TokenKind): EncoderOutput {
  return kind === "all" ? { kind: "tokens" } : { kind: "pooled", pooling: kind === "cls" ? "token" : "avg" };
}

/** The output shape of one image: [D], or [1 + patches, D] for all tokens. */
export function embeddingRowShape(ckpt: HostVitCheckpoint, kind: TokenKind): number[] {
  return outputRowShape(tokenOutput(kind), ckpt.cfg);
}

export type EmbedFilesOptions = {
  decode: Omit<DecodeImageOptions, "mean" | "std">;
  log: JsonlLog | null;
  onBatch?: (images: number) => void;
};

/** Runs `runner` over `files`; returns their rows of its output, [N, ...rowShape] flattened. */
export async function embedFiles(runner: EncoderRunner, files: string[], options: EmbedFilesOptions): Promise<Float32Array> {
  const { decode, log, onBatch } = options;
  let start = 0;
  const outputs = await runner.map(
    files.length,
    (from, to) => decodeImageBatch(files.slice(from, to), { ...decode, ...UNIT_RGB }),
    (images, seconds) => {
      log?.write({ event: "batch", start, images, seconds, images_per_s: images / seconds });
      start += images;
      onBatch?.(images);
    },
  );
  return outputs[outputName(runner.output)]!;
}
