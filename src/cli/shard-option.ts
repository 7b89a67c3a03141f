/**
 * The --shard option of the commands whose work spreads over machines (prepare, embed, analyze,
 * finetune), read in one place: `i/n`, or `auto` for the index a Slurm array or a Kubernetes
 * Indexed Job gives the process in its environment (src/shard/shard-spec.ts).
 */
import { parseShard, type ShardSpec } from "../shard/shard-spec.js";

/** The option's table entry; `action` leads its help, e.g. "Prepare only". */
export const shardOption = (action: string) =>
  ({
    type: "string",
    placeholder: "i/n|auto",
    description: `${action} shard i of n (counted from 0); auto: i and n from a Slurm array or a Kubernetes Indexed Job.`,
  }) as const;

/** The shard a --shard value names, or null without one. */
export const shardFrom = (value: string | undefined): ShardSpec | null => (value === undefined ? null : parseShard(value, process.env));
