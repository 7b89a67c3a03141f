/**
 * What a command is: a name, a one-line summary, its arguments and option table, and `run`.
 * `commands/<name>.ts` each export one, made with `defineCommand`; help and parsing read them.
 */
import type { EngineInfo } from "../engine/engine.js";
import { ENGINE_DEVICES } from "../engine/devices.js";
import { defaultThreads } from "../engine/node-shims.js";
import type { OptionTable, OptionValues } from "./options.js";

/** Options every command takes. Nothing here may load jax-js: the CLI sizes its thread pool first. */
export const GLOBAL_OPTIONS = {
  device: {
    type: "choice",
    choices: ENGINE_DEVICES,
    default: "wasm",
    placeholder: "name",
    description: "Compute backend: wasm (CPU) or webgpu.",
  },
  threads: { type: "int", min: 1, max: 64, default: defaultThreads(), description: "wasm worker threads; 1 runs on the main thread." },
  seed: { type: "int", min: 0, default: 0, description: "Random seed for commands that sample." },
  debug: { type: "flag", description: "Print stack traces with errors." },
  help: { type: "flag", short: "h", description: "Print help (after a command: that command's help)." },
  version: { type: "flag", description: "Print faceprior's version." },
} as const satisfies OptionTable;

export type GlobalValues = OptionValues<typeof GLOBAL_OPTIONS>;

export type CommandContext = {
  globals: GlobalValues;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
  /** Starts jax-js on `--device`; commands that only read files never call it. */
  startEngine(): Promise<EngineInfo>;
};

export type Command<T extends OptionTable = OptionTable> = {
  name: string;
  /** One line, shown in `faceprior --help`. */
  summary: string;
  /** Paragraphs shown in the command's own help. */
  details?: string[];
  /** The positional inputs, e.g. `{ name: "images", description, min: 1, variadic: true }`; none if absent. */
  inputs?: { name: string; description: string; min: number; variadic: boolean };
  options: T;
  examples: string[];
  /** Resolves to the exit status when it is not 0 (work done, but some inputs failed). */
  run(options: OptionValues<T>, inputs: string[], ctx: CommandContext): Promise<void | number>;
};

/** Identity, for type inference of the option table. */
export function defineCommand<const T extends OptionTable>(command: Command<T>): Command<T> {
  return command;
}
