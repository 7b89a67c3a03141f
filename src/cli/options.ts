/**
 * Option tables and argv parsing. A command declares its options once, as data; parsing,
 * validation and `--help` all read that table. Keys are camelCase, flags their kebab form
 * (`skipBad` is `--skip-bad`). argv is split with node:util parseArgs, then each value is
 * checked here so that a bad one is quoted back with the valid choices.
 */
import { parseArgs } from "node:util";
import { FacepriorError } from "../errors.js";
import { usageError } from "./errors.js";

type Described = {
  description: string;
  /** Shown in help as `--flag <placeholder>`. */
  placeholder?: string;
  short?: string;
  /** Help text for a default that is not a constant ("the checkpoint's"). */
  defaultText?: string;
};

export type OptionSpec = Described &
  (
    | { type: "flag" }
    | { type: "string"; required?: boolean; default?: string; allowEmpty?: boolean }
    | { type: "choice"; choices: readonly string[]; required?: boolean; default?: string }
    | { type: "int"; min: number; max?: number; required?: boolean; default?: number }
    | { type: "number"; min: number; max: number; required?: boolean; default?: number }
    | { type: "numbers"; count: number; required?: boolean; positive?: boolean; default?: readonly number[] }
    /**
     * Where results go: `--flag <file>`, or standard output with `--flag -` or the flag alone.
     * A following argument is its value only when it is "-" or ends in one of `suffixes`, so
     * `--json photos/` leaves photos/ an input.
     */
    | { type: "output"; suffixes: readonly string[] }
  );

export type OptionTable = Record<string, OptionSpec>;

/** The value of an output option that means standard output. */
export const STDOUT = "-";

type Base<S> = S extends { type: "int" | "number" }
  ? number
  : S extends { type: "numbers" }
    ? number[]
    : S extends { type: "choice"; choices: readonly (infer C)[] }
      ? C
      : string;
type Always<S> = S extends { default: unknown } ? true : S extends { required: true } ? true : false;
export type OptionValue<S> = S extends { type: "flag" } ? boolean : Always<S> extends true ? Base<S> : Base<S> | undefined;
export type OptionValues<T extends OptionTable> = { -readonly [K in keyof T]: OptionValue<T[K]> };

/** The options given on the command line, for configs that flags override field by field. */
export const givenValues = <T extends object>(values: T): Partial<T> =>
  Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;

export const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
/**
 * `error` in the command line's terms: a library error about one option starts with its API name
 * (`FacepriorError.option`), which becomes the flag that set it, `imgSize` `--img-size`; an option
 * path names the flag of its last part, multitask's `data.age` `--age`. Other errors pass as they are.
 */
export function inFlagTerms(error: unknown, table: OptionTable): unknown {
  if (!(error instanceof FacepriorError) || !error.option) return error;
  const { option, message } = error;
  const rest = message.slice(option.length);
  const key = [option, option.split(".").at(-1)!].find((name) => Object.hasOwn(table, name));
  if (!message.startsWith(option) || /^[\w.]/.test(rest) || key === undefined) return error;
  const renamed = new FacepriorError(error.code, flagName(key) + rest, { cause: error.cause, option });
  renamed.stack = error.stack;
  return renamed;
}

const keyOf = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

type Token = ReturnType<typeof parseArgs>["tokens"] extends (infer T)[] | undefined ? T : never;

function tokenize(argv: string[], table: OptionTable): Token[] {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [key, spec] of Object.entries(table)) {
    // An output option's value is taken in collect(): parseArgs would take any next argument.
    const type = spec.type === "flag" || spec.type === "output" ? "boolean" : "string";
    options[flagName(key).slice(2)] = { type, ...(spec.short ? { short: spec.short } : {}) };
  }
  return parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true }).tokens;
}

/** The string values given for known options, last one winning; unknown options are returned. */
function collect(tokens: Token[], table: OptionTable): { raw: Record<string, string | true>; unknown: string[]; positionals: string[] } {
  const raw: Record<string, string | true> = {};
  const unknown: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const key = keyOf(token.name);
    const spec = table[key];
    if (!spec) {
      unknown.push(token.rawName);
      continue;
    }
    if (spec.type === "output") {
      const next = tokens[i + 1];
      const taken = !token.inlineValue && next?.kind === "positional" && isOutputValue(next.value, spec.suffixes);
      raw[key] = token.inlineValue ? token.value! : taken ? next.value : STDOUT;
      if (taken) i++;
    } else if (spec.type === "flag") {
      if (token.inlineValue) throw usageError(`${token.rawName}: takes no value, got "${token.value}". Write ${token.rawName} alone.`);
      raw[key] = true;
    } else {
      if (token.value === undefined)
        throw usageError(`${token.rawName}: needs a value${spec.placeholder ? ` ${placeholderOf(key, spec)}` : ""}.`);
      raw[key] = token.value;
    }
  }
  return { raw, unknown, positionals };
}

const isOutputValue = (value: string, suffixes: readonly string[]) =>
  value === STDOUT || suffixes.some((suffix) => value.toLowerCase().endsWith(suffix));

export function placeholderOf(key: string, spec: OptionSpec): string {
  if (spec.type === "output") return `[<file>|${STDOUT}]`;
  if (spec.placeholder) return `<${spec.placeholder}>`;
  if (spec.type === "int" || spec.type === "number") return "<n>";
  if (spec.type === "choice") return `<${spec.choices.join("|")}>`;
  if (spec.type === "numbers") return `<${Array.from({ length: spec.count }, (_, i) => `v${i + 1}`).join(",")}>`;
  return `<${key.toLowerCase()}>`;
}

