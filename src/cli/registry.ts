/**
 * The commands, in help order. main.ts imports this only after sizing the jax-js thread pool,
 * so a command may import the engine and model code statically.
 */
import type { Command } from "./command.js";
import { addHeadCommand } from "./commands/add-head.js";
import { analyze } from "./commands/analyze.js";
import { convert } from "./commands/convert.js";
import { demo } from "./commands/demo.js";
import { doctor } from "./commands/doctor.js";
import { embed } from "./commands/embed.js";
import { exportOnnx } from "./commands/export.js";
import { info } from "./commands/info.js";
import { merge } from "./commands/merge.js";
import { finetune } from "./commands/finetune.js";
import { multitask } from "./commands/multitask.js";
import { prepare } from "./commands/prepare.js";
import { pack } from "./commands/pack.js";
import { pretrain } from "./commands/pretrain.js";
import { study } from "./commands/study.js";

export const COMMANDS: readonly Command[] = [
  analyze,
  addHeadCommand,
  info,
  embed,
  convert,
  exportOnnx,
  demo,
  prepare,
  merge,
  pretrain,
  finetune,
  multitask,
  study,
  pack,
  doctor,
];
