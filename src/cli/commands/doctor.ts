/**
 * `faceprior doctor`: what this machine can compute on (wasm threads, onnxruntime-node and its
 * execution providers, the WebGPU adapters Dawn sees) and which engine each command picks with
 * `--engine auto` on either device. It starts no engine, so it also works where one would fail.
 */
import { availableParallelism } from "node:os";
import { ENGINE_DEVICES, type EngineDevice } from "../../engine/devices.js";
import { loadOnnxRuntime, ORT_INSTALL_HINT } from "../../engine/onnxruntime.js";
import { findWebGpu, listWebGpuAdapters, type AdapterInfo } from "../../engine/webgpu-adapter.js";
import { chooseEngine } from "../../engine/onnx-session.js";
import { defineCommand } from "../command.js";
import { jsonOption, writeJsonOutput } from "../json-output.js";
import { columns } from "../help.js";

type OrtReport = { version: string; providers: string[]; notInstalled: string[] } | null;
type WebGpuReport =
  | { available: true; adapter: AdapterInfo; adapters: string[] }
  | { available: false; reason: string; adapters: string[] };
type DoctorReport = {
  node: string;
  platform: string;
  cores: number;
  wasmThreads: number;
  onnxruntime: OrtReport;
  webgpu: WebGpuReport;
  /** VK_DRIVER_FILES, which picks the Vulkan driver (the NVIDIA ICD on a GPU machine). */
  vulkanDriverFiles: string | null;
  /** Per device, per group of commands, the engine `--engine auto` picks. */
  engines: Record<EngineDevice, Record<string, string>>;
};

async function onnxRuntimeReport(): Promise<OrtReport> {
  const ort = await loadOnnxRuntime();
  if (!ort) return null;
  const backends = ort.listSupportedBackends();
  const names = (bundled: boolean) => backends.filter((b) => b.bundled === bundled).map((b) => b.name);
  return { version: ort.env.versions.node ?? "unknown", providers: names(true), notInstalled: names(false) };
}

async function webGpuReport(): Promise<WebGpuReport> {
  const [status, adapters] = [await findWebGpu(), await listWebGpuAdapters()];
  return status.available ? { available: true, adapter: status.adapter, adapters } : { available: false, reason: status.reason, adapters };
}

/** The engine of each group of commands on `device`, as the commands choose it (chooseEngine). */
async function enginesOn(device: EngineDevice, webgpu: WebGpuReport): Promise<Record<string, string>> {
  const jax = device === "webgpu" && !webgpu.available ? "jax-js on webgpu (no adapter here: NO_DEVICE)" : `jax-js on ${device}`;
  const name = (engine: string) => (engine === "onnx" ? "onnxruntime-node (CPU)" : jax);
  const auto = name(await chooseEngine("auto", device));
  return { "analyze, embed, pretrain, finetune, study": auto, "add-head": `features ${auto}; head ${jax}` };
}

async function doctorReport(wasmThreads: number): Promise<DoctorReport> {
  const webgpu = await webGpuReport();
  const engines = Object.fromEntries(await Promise.all(ENGINE_DEVICES.map(async (d) => [d, await enginesOn(d, webgpu)] as const)));
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cores: availableParallelism(),
    wasmThreads,
    onnxruntime: await onnxRuntimeReport(),
    webgpu,
    vulkanDriverFiles: process.env.VK_DRIVER_FILES ?? null,
    engines: engines as DoctorReport["engines"],
  };
}

function describeAdapter({ description, vendor, software }: AdapterInfo): string {
  const kind = software ? "a software adapter: a CPU emulating a GPU, right for tests, slow for training" : "a hardware adapter";
  return `${description || "(no description)"} (${vendor || "unknown vendor"}; ${kind})`;
}

function reportText(r: DoctorReport): string {
  const ort = r.onnxruntime;
  const machine: [string, string][] = [
    ["node", `${r.node}, ${r.platform}, ${r.cores} cores`],
    ["wasm", `jax-js, ${r.wasmThreads} threads (--threads)`],
    [
      "onnxruntime",
      ort
        ? `onnxruntime-node ${ort.version}; execution providers ${ort.providers.join(", ")}${ort.notInstalled.length ? ` (not installed: ${ort.notInstalled.join(", ")})` : ""}`
        : `not installed (an optional peer dependency; jax-js does its work). Install it with \`${ORT_INSTALL_HINT}\``,
    ],
    ["webgpu", r.webgpu.available ? describeAdapter(r.webgpu.adapter) : `unavailable: ${r.webgpu.reason}`],
    ["adapters", r.webgpu.adapters.join("; ") || "none"],
    ["VK_DRIVER_FILES", r.vulkanDriverFiles ?? "unset (the Vulkan loader searches its default folders)"],
  ];
  const groups = Object.keys(r.engines.wasm);
  const engines = ENGINE_DEVICES.flatMap((device) => [
    `with --device ${device}:`,
    ...columns(groups.map((g) => [g, r.engines[device][g]!])),
  ]);
  return ["faceprior doctor", ...columns(machine), "", "engine per command (--engine auto)", ...engines].join("\n") + "\n";
}

export const doctor = defineCommand({
  name: "doctor",
  summary: "Print the compute devices and engines this machine has, and which engine each command uses.",
  details: [
    "Lists the wasm threads, onnxruntime-node and its execution providers, and the WebGPU adapters that the optional `webgpu` package (Dawn) finds, then the engine each command picks with --engine auto on --device wasm and on --device webgpu. Nothing is computed.",
    "A software adapter (Mesa's llvmpipe) runs the WebGPU code path on the CPU: right for tests, slow for training.",
  ],
  options: {
    json: jsonOption("The report"),
  },
  examples: ["faceprior doctor", "faceprior doctor --json"],
  async run(options, _inputs, ctx) {
    const report = await doctorReport(ctx.globals.threads);
    if (options.json) await writeJsonOutput(options.json, report, ctx.stdout);
    else ctx.stdout.write(reportText(report));
  },
});
