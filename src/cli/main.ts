#!/usr/bin/env node
/**
 * The `faceprior` program. jax-js sizes its wasm thread pool when its module is first evaluated,
 * so this file reads the global options first, installs the Node shims with `--threads`, and
 * only then imports the commands (and with them jax-js). Static imports here stay light.
 */
import { readFile } from "node:fs/promises";
import { installNodeShims } from "../engine/node-shims.js";
import { GLOBAL_OPTIONS, type Command, type CommandContext, type GlobalValues } from "./command.js";
import { EXIT_OK, exitOnClosedOutput, exitOnInterrupt, exitSoon, reportError, usageError } from "./errors.js";
import { commandHelp, programHelp } from "./help.js";
import { editDistance, inFlagTerms, parseLeading, parseOptions } from "./options.js";

/** From the nearest package.json above this file: the package's (dist/src/cli) or the GPU bundle's. */
async function version(): Promise<string> {
  for (let dir = new URL(".", import.meta.url); ; dir = new URL("..", dir)) {
    const text = await readFile(new URL("package.json", dir), "utf8").catch(() => null);
    if (text !== null) return (JSON.parse(text) as { version: string }).version;
    if (dir.pathname === "/") throw new Error("faceprior: no package.json above the program");
  }
}

function findCommand(commands: readonly Command[], name: string): Command {
  const command = commands.find((c) => c.name === name);
  if (command) return command;
  const names = commands.map((c) => c.name);
  const close = names.find((n) => editDistance(n, name) <= 2);
  throw usageError(`"${name}" is not a faceprior command.${close ? ` Did you mean ${close}?` : ""} Use one of: ${names.join(", ")}.`);
}

function checkInputs(command: Command, inputs: string[]): void {
  if (!command.inputs) {
    if (inputs.length > 0)
      throw usageError(
        `"faceprior ${command.name}" takes no arguments, got ${inputs.map((i) => `"${i}"`).join(" ")}. Pass them as options; see --help.`,
      );
    return;
  }
  const { name, min, variadic } = command.inputs;
  if (inputs.length < min)
    throw usageError(`<${name}${variadic ? "..." : ""}>: missing. Run "faceprior ${command.name} --help" for usage.`);
  if (!variadic && inputs.length > 1) {
    throw usageError(`<${name}>: "faceprior ${command.name}" takes one, got ${inputs.length} (${inputs.map((i) => `"${i}"`).join(" ")}).`);
  }
}

async function main(argv: string[]): Promise<number> {
  const leading = parseLeading(argv, GLOBAL_OPTIONS);
  if (leading.values.version) {
    process.stdout.write(`faceprior ${await version()}\n`);
    return EXIT_OK;
  }
  installNodeShims(leading.values.threads);
  const { COMMANDS } = await import("./registry.js");
  if (leading.first < 0) {
    process.stdout.write(programHelp(COMMANDS));
    return EXIT_OK;
  }
  const command = findCommand(COMMANDS, argv[leading.first]!);
  if (leading.values.help) {
    process.stdout.write(commandHelp(command));
    return EXIT_OK;
  }
  const rest = argv.filter((_, i) => i !== leading.first);
  const table = { ...GLOBAL_OPTIONS, ...command.options };
  const { values, positionals } = parseOptions(rest, table, `faceprior ${command.name}`);
  checkInputs(command, positionals);
  const globals = Object.fromEntries(Object.keys(GLOBAL_OPTIONS).map((k) => [k, (values as Record<string, unknown>)[k]])) as GlobalValues;
  const ctx: CommandContext = {
    globals,
    stdout: process.stdout,
    stderr: process.stderr,
    async startEngine() {
      const { startEngine } = await import("../engine/engine.js");
      return startEngine({ device: globals.device, threads: globals.threads });
    },
  };
  try {
    return (await command.run(values, positionals, ctx)) ?? EXIT_OK;
  } catch (error) {
    throw inFlagTerms(error, table);
  }
}

exitOnInterrupt();
exitOnClosedOutput();
const debug = process.argv.includes("--debug");
main(process.argv.slice(2)).then(exitSoon, (error: unknown) => exitSoon(reportError(error, debug)));
