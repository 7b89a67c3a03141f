/**
 * Parsing configs (flags, JSON files, options of a library call) with zod at the boundary: one
 * error for all bad fields, each named with its value and the rule it breaks.
 */
import { z } from "zod";
import { FacepriorError } from "./errors.js";
import { writeJsonAtomic } from "./io/atomic-write.js";
import { readJsonFileIfExists } from "./io/json-file.js";

/** The config every default makes, for help texts that must say what a run will use. */
export function schemaDefaults<S extends z.ZodType>(schema: S): z.output<S> {
  return schema.parse({});
}

const withoutDefault = (field: z.ZodType): z.ZodType => (field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : field);

/**
 * `schema`'s fields, each optional and without its default, for overrides of defaults that depend
 * on the run (a probe's training defaults are not a fine-tune's). Valid overrides come out as
 * given, keys in their order, so that the run fills the rest and a saved config reads as written.
 */
export function overridesOf<S extends z.ZodObject>(schema: S): z.ZodType<Partial<z.output<S>>, Partial<z.input<S>>> {
  const fields = Object.entries(schema.shape).map(([key, field]) => [key, withoutDefault(field as z.ZodType).optional()]);
  const check = z.strictObject(Object.fromEntries(fields));
  const kept = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
    const result = check.safeParse(value, { reportInput: true });
    for (const issue of result.error?.issues ?? []) ctx.addIssue({ ...issue });
  });
  return kept as unknown as z.ZodType<Partial<z.output<S>>, Partial<z.input<S>>>;
}

function problemsOf(error: z.ZodError): string {
  return error.issues
    .map(({ code, path, message, input: got }) => {
      const shown = code === "unrecognized_keys" || got === undefined ? "" : ` (got ${JSON.stringify(got)})`;
      return `${path.join(".") || "(root)"}: ${message}${shown}`;
    })
    .join("; ");
}

export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, source: string): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  throw new FacepriorError("BAD_CONFIG", `${source}: ${problemsOf(result.error)}. Fix these fields or leave them out for the defaults.`);
}

/**
 * Options of a library call, parsed: a BAD_ARGUMENT that starts with the first bad option's name,
 * which is also its `option`, so that the CLI can show it as the flag that set it.
 */
export function parseArguments<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const option = result.error.issues[0]!.path.join(".");
  throw new FacepriorError("BAD_ARGUMENT", `${problemsOf(result.error)}.`, { option });
}

/** A JSON config file, parsed; `option` is the argument that named it (`config`, `recipe`). */
export async function readConfigFile<S extends z.ZodType>(schema: S, path: string, option: string): Promise<z.output<S>> {
  const input = await readJsonFileIfExists(path, { code: "BAD_CONFIG", fix: "Fix the file." });
  if (input === undefined) throw new FacepriorError("BAD_ARGUMENT", `${option} ${path}: no such file.`, { option });
  return parseConfig(schema, input, path);
}

/** Told a run's effective config (defaults filled, derived values computed) and the file keeping it. */
export type OnConfig = (config: object, file: string) => void;

/** Saves a run's effective config in its folder (`config.json`; a study's `study.json`) and tells `onConfig`. */
export async function saveRunConfig(file: string, config: object, onConfig?: OnConfig): Promise<void> {
  await writeJsonAtomic(file, config);
  onConfig?.(config, file);
}
