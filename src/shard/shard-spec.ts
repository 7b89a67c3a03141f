/**
 * Which part of a sharded job a process does: shard `index` of `count`, counted from 0, given
 * as `--shard i/n` or read from the batch scheduler with `--shard auto`:
 *
 *   Slurm job array       SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT
 *   Kubernetes Indexed Job  JOB_COMPLETION_INDEX of FACEPRIOR_SHARD_COUNT (set it to the Job's completions)
 *
 * An item (a manifest row, an image, a cached face) belongs to shard
 * `first 6 bytes of SHA-256(its path, UTF-8), big-endian, mod count`: the assignment depends on
 * the item's own path only, so adding images to a dataset moves none of the others.
 */
import { createHash } from "node:crypto";
import { FacepriorError } from "../errors.js";

export type ShardSpec = { index: number; count: number };

/** Kubernetes hands a pod its index but not the Job's completions: this variable carries the count. */
export const SHARD_COUNT_ENV = "FACEPRIOR_SHARD_COUNT";

export type Environment = Readonly<Record<string, string | undefined>>;

const MAX_SHARDS = 1_000_000;

function badShard(value: string, problem: string, fix: string): FacepriorError {
  return new FacepriorError("BAD_ARGUMENT", `shard "${value}": ${problem}. ${fix}.`, { option: "shard" });
}

/** `i/n` (0 <= i < n), or `auto` for the scheduler's index and count in `env`. */
export function parseShard(value: string, env: Environment): ShardSpec {
  if (value === "auto") return shardFromEnvironment(env);
  const match = /^(\d+)\/(\d+)$/.exec(value);
  if (!match)
    throw badShard(value, "is not <index>/<count> or auto", "Pass e.g. 0/10, or auto inside a Slurm array or Kubernetes Indexed Job");
  return checkedShard(Number(match[1]), Number(match[2]), value);
}

function checkedShard(index: number, count: number, shown: string): ShardSpec {
  if (!(count >= 1 && count <= MAX_SHARDS)) throw badShard(shown, `has ${count} shards`, `Use 1 to ${MAX_SHARDS}`);
  if (!(index >= 0 && index < count))
    throw badShard(shown, `index ${index} is not below the count ${count}`, `Shards count from 0: use 0/${count} to ${count - 1}/${count}`);
  return { index, count };
}

/** A whole number from the environment, or an error naming the variable. */
function envNumber(env: Environment, name: string, fix: string): number {
  const value = env[name];
  if (value === undefined || !/^\d+$/.test(value.trim())) {
    throw badShard("auto", `${name} is ${value === undefined ? "not set" : `"${value}", not a whole number`}`, fix);
  }
  return Number(value);
}

function shardFromEnvironment(env: Environment): ShardSpec {
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const fix = "Submit with sbatch --array=0-<n-1> (consecutive ids), or pass i/n";
    const id = envNumber(env, "SLURM_ARRAY_TASK_ID", fix);
    const count = envNumber(env, "SLURM_ARRAY_TASK_COUNT", fix);
    const min = env.SLURM_ARRAY_TASK_MIN === undefined ? 0 : envNumber(env, "SLURM_ARRAY_TASK_MIN", fix);
    const step = env.SLURM_ARRAY_TASK_STEP === undefined ? 1 : envNumber(env, "SLURM_ARRAY_TASK_STEP", fix);
    if (step !== 1) throw badShard("auto", `the array's step is ${step} (SLURM_ARRAY_TASK_STEP), so its ids are not consecutive`, fix);
    return checkedShard(id - min, count, `auto: SLURM_ARRAY_TASK_ID ${id} - SLURM_ARRAY_TASK_MIN ${min} of ${count}`);
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    const fix = `Set ${SHARD_COUNT_ENV} to the Job's completions in its pod template (deploy/k8s/prepare-job.yaml does), or pass i/n`;
    const index = envNumber(env, "JOB_COMPLETION_INDEX", fix);
    return checkedShard(index, envNumber(env, SHARD_COUNT_ENV, fix), `auto: JOB_COMPLETION_INDEX ${index} of ${env[SHARD_COUNT_ENV]}`);
  }
  throw badShard(
    "auto",
    "neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set",
    "Run it inside a Slurm job array or a Kubernetes Indexed Job, or pass i/n",
  );
}

/** The shard of `count` that the item with path `key` belongs to. */
export function shardOfKey(key: string, count: number): number {
  return createHash("sha256").update(key, "utf8").digest().readUIntBE(0, 6) % count;
}

/** The items of `shard`, each with its position among all `items`, in order. */
export function itemsOfShard<T>(items: readonly T[], shard: ShardSpec, keyOf: (item: T) => string): { item: T; position: number }[] {
  const mine: { item: T; position: number }[] = [];
  items.forEach((item, position) => {
    if (shardOfKey(keyOf(item), shard.count) === shard.index) mine.push({ item, position });
  });
  return mine;
}

export const shardName = ({ index, count }: ShardSpec) => `${index}/${count}`;
