/**
 * Resumable run state: one safetensors file per checkpoint holding the parameters (their timm
 * names, so the file doubles as a state dict), the optimizer state (`opt.count`,
 * `opt.mu.blocks.0.attn.qkv.weight`, ...) and, in the metadata, where the loop stands (step,
 * epoch, data position, seed, the next step's RNG key) with the resolved config.
 *
 *   <runDir>/checkpoints/step-00000012.safetensors   written to a temporary file, then renamed
 *   <runDir>/latest.json                             { checkpoint, step }, replaced atomically
 *
 * A crash at any point leaves `latest.json` naming a complete checkpoint. Older checkpoints are
 * pruned only after the pointer has moved, keeping the newest `keep`.
 *
 * A milestone is the same format with float16 parameters and no optimizer state: small enough to
 * commit, so that a long run can warm-restart on a new machine (fresh AdamW moments, the same
 * step, schedule and data order).
 */
import { copyFile, mkdir, readFile, readdir, rm } from "node:fs/promises";
import { pathExists } from "../io/path-exists.js";
import { dirname, join, resolve } from "node:path";
import { numpy as np, tree, type Array } from "../engine/jax.js";
import { FacepriorError } from "../errors.js";
import { writeJsonAtomic } from "../io/atomic-write.js";
import { unflattenNamed } from "../checkpoint/param-names.js";
import { readSafetensors, writeSafetensors, type HostTensor, type TensorMap } from "../checkpoint/safetensors.js";
import { namedLeaves, type Tree } from "./tree-names.js";
import { RUN_STATE_FORMAT } from "../checkpoint/vit-metadata.js";
import type { ResolvedTrainConfig } from "./train-config.js";

export type RunMeta = {
  /** Optimizer updates done. */
  step: number;
  /** Epoch of the next batch, and `position`, the index into that epoch's order of its first example. */
  epoch: number;
  position: number;
  seed: number;
  /** Key words of the next step, `stepKeyData(seed, step)`. */
  rngKey: [number, number];
  config: ResolvedTrainConfig;
};
export type RunState<P extends Tree = Tree, S extends Tree = Tree> = { params: P; optState: S; meta: RunMeta };

const OPT_PREFIX = "opt";
export const LATEST_FILE = "latest.json";
/** The run's log (train-loop.ts), and the copy a milestone keeps beside it. */
export const LOG_FILE = "log.jsonl";

export function checkpointPath(runDir: string, step: number): string {
  return join(runDir, "checkpoints", `step-${String(step).padStart(8, "0")}.safetensors`);
}

/** Writes a checkpoint and moves `latest.json` to it; borrows the arrays. Returns the file's path. */
export async function saveRunState(runDir: string, state: RunState, keep = 2): Promise<string> {
  const params = await toHostTensors(state.params, "");
  if (Object.keys(params).some((name) => name === OPT_PREFIX || name.startsWith(`${OPT_PREFIX}.`))) {
    throw new Error(`saveRunState: a parameter is named "${OPT_PREFIX}...", which collides with the optimizer state`);
  }
  const opt = await toHostTensors(state.optState, OPT_PREFIX);
  const metadata = {
    format: RUN_STATE_FORMAT,
    run: JSON.stringify(state.meta),
    order: JSON.stringify({ params: Object.keys(params), opt: Object.keys(opt) }),
  };
  const path = checkpointPath(runDir, state.meta.step);
  await writeSafetensors(path, { ...params, ...opt }, metadata);
  await writeJsonAtomic(join(runDir, LATEST_FILE), { checkpoint: join("checkpoints", pathTail(path)), step: state.meta.step });
  await pruneCheckpoints(runDir, keep, state.meta.step);
  return path;
}

/** Writes the parameters as float16, with the run's position and no optimizer state (see above). */
export async function saveMilestone(path: string, params: Tree, meta: RunMeta): Promise<void> {
  const tensors = asFloat16(await toHostTensors(params, ""));
  const metadata = {
    format: RUN_STATE_FORMAT,
    run: JSON.stringify(meta),
    order: JSON.stringify({ params: Object.keys(tensors), opt: [] }),
  };
  await writeSafetensors(path, tensors, metadata);
}

/** The tensors with float32 ones stored as float16 (a milestone's weights). */
function asFloat16(tensors: TensorMap): TensorMap {
  return Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, t.dtype === "F32" ? { ...t, dtype: "F16" as const } : t]));
}

/** Writes the checkpoint at `checkpoint` again as a milestone at `path`: its parameters in float16, its position, no optimizer state. */
export async function milestoneOfCheckpoint(checkpoint: string, path: string): Promise<void> {
  const { tensors, metadata } = await readSafetensors(checkpoint);
  const order = parseMetadata(checkpoint, "order", metadata.order ?? "") as { params: string[] };
  const params = asFloat16(Object.fromEntries(order.params.map((name) => [name, tensors[name]!])));
  await writeSafetensors(path, params, { ...metadata, order: JSON.stringify({ params: order.params, opt: [] }) });
}

/**
 * Makes the milestone at `milestonePath` the latest checkpoint of `runDir`, unless the run has a
 * checkpoint already (which is newer or the same run's), and the log beside it the run's log (the
 * train loop trims it to the milestone's step). Returns whether it did.
 */
