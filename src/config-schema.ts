/**
 * Parsing configs (flags, JSON files) with zod at the boundary: one error for all bad fields,
 * each named with its value and the rule it breaks.
 */
import type { z } from "zod";
import { FacepriorError } from "./errors.js";

/** The config every default makes, for help texts that must say what a run will use. */
export function schemaDefaults<S extends z.ZodType>(schema: S): z.output<S> {
  return schema.parse({});
}

export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, source: string): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map(({ code, path, message, input: got }) => {
    const shown = code === "unrecognized_keys" || got === undefined ? "" : ` (got ${JSON.stringify(got)})`;
    return `${path.join(".") || "(root)"}: ${message}${shown}`;
  });
  throw new FacepriorError("BAD_CONFIG", `${source}: ${problems.join("; ")}. Fix these fields or leave them out for the defaults.`);
}
