/** JSON-lines logs of long work: one record a line, appended in order, each stamped with its time. */
import { mkdir, open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";

export type JsonlLog = {
  /** Appends one record as a line of JSON, with `time` (ISO 8601) first. */
  write(record: Record<string, unknown>): void;
  /** Waits for pending writes and closes the file; rethrows a failed write. */
  close(): Promise<void>;
};

/** Opens `path` for appending JSON lines (creating its folder); writes keep their order. */
export async function openJsonlLog(path: string): Promise<JsonlLog> {
  await mkdir(dirname(path), { recursive: true });
  const handle: FileHandle = await open(path, "a");
  let pending: Promise<unknown> = Promise.resolve();
  let failure: unknown = null;
  return {
    write(record) {
      const line = JSON.stringify({ time: new Date().toISOString(), ...record }) + "\n";
      pending = pending.then(() => handle.appendFile(line)).catch((error) => (failure ??= error));
    },
    async close() {
      await pending;
      await handle.close();
      if (failure) throw failure;
    },
  };
}