export async function restoreMilestone(runDir: string, milestonePath: string): Promise<boolean> {
  if (await pathExists(join(runDir, LATEST_FILE))) return false;
  const state = await readRunState(milestonePath);
  tree.dispose([state.params, state.optState]);
  if (!isMilestone(state))
    throw new FacepriorError(
      "RUN_STATE",
      `${milestonePath}: holds optimizer state, so it is a checkpoint, not a milestone. Put it in the run folder's checkpoints/ and point latest.json at it instead.`,
    );
  const path = checkpointPath(runDir, state.meta.step);
  await mkdir(dirname(path), { recursive: true });
  await copyFile(milestonePath, path);
  const log = join(dirname(milestonePath), LOG_FILE);
  if (resolve(log) !== resolve(join(runDir, LOG_FILE)))
    await copyFile(log, join(runDir, LOG_FILE)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
  await writeJsonAtomic(join(runDir, LATEST_FILE), { checkpoint: join("checkpoints", pathTail(path)), step: state.meta.step });
  return true;
}

/** True for a milestone (no optimizer state), from which a run restarts warm. */
export function isMilestone(state: RunState): boolean {
  return Object.keys(namedLeaves(state.optState)).length === 0;
}

/** The state `latest.json` points at, or null when the run has no checkpoint yet. */
export async function loadRunState(runDir: string): Promise<{ state: RunState; path: string } | null> {
  const pointerPath = join(runDir, LATEST_FILE);
  let pointer: { checkpoint?: unknown };
  try {
    pointer = JSON.parse(await readFile(pointerPath, "utf8"));
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new FacepriorError("RUN_STATE", `${pointerPath}: does not parse (${(cause as Error).message}). Delete it to start over.`, {
      cause,
    });
  }
  if (typeof pointer?.checkpoint !== "string") {
    throw new FacepriorError("RUN_STATE", `${pointerPath}: has no "checkpoint" path. Delete it to start over.`);
  }
  const path = join(runDir, pointer.checkpoint);
  try {
    return { state: await readRunState(path), path };
  } catch (cause) {
    const problem = (cause as Error).message;
    throw new FacepriorError(
      "RUN_STATE",
      `${pointerPath}: points at a checkpoint that cannot be loaded (${problem}). Point it at an earlier file in checkpoints/, or delete it to start over.`,
      { cause },
    );
  }
}

/** Reads one checkpoint file back into trees with the key order they were saved in. */
export async function readRunState(path: string): Promise<RunState> {
  const { tensors, metadata } = await readSafetensors(path);
  if (metadata.format !== RUN_STATE_FORMAT || metadata.run === undefined || metadata.order === undefined) {
    throw new FacepriorError(
      "RUN_STATE",
      `${path}: is not a faceprior run checkpoint (metadata format ${JSON.stringify(metadata.format)}, expected "${RUN_STATE_FORMAT}"). Resume from a file written by the train loop.`,
    );
  }
  const order = parseMetadata(path, "order", metadata.order) as { params: string[]; opt: string[] };
  const pick = (names: string[], strip: string) =>
    unflattenNamed(
      Object.fromEntries(
        names.map((name) => {
          const tensor = tensors[name];
          if (!tensor) {
            throw new FacepriorError(
              "RUN_STATE",
              `${path}: tensor ${name} is listed but missing. The file is damaged; resume from an earlier checkpoint.`,
            );
          }
          return [name.slice(strip.length), toDevice(tensor)];
        }),
      ),
    ) as Tree;
  const meta = parseMetadata(path, "run", metadata.run) as RunMeta;
  return { params: pick(order.params, ""), optState: pick(order.opt, `${OPT_PREFIX}.`), meta };
}

function parseMetadata(path: string, key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new FacepriorError(
      "RUN_STATE",
      `${path}: metadata "${key}" is not JSON. The file is damaged; resume from an earlier checkpoint.`,
      { cause },
    );
  }
}

async function toHostTensors(t: Tree, prefix: string): Promise<TensorMap> {
  const out: TensorMap = {};
  for (const [name, leaf] of Object.entries(namedLeaves(t))) {
    const full = prefix ? (name ? `${prefix}.${name}` : prefix) : name;
    out[full] = await toHost(full, leaf);
  }
  return out;
}

async function toHost(name: string, leaf: Array): Promise<HostTensor> {
  const shape = [...leaf.shape];
  if (leaf.dtype === np.float32) return { dtype: "F32", shape, data: (await leaf.ref.data()) as Float32Array };
  if (leaf.dtype === np.int32) return { dtype: "I32", shape, data: (await leaf.ref.data()) as Int32Array };
  throw new Error(`saveRunState: ${name} is ${leaf.dtype}; only float32 and int32 leaves can be saved`);
}

function toDevice(t: HostTensor): Array {
  const dtype = t.dtype === "I32" || t.dtype === "I64" ? np.int32 : np.float32;
  return np.array(t.data, { dtype }).reshape(t.shape);
}

function pathTail(path: string): string {
  return path.split(/[\\/]/).at(-1)!;
}

async function pruneCheckpoints(runDir: string, keep: number, current: number): Promise<void> {
  const dir = join(runDir, "checkpoints");
  const steps = (await readdir(dir))
    .map((file) => /^step-(\d+)\.safetensors$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  const stale = steps.filter((step, i) => i >= keep && step !== current);
  await Promise.all(stale.map((step) => rm(checkpointPath(runDir, step), { force: true })));
}
