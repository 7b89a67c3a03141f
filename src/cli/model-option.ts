import { vitPresetNames } from "../model/vit-presets.js";

/**
 * `--model`, with one meaning in every command: the model file the command runs, the bundled
 * default model when left out. analyze, demo and add-head need a face model (an encoder with
 * heads); embed and export also take a bare encoder checkpoint. The encoder a training command
 * starts from is `--init`, the one pack joins heads to `--encoder`.
 */
export const MODEL_OPTION = {
  type: "string",
  placeholder: "file",
  description: "Face model (.safetensors): an encoder with heads.",
  defaultText: "the bundled model",
} as const;

/** `--model` where a bare encoder checkpoint serves too (embed, export). */
export const MODEL_OR_ENCODER_OPTION = {
  ...MODEL_OPTION,
  description: "Face model, or a bare ViT encoder checkpoint (.safetensors).",
} as const;

/** `--arch` and `--img-size` of the commands that read a checkpoint file (embed, export): both default to its metadata. */
export const CHECKPOINT_SHAPE_OPTIONS = {
  arch: {
    type: "choice",
    choices: vitPresetNames(),
    placeholder: "name",
    description: "Architecture, for a checkpoint without metadata or to override it.",
  },
  imgSize: {
    type: "int",
    min: 8,
    placeholder: "pixels",
    description: "Input size; the position embeddings are resampled.",
    defaultText: "the checkpoint's",
  },
} as const;
