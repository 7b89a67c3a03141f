/**
 * What every run command (pretrain, finetune, multitask, study) prints first on stderr: its
 * effective config on one line, and the file in its output folder that keeps it.
 */
import type { OnConfig } from "../config-schema.js";

export function printConfig(command: string, stderr: NodeJS.WritableStream): OnConfig {
  return (config, file) => stderr.write(`${command}: config ${JSON.stringify(config)} (saved in ${file})\n`);
}
