/**
 * `faceprior demo`: the browser demo (web/, docs/DEMO.md). Exports the face model to ONNX in a
 * temporary folder and serves the page, its code, the vendor files and the model on node:http
 * until Ctrl-C; the page then runs everything in the browser.
 */
import { once } from "node:events";
import { prepareDemoSite } from "../../demo/demo-site.js";
import { startStaticServer } from "../../demo/static-server.js";
import { DEFAULT_MODEL_PATH } from "../../inference/face-analyzer.js";
import { defineCommand } from "../command.js";
import { MODEL_OPTION } from "../model-option.js";

export const demo = defineCommand({
  name: "demo",
  summary: "Serve the browser demo: drop a photo, see each face's predictions and overlay.",
  details: [
    "The page finds faces with Human (tfjs on wasm), aligns them on a canvas and runs the model with onnxruntime-web: nothing leaves the browser.",
    "The model (the bundled one unless --model names another face model) is exported to ONNX in a temporary folder, removed when the server stops.",
  ],
  options: {
    model: MODEL_OPTION,
    port: { type: "int", min: 0, max: 65535, default: 8080, description: "Port to listen on; 0 picks a free one." },
    host: { type: "flag", description: "Listen on every network interface, not only this machine (127.0.0.1)." },
  },
  examples: ["faceprior demo", "faceprior demo --model my-model.safetensors --port 9000"],
  async run(options, _inputs, ctx) {
    // Ctrl-C and SIGTERM end the process from main.ts; the exported model's folder goes with it.
    const site = await prepareDemoSite(options.model ?? DEFAULT_MODEL_PATH);
    const { urls, server } = await startStaticServer(site.routes, { host: options.host ? "0.0.0.0" : "127.0.0.1", port: options.port });
    const heads = site.model.heads.map((h) => h.name).join(", ");
    const also = urls.length > 1 ? `Also on: ${urls.slice(1).join(" ")}\n` : "";
    ctx.stdout.write(
      `faceprior demo: ${urls[0]}\n${also}Model ${site.model.source} (heads: ${heads}). Open an address in a browser and drop a photo; Ctrl-C stops the server.\n`,
    );
    await once(server, "close");
  },
});
