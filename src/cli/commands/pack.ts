/** `faceprior pack`: an encoder and linear-probe heads -> one face model file for analyze and export. */
import { resolve } from "node:path";
import { packFaceModel } from "../../transfer/pack-model.js";
import { defineCommand } from "../command.js";

export const pack = defineCommand({
  name: "pack",
  summary: "Pack an encoder and the heads of probe runs into one face model (for analyze, export).",
  details: [
    "Each of --heads is the folder of a `faceprior finetune --mode probe` run on this encoder; its first fold and seed's head is packed, with its held-out metrics as provenance.",
    "The encoder is stored in fp16 (ViT-Tiny: about 11 MB); heads stay float32.",
  ],
  options: {
    encoder: { type: "string", required: true, placeholder: "file", description: "Encoder checkpoint the heads were trained on." },
    heads: { type: "string", required: true, placeholder: "dir,...", description: "Probe run folders, comma-separated, one per task." },
    description: { type: "string", default: "", placeholder: "text", description: "What the model is, stored in its metadata." },
    out: { type: "string", required: true, placeholder: "file", description: "Face model file to write (.safetensors)." },
  },
  examples: ["faceprior pack --encoder full.safetensors --heads runs/au,runs/age --out model.safetensors"],
  async run(options, _inputs, ctx) {
    const heads = options.heads.split(",").map((h) => resolve(h.trim()));
    const { heads: names, bytes } = await packFaceModel(resolve(options.encoder), heads, resolve(options.out), options.description);
    ctx.stdout.write(`Wrote ${options.out}: heads ${names.join(", ")}; ${(bytes / 1e6).toFixed(1)} MB.\n`);
  },
});