/** Output files have their own endings, so that one can never replace an image a folder walk found. */
function outputValue(flag: string, suffixes: readonly string[], value: string): string {
  if (isOutputValue(value, suffixes)) return value;
  throw usageError(
    `${flag}: "${value}" is neither a file name ending in ${suffixes.join(", ")} nor ${STDOUT} (standard output). Pass e.g. ${flag} results${suffixes[0]}.`,
  );
}

function convert(key: string, spec: OptionSpec, value: string | true | undefined): unknown {
  const flag = flagName(key);
  if (spec.type === "flag") return value === true;
  if (spec.type === "output") return value === undefined ? undefined : outputValue(flag, spec.suffixes, String(value));
  if (value === undefined || value === true) {
    if ("required" in spec && spec.required) throw usageError(`${flag}: is required. Pass ${flag} ${placeholderOf(key, spec)}.`);
    return spec.default;
  }
  switch (spec.type) {
    case "string":
      if (value === "" && !spec.allowEmpty) throw usageError(`${flag}: is empty. Pass a value.`);
      return value;
    case "choice":
      if (!spec.choices.includes(value))
        throw usageError(`${flag}: "${value}" is not one of the choices. Use one of: ${spec.choices.join(", ")}.`);
      return value;
    case "int": {
      const n = Number(value);
      const range = spec.max === undefined ? `at least ${spec.min}` : `from ${spec.min} to ${spec.max}`;
      if (!/^-?\d+$/.test(value) || n < spec.min || (spec.max !== undefined && n > spec.max)) {
        throw usageError(`${flag}: "${value}" is not a whole number ${range}. Pass one, e.g. ${flag} ${spec.default ?? spec.min}.`);
      }
      return n;
    }
    case "number": {
      const n = Number(value);
      if (value.trim() === "" || !Number.isFinite(n) || n < spec.min || n > spec.max) {
        throw usageError(
          `${flag}: "${value}" is not a number from ${spec.min} to ${spec.max}. Pass one, e.g. ${flag} ${spec.default ?? spec.min}.`,
        );
      }
      return n;
    }
    case "numbers": {
      const parts = value.split(",").map((p) => p.trim());
      const numbers = parts.map(Number);
      if (
        parts.length !== spec.count ||
        parts.some((p) => p === "") ||
        !numbers.every(Number.isFinite) ||
        (spec.positive && numbers.some((v) => v <= 0))
      ) {
        throw usageError(
          `${flag}: "${value}" is not ${spec.count} comma-separated ${spec.positive ? "positive " : ""}numbers. Write e.g. ${flag} ${Array(spec.count).fill("0.5").join(",")}.`,
        );
      }
      return numbers;
    }
  }
}

function suggestFlag(given: string, table: OptionTable): string {
  const name = given.replace(/^-+/, "").split("=")[0]!;
  const flags = Object.keys(table).map(flagName);
  const close = flags.find((f) => f.slice(2).startsWith(name) || name.startsWith(f.slice(2)) || editDistance(f.slice(2), name) <= 2);
  return close ? ` Did you mean ${close}?` : "";
}

export function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

export type Parsed<T extends OptionTable> = { values: OptionValues<T>; positionals: string[] };

/**
 * Strict parse against `table`: unknown options, missing values and bad values are usage errors
 * (exit 2) naming the flag. `context` names the command in messages.
 */
export function parseOptions<T extends OptionTable>(argv: string[], table: T, context: string): Parsed<T> {
  const { raw, unknown, positionals } = collect(tokenize(argv, table), table);
  if (unknown.length > 0) {
    throw usageError(
      `${unknown[0]}: not an option of ${context}.${suggestFlag(unknown[0]!, table)} Run "${context} --help" for the options.`,
    );
  }
  // Values given are checked before required ones are missed: a typo is the likelier mistake.
  const entries = Object.entries(table);
  const given = entries.filter(([key]) => raw[key] !== undefined).map(([key, spec]) => [key, convert(key, spec, raw[key])]);
  const rest = entries.filter(([key]) => raw[key] === undefined).map(([key, spec]) => [key, convert(key, spec, undefined)]);
  return { values: Object.fromEntries([...given, ...rest]) as OptionValues<T>, positionals };
}

/**
 * Lenient first pass: values of the options in `table` wherever they appear, plus the first
 * positional (the command). An unknown option before that positional is a usage error, since
 * command options come after the command.
 */
export function parseLeading<T extends OptionTable>(argv: string[], table: T): Parsed<T> & { first: number } {
  const tokens = tokenize(argv, table);
  const firstToken = tokens.find((t) => t.kind === "positional");
  const first = firstToken?.index ?? -1;
  const before = firstToken ? tokens.filter((t) => t.index < first) : tokens;
  const stray = before.find((t) => t.kind === "option" && !table[keyOf(t.name)]);
  if (stray && stray.kind === "option") {
    throw usageError(
      `${stray.rawName}: not a global option.${suggestFlag(stray.rawName, table)} Command options go after the command: faceprior <command> ${stray.rawName} ...`,
    );
  }
  const { raw, positionals } = collect(tokens, table);
  const values = Object.fromEntries(Object.entries(table).map(([key, spec]) => [key, convert(key, spec, raw[key])]));
  return { values: values as OptionValues<T>, positionals, first };
}
