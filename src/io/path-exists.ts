/** Whether anything can be reached at `path` (a missing file, or a folder on the way, is false). */
import { access } from "node:fs/promises";

export function pathExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
