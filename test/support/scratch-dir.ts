/** Scratch folders for tests: removed when the test file's process exits, whether its tests pass or fail. */
import { makeTempDir } from "../../src/io/exit-cleanup.js";

/** A new folder `<tmp>/<prefix>XXXXXX`. */
export async function scratchDir(prefix: string): Promise<string> {
  return (await makeTempDir(prefix)).path;
}
