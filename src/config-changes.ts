/**
 * How two configs differ, key by key: a checkpoint, a finished run or a study cell is reused only
 * under the config that made it, and when it is not, the message lists what changed.
 */

/** A config as `key.path` → its JSON, for comparing two configs key by key. */
function flatConfig(value: unknown, prefix = ""): Record<string, string> {
  if (value === null || typeof value !== "object") return { [prefix]: JSON.stringify(value) };
  return Object.assign({}, ...Object.entries(value).map(([k, v]) => flatConfig(v, prefix ? `${prefix}.${k}` : k)));
}

/** Each key whose value differs, as "key saved -> now" ("(unset)" where one lacks it); keys in `ignored` are skipped. */
export function configChanges(saved: unknown, now: unknown, ignored: ReadonlySet<string> = new Set()): string[] {
  const [before, after] = [flatConfig(saved), flatConfig(now)];
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((key) => !ignored.has(key) && before[key] !== after[key])
    .map((key) => `${key} ${before[key] ?? "(unset)"} -> ${after[key] ?? "(unset)"}`);
}
