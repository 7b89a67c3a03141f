/**
 * `--help` text, generated from the command table and the option tables, so help and
 * validation never disagree. It reads like a Unix tool: usage line, purpose, aligned options
 * with their valid values and defaults, examples.
 */
import { GLOBAL_OPTIONS, type Command } from "./command.js";
import { flagName, placeholderOf, type OptionSpec, type OptionTable } from "./options.js";

const PURPOSE = "faceprior: general face representation learning with face-prior knowledge, a ViT encoder on jax-js.";

const WIDTH = 100;

/** Greedy word wrap to `width` columns. */
function wrap(text: string, width = WIDTH): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/** Two aligned columns; a long right column wraps under itself. */
export function columns(rows: [string, string][], indent = 2): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  const hang = indent + width + 3;
  return rows.flatMap(([left, right]) => {
    const [first, ...more] = wrap(right, Math.max(40, WIDTH - hang));
    return [`${" ".repeat(indent)}${left.padEnd(width)}   ${first}`.trimEnd(), ...more.map((l) => " ".repeat(hang) + l)];
  });
}

function describe(key: string, spec: OptionSpec): [string, string] {
  const short = spec.short ? `-${spec.short}, ` : "";
  const left = `${short}${flagName(key)}${spec.type === "flag" ? "" : ` ${placeholderOf(key, spec)}`}`;
  const extras: string[] = [];
  if (spec.type === "choice" && spec.placeholder) extras.push(`one of: ${spec.choices.join(", ")}`); // else the placeholder lists them
  if ("required" in spec && spec.required) extras.push("required");
  const shownDefault = spec.defaultText ?? ("default" in spec && spec.default !== undefined ? String(spec.default) : undefined);
  if (shownDefault !== undefined) extras.push(`default: ${shownDefault}`);
  return [left, extras.length > 0 ? `${spec.description} (${extras.join("; ")})` : spec.description];
}

function optionLines(table: OptionTable): string[] {
  return columns(Object.entries(table).map(([key, spec]) => describe(key, spec)));
}

function inputsUsage(command: Command): string {
  if (!command.inputs) return "";
  const { name, min, variadic } = command.inputs;
  const shown = `<${name}${variadic ? "..." : ""}>`;
  return min === 0 ? `[${shown}]` : shown;
}

export function programHelp(commands: readonly Command[]): string {
  return [
    "Usage: faceprior [global options] <command> [options] <inputs...>",
    "",
    PURPOSE,
    "With no arguments, prints this help. Run `faceprior <command> --help` for a command's options.",
    "",
    "Commands:",
    ...columns(commands.map((c) => [c.name, c.summary])),
    "",
    "Global options (before or after the command):",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    "Examples:",
    ...commands.flatMap((c) => c.examples.slice(0, 1)).map((e) => `  ${e}`),
    "",
  ].join("\n");
}

export function commandHelp(command: Command): string {
  const hasOptions = Object.keys(command.options).length > 0;
  return [
    `Usage: faceprior ${command.name}${hasOptions ? " [options]" : ""} ${inputsUsage(command)}`.trimEnd(),
    "",
    command.summary,
    ...(command.details ?? []).flatMap((p) => ["", ...wrap(p)]),
    ...(command.inputs ? ["", "Arguments:", ...columns([[inputsUsage(command), command.inputs.description]])] : []),
    ...(hasOptions ? ["", "Options:", ...optionLines(command.options)] : []),
    "",
    `Global options: ${Object.keys(GLOBAL_OPTIONS).map(flagName).join(", ")} (see faceprior --help).`,
    "",
    "Examples:",
    ...command.examples.map((e) => `  ${e}`),
    "",
  ].join("\n");
}
