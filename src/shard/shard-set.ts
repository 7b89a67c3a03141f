/**
 * What `faceprior merge` checks of a set of shard folders before it joins them, whatever they
 * hold: one folder per shard of one split (same count, no index twice, none missing), made with
 * the same settings, from the same inputs (the manifest, or the list of images). Each kind of
 * shard says what its settings and inputs are; the checks and their errors are shared.
 */
import { FacepriorError } from "../errors.js";
import { shardName, type ShardSpec } from "./shard-spec.js";

export type ShardMember = {
  dir: string;
  shard: ShardSpec;
  /** What decides the output, by name; every shard must have the same. */
  settings: Record<string, unknown>;
  /** A fingerprint of the whole input list; every shard must have the same. */
  inputs: string;
  /** The inputs in words, for the error when they differ. */
  inputsShown: string;
};

/** How errors word the kind: the command that writes such shards, and what its inputs are called. */
export type ShardKindWords = { command: string; inputs: string };

const named = (m: ShardMember) => `${m.dir} (shard ${shardName(m.shard)})`;

function refuse(message: string): FacepriorError {
  return new FacepriorError("BAD_SHARDS", message);
}

function checkCounts(members: ShardMember[]): void {
  const [first] = members;
  const other = members.find((m) => m.shard.count !== first!.shard.count);
  if (!other) return;
  throw refuse(
    `${named(other)} and ${named(first!)} come from runs split ${other.shard.count} and ${first!.shard.count} ways. Pass the shards of one run.`,
  );
}

function checkDuplicates(members: ShardMember[]): void {
  const seen = new Map<number, ShardMember>();
  for (const m of members) {
    const before = seen.get(m.shard.index);
    if (before) throw refuse(`${m.dir}: is shard ${shardName(m.shard)}, and so is ${before.dir}. Pass each shard's folder once.`);
    seen.set(m.shard.index, m);
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The settings that differ, down to the nested key, as `name value against value`. */
function settingDifferences(a: Record<string, unknown>, b: Record<string, unknown>, prefix = ""): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.flatMap((k) => {
    const [x, y] = [a[k], b[k]];
    if (isRecord(x) && isRecord(y)) return settingDifferences(x, y, `${prefix}${k}.`);
    return JSON.stringify(x) === JSON.stringify(y)
      ? []
      : [`${prefix}${k} ${JSON.stringify(x) ?? "unset"} against ${JSON.stringify(y) ?? "unset"}`];
  });
}

function checkAgreement(members: ShardMember[], words: ShardKindWords): void {
  const [first] = members;
  for (const m of members) {
    const differences = settingDifferences(m.settings, first!.settings);
    if (differences.length > 0) {
      throw refuse(
        `${named(m)} was made with other settings than ${named(first!)}: ${differences.join("; ")}. Run that shard again, into an empty folder, with the same options as the others.`,
      );
    }
    if (m.inputs !== first!.inputs) {
      throw refuse(
        `${named(m)} is from another ${words.inputs} than ${named(first!)}: ${m.inputsShown} against ${first!.inputsShown}. ` +
          `Every shard must read the same ${words.inputs}: pass the shards of one run, or run that shard again on the same data.`,
      );
    }
  }
}

function checkNoneMissing(members: ShardMember[], words: ShardKindWords): void {
  const count = members[0]!.shard.count;
  const present = new Set(members.map((m) => m.shard.index));
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !present.has(i));
  if (missing.length === 0) return;
  const shown =
    missing
      .slice(0, 10)
      .map((i) => `${i}/${count}`)
      .join(", ") + (missing.length > 10 ? `, ... (${missing.length} in all)` : "");
  throw refuse(
    `shard ${shown} ${missing.length === 1 ? "is" : "are"} missing: got ${present.size} of ${count} shard folders. ` +
      `Pass every shard's folder; a shard that has not run (${words.command} shard ${missing[0]}/${count}) needs to run first.`,
  );
}

/** Throws a BAD_SHARDS error naming the folder and the problem unless `members` are one whole, consistent set. */
export function checkShardSet(members: ShardMember[], words: ShardKindWords): void {
  if (members.length === 0) throw refuse("no shard folders given. Pass the folders the shards wrote.");
  checkCounts(members);
  checkDuplicates(members);
  checkAgreement(members, words);
  checkNoneMissing(members, words);
}
